// Command kgrun runs, validates, draws and tests kgrun workflows.
//
// main only wires the process (arguments, standard streams, signals, exit code) to run,
// which does everything else and is what the tests call.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil // read before stop, which cancels ctx
	stop()
	if code == exitOK && interrupted {
		code = exitInterrupted
	}
	os.Exit(code)
}
