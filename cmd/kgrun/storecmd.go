package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// storeCommand is "kgrun store check": it verifies every record of a store.
func storeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, sf := newStoreFlags()
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] != "check" {
		return usageError(stderr, "store", fmt.Errorf("usage: kgrun store check [--state PATH]"))
	}
	if !sf.enabled() {
		return usageError(stderr, "store", fmt.Errorf("check verifies a store; --state none has none"))
	}
	db, err := sf.open(true)
	if err != nil {
		return storeError(stderr, "store check", err)
	}
	defer db.Close()
	rep, err := db.Check()
	if err != nil {
		return storeError(stderr, "store check", err)
	}
	fmt.Fprintf(stdout, "%s: %s, %s, %s, %s checked\n", db.Path(), plural(rep.Runs, "run"), plural(rep.Checkpoints, "checkpoint"),
		plural(rep.Events, "trace event"), plural(rep.States, "state entry"))
	if len(rep.Problems) == 0 {
		fmt.Fprintln(stdout, "The store is whole.")
		return exitOK
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "  %s\n", p)
	}
	fmt.Fprintf(stdout, "%s found: the runs named cannot be shown or resumed; the others can.\n", plural(len(rep.Problems), "problem"))
	return exitDamaged
}

func newStoreFlags() (*flag.FlagSet, *stateFlags) {
	sf := &stateFlags{}
	fs := flag.NewFlagSet("store", flag.ContinueOnError)
	sf.register(fs, false)
	return fs, sf
}
