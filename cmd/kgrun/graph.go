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
// dashed, the error handler dotted from every node it covers, and each map body and
// parallel branch as a subgraph (mermaid) or cluster (dot) entered from its node.
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
	ids := mermaidIDs(w)
	writeMermaidScope(out, ids, "", w.Nodes, "    ")
	if h := w.ErrorHandler.Name; h != "" {
		for _, n := range w.Nodes {
			if n.Name != h {
				fmt.Fprintf(out, "    %s -.->|errors| %s\n", n.Name, h)
			}
		}
	}
}

// writeMermaidScope writes one graph's nodes (the workflow's, or a body's, whose nodes'
// paths start with prefix), a subgraph block for each of their bodies, then its edges:
// a composite node's thick edge into each body's start node ends them.
func writeMermaidScope(out io.Writer, ids map[string]string, prefix string, nodes []*schema.Node, indent string) {
	for _, n := range nodes {
		label := n.Name + "<br/><small>" + n.Type.Name + "</small>"
		if n.Call != nil {
			label += "<br/><small>" + mermaidText(calleeLabel(n.Call)) + "</small>"
		}
		fmt.Fprintf(out, "%s%s[\"%s\"]\n", indent, ids[prefix+n.Name], label)
	}
	for _, n := range nodes {
		for _, b := range n.Bodies() {
			fmt.Fprintf(out, "%ssubgraph %s [\"%s\"]\n", indent, ids[prefix+b.Prefix], mermaidText(bodyTitle(prefix, n, b)))
			writeMermaidScope(out, ids, prefix+b.Prefix, b.Body.Nodes, indent+"    ")
			fmt.Fprintf(out, "%send\n", indent)
		}
	}
	for _, n := range nodes {
		from := ids[prefix+n.Name]
		for _, e := range n.Edges {
			fmt.Fprintf(out, "%s%s -->|%s| %s\n", indent, from, mermaidText(edgeLabel(e)), ids[prefix+e.To.Name])
		}
		if n.Fallback.Name != "" {
			fmt.Fprintf(out, "%s%s -.->|fallback| %s\n", indent, from, ids[prefix+n.Fallback.Name])
		}
		for _, b := range n.Bodies() {
			if to, ok := ids[prefix+b.Prefix+b.Body.Start.Name]; ok {
				fmt.Fprintf(out, "%s%s ==>|%s| %s\n", indent, from, mermaidText(entryLabel(n, b)), to)
			}
		}
	}
}

// mermaidIDs gives every node, by path, and every body, by its path prefix ("fan/",
// "both/left/"), a mermaid id. Top-level nodes keep their name, so a workflow without
// composition draws as it always has; a node in a body gets its path with "/" written
// "_" (fan_fetch), a body its composite node's path with "_body" or "_" and the branch
// name; an id already taken gets a number, so none clashes.
func mermaidIDs(w *schema.Workflow) map[string]string {
	ids := map[string]string{}
	taken := map[string]bool{}
	for _, n := range w.Nodes {
		ids[n.Name], taken[n.Name] = n.Name, true
	}
	give := func(key, want string) {
		id := want
		for i := 2; taken[id]; i++ {
			id = fmt.Sprintf("%s_%d", want, i)
		}
		ids[key], taken[id] = id, true
	}
	var walk func(prefix string, nodes []*schema.Node)
	walk = func(prefix string, nodes []*schema.Node) {
		for _, n := range nodes {
			if prefix != "" {
				give(prefix+n.Name, pathID(prefix+n.Name))
			}
		}
		for _, n := range nodes {
			for _, b := range n.Bodies() {
				want := pathID(prefix + n.Name + "_body")
				if n.Parallel != nil {
					want = pathID(strings.TrimSuffix(prefix+b.Prefix, "/"))
				}
				give(prefix+b.Prefix, want)
				walk(prefix+b.Prefix, b.Body.Nodes)
			}
		}
	}
	walk("", w.Nodes)
	return ids
}

// pathID is a node or body path as a mermaid id.
func pathID(path string) string { return strings.ReplaceAll(path, "/", "_") }

// bodyTitle names a body's box: its composite node's path and what the body is
// ("fan: body", "both: branch left").
func bodyTitle(prefix string, n *schema.Node, b schema.ScopedBody) string {
	return prefix + n.Name + ": " + b.Label
}

// entryLabel labels the edge from a composite node into a body's start node: "each item"
// for a map's body, the branch's name for a parallel node's branch.
func entryLabel(n *schema.Node, b schema.ScopedBody) string {
	if n.Map != nil {
		return "each item"
	}
	return strings.TrimSuffix(strings.TrimPrefix(b.Prefix, n.Name+"/"), "/")
}

// calleeLabel names the file a workflow node calls, as the caller writes it.
func calleeLabel(c *schema.Call) string { return "→ " + c.Path }

// mermaidText escapes what mermaid would read as syntax in an edge label, and control
// characters as for a terminal (the output is often read there).
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "|", "#124;", "<", "#lt;", ">", "#gt;").Replace(termText(s))
}

func writeDot(out io.Writer, w *schema.Workflow) {
	fmt.Fprintf(out, "digraph %q {\n    rankdir=LR;\n    node [shape=box];\n", w.Name)
	writeDotScope(out, "", w.Start.Name, w.Nodes, "    ")
	if h := w.ErrorHandler.Name; h != "" {
		for _, n := range w.Nodes {
			if n.Name != h {
				fmt.Fprintf(out, "    %q -> %q [label=\"errors\", style=dotted];\n", n.Name, h)
			}
		}
	}
	fmt.Fprintln(out, "}")
}

// writeDotScope writes one graph: its nodes, identified by path ("fan/fetch" in a body,
// which no top-level name can be), a cluster for each body, then its edges, a
// composite node's bold edge into each body's start node last.
func writeDotScope(out io.Writer, prefix, start string, nodes []*schema.Node, indent string) {
	for _, n := range nodes {
		attrs := ""
		if n.Name == start {
			attrs = ", style=bold"
		}
		label := n.Name + "\n" + n.Type.Name
		if n.Call != nil {
			label += "\n" + calleeLabel(n.Call)
		}
		fmt.Fprintf(out, "%s%q [label=%q%s];\n", indent, prefix+n.Name, label, attrs)
	}
	for _, n := range nodes {
		for _, b := range n.Bodies() {
			inner := prefix + b.Prefix
			fmt.Fprintf(out, "%ssubgraph %q {\n", indent, "cluster_"+strings.TrimSuffix(inner, "/"))
			fmt.Fprintf(out, "%s    label=%q;\n%s    style=\"rounded,dashed\";\n", indent, bodyTitle(prefix, n, b), indent)
			writeDotScope(out, inner, b.Body.Start.Name, b.Body.Nodes, indent+"    ")
			fmt.Fprintf(out, "%s}\n", indent)
		}
	}
	for _, n := range nodes {
		from := prefix + n.Name
		for _, e := range n.Edges {
			fmt.Fprintf(out, "%s%q -> %q [label=%q];\n", indent, from, prefix+e.To.Name, edgeLabel(e))
		}
		if n.Fallback.Name != "" {
			fmt.Fprintf(out, "%s%q -> %q [label=\"fallback\", style=dashed];\n", indent, from, prefix+n.Fallback.Name)
		}
		for _, b := range n.Bodies() {
			if b.Body.Start.Name != "" {
				fmt.Fprintf(out, "%s%q -> %q [label=%q, style=bold];\n", indent, from, prefix+b.Prefix+b.Body.Start.Name, entryLabel(n, b))
			}
		}
	}
}
