package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
	"github.com/kgrun/kgrun/store"
)

// stateFlags are the flags of the commands that use the store.
type stateFlags struct {
	path        string
	wait        time.Duration
	commitEvery int
}

// stateEnv names the environment variable that sets the store's default path.
const stateEnv = "KGRUN_STATE"

func (s *stateFlags) register(fs *flag.FlagSet, writes bool) {
	def := os.Getenv(stateEnv)
	if def == "" {
		def = store.DefaultPath
	}
	fs.StringVar(&s.path, "state", def, "keep runs, breakers and caches in the store at `PATH`, or none ($"+stateEnv+" sets the default)")
	fs.DurationVar(&s.wait, "state-wait", 2*time.Second, "wait up to `DURATION` for another kgrun process to release the store")
	if writes {
		fs.IntVar(&s.commitEvery, "commit-every", 1, "write the journal every `N` visits in one transaction (a crash may redo up to N-1 visits)")
	}
}

func (s *stateFlags) enabled() bool { return s.path != "none" && s.path != "" }

func (s *stateFlags) open(readOnly bool) (*store.Bolt, error) {
	if s.commitEvery < 1 && !readOnly {
		return nil, fmt.Errorf("--commit-every must be at least 1")
	}
	st, err := store.Open(s.path, store.Options{ReadOnly: readOnly, Wait: s.wait})
	if readOnly && errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no store at %s: runs are recorded there when kgrun runs a workflow (or name another with --state PATH)", s.path)
	}
	return st, err
}

// stateDomain separates what virtual-time runs persist from what real-time runs do:
// their clocks cannot be compared.
func stateDomain(virtual bool) string {
	if virtual {
		return "virtual"
	}
	return "real"
}

func breakerKey(domain, workflow, name string) string {
	return "breaker/" + domain + "/" + workflow + "/" + name
}

func cacheKey(domain, workflow string) string { return "cache/" + domain + "/" + workflow }

const virtualClockKey = "clock/virtual"

// persisted is what a run carries over between processes: its breakers and the
// collector's cache, keyed by workflow, and for virtual time the clock itself.
type persisted struct {
	st       store.Store
	g        *engine.Graph
	cache    *builtin.Cache
	domain   string
	workflow string
}

// restore loads breaker states and cached batches saved by earlier processes.
func (p *persisted) restore() error {
	for _, name := range p.g.BreakerNames() {
		var bs policy.BreakerState
		ok, err := p.st.State(breakerKey(p.domain, p.workflow, name), &bs)
		if err != nil {
			return err
		}
		if ok {
			if err := p.g.RestoreBreaker(name, bs); err != nil {
				return err
			}
		}
	}
	var batches map[string]builtin.CachedBatch
	ok, err := p.st.State(cacheKey(p.domain, p.workflow), &batches)
	if ok && err == nil {
		p.cache.Import(batches)
	}
	return err
}

// export returns the state entries to save when the run ends.
func (p *persisted) export(clock engine.Clock) map[string]any {
	out := map[string]any{cacheKey(p.domain, p.workflow): p.cache.Export()}
	for _, name := range p.g.BreakerNames() {
		bs, _ := p.g.ExportBreaker(name)
		out[breakerKey(p.domain, p.workflow, name)] = bs
	}
	if p.domain == "virtual" {
		out[virtualClockKey] = clock.Now()
	}
	return out
}

// virtualStart is where a virtual clock starts: --clock-start when given, else where the
// last virtual-time run in the store left it, so that consecutive invocations see time
// go on as one long-lived service would.
func virtualStart(st store.Store, flagValue string) (time.Time, error) {
	if flagValue != "" {
		t, err := time.Parse(time.RFC3339, flagValue)
		if err != nil {
			return time.Time{}, fmt.Errorf("--clock-start takes an RFC 3339 time such as 2025-01-01T00:00:30Z, not %q", flagValue)
		}
		return t, nil
	}
	start := engine.Epoch
	if st != nil {
		var last time.Time
		if ok, err := st.State(virtualClockKey, &last); err != nil {
			return time.Time{}, err
		} else if ok && last.After(start) {
			start = last
		}
	}
	return start, nil
}

// newMeta describes a new run for the store.
func newMeta(st store.Store, g *engine.Graph, file string, f *runFlags, scenario string, started time.Time) (*store.RunMeta, error) {
	id, err := st.NewRunID()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		abs = file
	}
	fp := g.Fingerprint()
	return &store.RunMeta{ID: id, Workflow: g.Spec().Name, File: abs, GraphHash: fp.Hash, GraphLines: fp.Lines,
		Nodes: g.Spec().NodeNames(), Scenario: scenario, Seed: f.seed, Sets: f.sets, VirtualTime: f.virtual,
		MaxSteps: f.maxSteps, Started: started.UTC()}, nil
}
