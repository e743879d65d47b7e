package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/schema"
	"github.com/kgrun/kgrun/store"
	"github.com/kgrun/kgrun/ui"
)

// uiFlags are the flags of "kgrun ui".
type uiFlags struct {
	addr                      string
	allowActions, allowRemote bool
	state                     stateFlags
}

func newUIFlags() (*flag.FlagSet, *uiFlags) {
	f := &uiFlags{}
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:7878", "listen on `HOST:PORT` (port 0 picks a free one)")
	fs.BoolVar(&f.allowActions, "allow-actions", false, "offer resume and prune in the UI (same-origin POSTs with a CSRF token)")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow an --addr that is not a loopback address: anyone who can reach it reads your runs")
	f.state.register(fs, false)
	return fs, f
}

// uiCommand serves the web UI over the store until interrupted.
func uiCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, f := newUIFlags()
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 0 {
		return usageError(stderr, "ui", fmt.Errorf("takes no arguments"))
	}
	addr, sf := f.addr, &f.state
	if !ui.IsLoopback(addr) && !f.allowRemote {
		return usageError(stderr, "ui", fmt.Errorf("--addr %s is not a loopback address; the UI shows every run's values, so it listens on loopback unless you also pass --allow-remote", addr))
	}
	if !sf.enabled() {
		return usageError(stderr, "ui", fmt.Errorf("the UI reads a store; --state none has none"))
	}
	db, err := sf.open(true)
	if err != nil {
		return storeError(stderr, "ui", err)
	}
	defer db.Close()
	opts := ui.Options{
		Store:  db,
		Load:   func(file string) (*engine.Graph, schema.Diagnostics) { return engine.LoadFile(file, newRegistry(nil)) },
		Report: func(w io.Writer, meta *store.RunMeta) error { return writeStoredReport(w, db, meta) },
	}
	if f.allowActions {
		opts.Actions = uiActions(sf, db.Path())
	}
	srv, err := ui.New(opts)
	if err != nil {
		fmt.Fprintf(stderr, "kgrun ui: %v\n", err)
		return exitFailed
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return usageError(stderr, "ui", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchErr := make(chan error, 1)
	go func() { watchErr <- srv.Watch(ctx) }()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, done := context.WithTimeout(context.Background(), 2*time.Second)
		defer done()
		_ = hs.Shutdown(shut)
	}()
	fmt.Fprintf(stdout, "kgrun ui: serving %s on http://%s/ (%s; Ctrl-C stops)\n", termText(db.Path()), ln.Addr(),
		map[bool]string{true: "resume and prune offered", false: "read-only"}[f.allowActions])
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "kgrun ui: %v\n", err)
		return exitFailed
	}
	cancel()
	if err := <-watchErr; err != nil {
		fmt.Fprintf(stderr, "kgrun ui: following the store: %v\n", err)
	}
	return exitOK
}

// uiActions are the UI's state-changing actions: resume starts this same binary's
// kgrun resume in the background (the run page follows it live); prune opens the store
// for writing just for the prune.
func uiActions(sf *stateFlags, path string) *ui.Actions {
	return &ui.Actions{
		Resume: func(meta *store.RunMeta) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			cmd := exec.Command(self, "resume", meta.ID, meta.File, "--state", path, "--no-color")
			if err := cmd.Start(); err != nil {
				return err
			}
			go cmd.Wait() // reap it; its outcome is in the store
			return nil
		},
		Prune: func(keep int) (string, error) {
			db, err := sf.open(false)
			if err != nil {
				return "", err
			}
			defer db.Close()
			p, err := db.Prune(store.PruneOptions{Keep: keep})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Removed %s; the store went from %s to %s.", plural(p.Runs, "run"), bytesText(p.SizeBefore), bytesText(p.SizeAfter)), nil
		},
	}
}
