package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/store"
)

// exitDamaged is the exit code for a damaged store (2 stays invalid input).
const exitDamaged = 3

// stateFlags are the flags of the commands that use the store.
type stateFlags struct {
	path        string
	wait        time.Duration
	commitEvery int
}

// stateEnv names the environment variable that sets the store's default path.
const stateEnv = "KGRUN_STATE"

func (s *stateFlags) register(fs *flag.FlagSet, writes bool) {
	fs.StringVar(&s.path, "state", os.Getenv(stateEnv), "keep runs, breakers and caches in the store at `PATH`, or none (default $"+stateEnv+", else $XDG_STATE_HOME/kgrun/state.db or ~/.local/state/kgrun/state.db)")
	fs.DurationVar(&s.wait, "state-wait", store.DefaultWait, "wait up to `DURATION` for another kgrun process's write to the store to end")
	if writes {
		fs.IntVar(&s.commitEvery, "commit-every", 1, "write the journal every `N` visits in one transaction (a crash may redo up to N-1 visits)")
	}
}

func (s *stateFlags) enabled() bool { return s.path != "none" }

// open opens the store: the one --state or $KGRUN_STATE names, else the user's default.
func (s *stateFlags) open(readOnly bool) (*store.SQLite, error) {
	if s.commitEvery < 1 && !readOnly {
		return nil, fmt.Errorf("--commit-every must be at least 1")
	}
	path := s.path
	if path == "" {
		var err error
		if path, err = store.DefaultPath(); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(path, store.Options{ReadOnly: readOnly, Wait: s.wait})
	if readOnly && errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no store at %s: runs are recorded there when kgrun runs a workflow (or name another with --state PATH)", path)
	}
	return st, err
}

// storeError reports a command's failure: exit 3 when the store is damaged, else 2.
func storeError(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "kgrun %s: %s\n", cmd, termText(err.Error()))
	if errors.Is(err, store.ErrDamaged) {
		return exitDamaged
	}
	return exitUsage
}

// runner returns the durable runner the CLI uses, carrying the collector's cache.
func (s *stateFlags) runner(db store.Store, cache *builtin.Cache) *durable.Runner {
	return &durable.Runner{Store: db, CommitEvery: s.commitEvery, Carry: map[string]durable.Carrier{"cache": cacheCarrier{cache}}}
}

// cacheCarrier carries the built-in collector's cache between real runs.
type cacheCarrier struct{ c *builtin.Cache }

func (c cacheCarrier) Export() any { return c.c.Export() }

func (c cacheCarrier) Import(data json.RawMessage) error {
	var batches map[string]builtin.CachedBatch
	if err := json.Unmarshal(data, &batches); err != nil {
		return err
	}
	c.c.Import(batches)
	return nil
}

// parseClockStart reads --clock-start; "" is the virtual clock's usual start.
func parseClockStart(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--clock-start takes an RFC 3339 time such as 2025-01-01T00:00:30Z, not %q", v)
	}
	return t, nil
}
