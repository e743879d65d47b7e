// Command kgrun runs, validates, draws and tests kgrun workflows.
//
// main only wires the process (arguments, standard streams, signals, exit code) to run,
// which does everything else and is what the tests call.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal stops the run at its next safe point (the error handler
		// still runs and the partial report is printed); a second one exits at once.
		<-signals
		fmt.Fprintln(os.Stderr, "kgrun: interrupted; finishing the current node and cleaning up (interrupt again to exit at once)")
		cancel()
		<-signals
		fmt.Fprintln(os.Stderr, "kgrun: interrupted twice; exiting now")
		os.Exit(exitInterrupted)
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if code == exitOK && ctx.Err() != nil {
		code = exitInterrupted
	}
	os.Exit(code)
}
