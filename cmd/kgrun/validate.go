package main

import (
	"context"
	"fmt"
	"io"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/schema"
)

// validateCommand loads each file and prints every diagnostic, then one line per file.
// It exits 2 when any file has an error.
func validateCommand(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, "validate", fmt.Errorf("name at least one workflow file"))
	}
	code := exitOK
	for _, file := range args {
		g, diags := loadQuiet(file)
		if len(diags) > 0 {
			fmt.Fprintln(stdout, diags.Error())
		}
		errs := len(diags.Errors())
		warns := len(diags) - errs
		if g == nil {
			fmt.Fprintf(stdout, "%s: invalid (%s, %s)\n", file, plural(errs, "error"), plural(warns, "warning"))
			code = exitUsage
			continue
		}
		fmt.Fprintf(stdout, "%s: ok (%s, %s, %s, %s)\n", file, plural(len(g.Spec().Nodes), "node"),
			plural(len(g.Spec().Scenarios), "scenario"), plural(len(g.Spec().Tests), "test"), plural(warns, "warning"))
	}
	return code
}

func loadQuiet(file string) (*engine.Graph, schema.Diagnostics) {
	return engine.LoadFile(file, newRegistry(nil))
}
