package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/graphsvg"
	"github.com/kgrun/kgrun/schema"
)

type graphFlags struct {
	format string
	run    string
	state  stateFlags
}

func newGraphFlags() (*flag.FlagSet, *graphFlags) {
	f := &graphFlags{}
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	fs.StringVar(&f.format, "format", "mermaid", "graph `FORMAT`: mermaid, dot, svg, or html (a page holding the svg)")
	fs.StringVar(&f.run, "run", "", "with svg or html, draw the path the stored run `ID` took: nodes by outcome, edges taken")
	f.state.register(fs, false)
	return fs, f
}

// graphCommand prints the workflow's graph: action edges (with guards), fallbacks
// dashed, and the error handler dotted from every node it covers.
func graphCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, f := newGraphFlags()
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "graph", fmt.Errorf("want one workflow file"))
	}
	switch f.format {
	case "mermaid", "dot", "svg", "html":
	default:
		return usageError(stderr, "graph", fmt.Errorf("--format takes mermaid, dot, svg or html, not %q", f.format))
	}
	if f.run != "" && f.format != "svg" && f.format != "html" {
		return usageError(stderr, "graph", fmt.Errorf("--run draws a run's path on --format svg or html"))
	}
	g, code := load(pos[0], stderr, nil)
	if g == nil {
		return code
	}
	w := g.Spec()
	switch f.format {
	case "dot":
		writeDot(stdout, w)
	case "mermaid":
		writeMermaid(stdout, w)
	default:
		opts := graphsvg.Options{}
		if f.run != "" {
			steps, err := storedPath(&f.state, f.run, w.Name)
			if err != nil {
				fmt.Fprintf(stderr, "kgrun graph: %s\n", termText(err.Error()))
				return exitUsage
			}
			opts.Path = steps
		}
		write := graphsvg.SVG
		if f.format == "html" {
			write = graphsvg.HTML
		}
		if err := write(stdout, w, opts); err != nil {
			fmt.Fprintf(stderr, "kgrun graph: %v\n", err)
			return exitUsage
		}
	}
	return exitOK
}

// storedPath reads the steps of the stored run id, which must be a run of workflow.
func storedPath(sf *stateFlags, id, workflow string) ([]engine.Step, error) {
	db, err := sf.open(true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	meta, err := db.Run(id)
	if err != nil {
		return nil, err
	}
	if meta.Workflow != workflow {
		return nil, fmt.Errorf("run %s is of workflow %q, not %q; give its file (%s)", id, meta.Workflow, workflow, meta.File)
	}
	var steps []engine.Step
	err = db.Checkpoints(id, 0, func(cp *engine.Checkpoint) error {
		steps = append(steps, cp.Step)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading run %s: %w", id, err)
	}
	return steps, nil
}

func edgeLabel(e *schema.Edge) string {
	if e.When == nil {
		return e.Action
	}
	return e.Action + " when " + e.When.Source
}

func writeMermaid(out io.Writer, w *schema.Workflow) {
	fmt.Fprintln(out, "graph LR")
	for _, n := range w.Nodes {
		fmt.Fprintf(out, "    %s[\"%s<br/><small>%s</small>\"]\n", n.Name, n.Name, n.Type.Name)
	}
	for _, n := range w.Nodes {
		for _, e := range n.Edges {
			fmt.Fprintf(out, "    %s -->|%s| %s\n", n.Name, mermaidText(edgeLabel(e)), e.To.Name)
		}
		if n.Fallback.Name != "" {
			fmt.Fprintf(out, "    %s -.->|fallback| %s\n", n.Name, n.Fallback.Name)
		}
	}
	if h := w.ErrorHandler.Name; h != "" {
		for _, n := range w.Nodes {
			if n.Name != h {
				fmt.Fprintf(out, "    %s -.->|errors| %s\n", n.Name, h)
			}
		}
	}
}

// mermaidText escapes what mermaid would read as syntax in an edge label, and control
// characters as for a terminal (the output is often read there).
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "|", "#124;", "<", "#lt;", ">", "#gt;").Replace(termText(s))
}

func writeDot(out io.Writer, w *schema.Workflow) {
	fmt.Fprintf(out, "digraph %q {\n    rankdir=LR;\n    node [shape=box];\n", w.Name)
	for _, n := range w.Nodes {
		attrs := ""
		if n.Name == w.Start.Name {
			attrs = ", style=bold"
		}
		fmt.Fprintf(out, "    %q [label=%q%s];\n", n.Name, n.Name+"\n"+n.Type.Name, attrs)
	}
	for _, n := range w.Nodes {
		for _, e := range n.Edges {
			fmt.Fprintf(out, "    %q -> %q [label=%q];\n", n.Name, e.To.Name, edgeLabel(e))
		}
		if n.Fallback.Name != "" {
			fmt.Fprintf(out, "    %q -> %q [label=\"fallback\", style=dashed];\n", n.Name, n.Fallback.Name)
		}
	}
	if h := w.ErrorHandler.Name; h != "" {
		for _, n := range w.Nodes {
			if n.Name != h {
				fmt.Fprintf(out, "    %q -> %q [label=\"errors\", style=dotted];\n", n.Name, h)
			}
		}
	}
	fmt.Fprintln(out, "}")
}
