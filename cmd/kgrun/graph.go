package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kgrun/kgrun/schema"
)

func newGraphFlags() (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("graph", flag.ContinueOnError)
	format := fs.String("format", "mermaid", "graph `FORMAT`: mermaid or dot")
	return fs, format
}

// graphCommand prints the workflow's graph: action edges (with guards), fallbacks
// dashed, and the error handler dotted from every node it covers.
func graphCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, format := newGraphFlags()
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(stderr, "graph", fmt.Errorf("want one workflow file"))
	}
	if *format != "mermaid" && *format != "dot" {
		return usageError(stderr, "graph", fmt.Errorf("--format takes mermaid or dot, not %q", *format))
	}
	g, code := load(pos[0], stderr, nil)
	if g == nil {
		return code
	}
	w := g.Spec()
	if *format == "dot" {
		writeDot(stdout, w)
	} else {
		writeMermaid(stdout, w)
	}
	return exitOK
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
