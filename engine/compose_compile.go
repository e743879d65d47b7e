package engine

import (
	"fmt"
	"strings"

	"github.com/kgrun/kgrun/engine/policy"
	"github.com/kgrun/kgrun/schema"
)

// Composition, compiled: a map node's body and a parallel node's branches are Graphs of
// their own, compiled with the workflow's breakers (so a breaker named in a body is the
// one every item, branch and run shares), its env allowlist, params, limits and the
// scenarios' faults for their nodes. A workflow node holds the called file's Graph.

// composite is what a node of type map, parallel or workflow runs.
type composite struct {
	kind string
	// map
	items     *paramTemplate
	literal   []any
	maxConc   int
	tolerated schema.Tolerance
	body      *bodyGraph
	// parallel
	branches []*bodyGraph
	joinAll  bool
	failFast bool
	// workflow
	callee    *Graph
	calleeRel string
	input     map[string]any
	inputT    []*paramTemplate
}

// bodyGraph is a compiled body or branch.
type bodyGraph struct {
	name  string // the branch's name; "" for a map's body
	scope string // its nodes' path prefix: "fan/", "both/left/"
	g     *Graph
	// value is the body's output when it is one expression; named outputs are g's own.
	value *program
	// defaultOutput: the body declares no output, so a run of it returns the shared keys
	// its visits wrote.
	defaultOutput bool
}

// The result types of the composite nodes, as guards and hooks see "result".
type (
	// MapResult is a map node's result: every item's output, in input order (nil for
	// an item that failed), and how each ended.
	MapResult struct {
		Items []any `expr:"items" json:"items"`
		// Status is each item's: success, degraded, failed or canceled.
		Status    []string `expr:"status" json:"status"`
		Succeeded int      `expr:"succeeded" json:"succeeded"`
		Failed    int      `expr:"failed" json:"failed"`
		// Errors holds a failed item's error message, "" for the others.
		Errors []string `expr:"errors" json:"errors"`
	}
	// ParallelResult is a parallel node's result: each branch's output and status, by
	// branch name, and for join: first the winning branch.
	ParallelResult struct {
		Outputs map[string]any    `expr:"outputs" json:"outputs"`
		Status  map[string]string `expr:"status" json:"status"`
		Winner  string            `expr:"winner" json:"winner,omitempty"`
	}
)

// The failure actions of composite nodes, besides the usual four.
const (
	// ActionMapFailed: more items failed than the map tolerates.
	ActionMapFailed = "map_failed"
	// ActionParallelFailed: a branch failed under join: all, or every branch under
	// join: first.
	ActionParallelFailed = "parallel_failed"
)

var compositeTypes = map[string]*NodeType{
	schema.TypeMap: {Name: schema.TypeMap, Doc: "Runs its body once per item of a list, with bounded concurrency and tolerated failures.",
		Actions: []string{"success"}, Result: MapResult{}, NoRetry: true, Params: NoParams},
	schema.TypeParallel: {Name: schema.TypeParallel, Doc: "Runs named branches at once and joins them (all, or the first success).",
		Actions: []string{"success"}, Result: ParallelResult{}, NoRetry: true, Params: NoParams},
	schema.TypeWorkflow: {Name: schema.TypeWorkflow, Doc: "Runs another workflow file with an input and returns its output.",
		Actions: []string{"success"}, Params: NoParams},
}

// compositeFailure is the failure action a composite type adds.
func compositeFailure(kind string) string {
	switch kind {
	case schema.TypeMap:
		return ActionMapFailed
	case schema.TypeParallel:
		return ActionParallelFailed
	}
	return ""
}

// compileComposite compiles what a map, parallel or workflow node runs.
func (g *Graph) compileComposite(n *node, w *schema.Workflow, reg *Registry, ds *schema.Diagnostics) {
	sn := n.spec
	what := fmt.Sprintf("node %q", g.scope+sn.Name)
	c := &composite{kind: sn.Type.Name}
	n.compose = c
	n.impl = compositeNode{n: n}
	for _, key := range []struct {
		set  bool
		name string
	}{{sn.Breaker.Name != "", "breaker"}, {sn.Bulkhead != nil, "bulkhead"}} {
		if key.set && c.kind != schema.TypeWorkflow {
			ds.Errorf(sn.Pos, fmt.Sprintf("put the %s on the nodes inside, where each item's calls are made", key.name),
				"%s: type %s takes no %s", what, c.kind, key.name)
		}
	}
	switch c.kind {
	case schema.TypeMap:
		m := sn.Map
		if m == nil {
			return
		}
		c.maxConc, c.tolerated, c.literal = m.MaxConcurrency, m.Tolerated, m.Literal
		if m.Items != nil {
			ts := compileTemplates([]*schema.ParamTemplate{m.Items}, g.names, g.secretEnv, what, ds)
			if len(ts) == 1 {
				c.items = ts[0]
			}
		}
		if m.Body != nil {
			c.body = g.compileBody(m.Body, "", g.scope+sn.Name+"/", w, reg, true, ds)
		}
	case schema.TypeParallel:
		p := sn.Parallel
		if p == nil {
			return
		}
		c.joinAll, c.failFast = p.Join != "first", p.FailFast
		for _, b := range p.Branches {
			if bg := g.compileBody(&b.Body, b.Name, g.scope+sn.Name+"/"+b.Name+"/", w, reg, false, ds); bg != nil {
				c.branches = append(c.branches, bg)
			}
		}
	case schema.TypeWorkflow:
		call := sn.Call
		if call == nil {
			return
		}
		c.calleeRel, c.input = call.Path, call.Input
		c.inputT = compileTemplates(call.Templates, g.names, g.secretEnv, what+": input", ds)
		if g.loader != nil && call.Path != "" {
			c.callee = g.loader.load(w.File, call, what, reg, ds)
		} else if call.Path != "" {
			ds.Errorf(call.PathPos, "load the workflow from its file (kgrun FILE, engine.LoadFile) so the path can be resolved",
				"%s: a workflow node needs the file it is in to find %q", what, call.Path)
		}
	}
}

// compileBody compiles a body or branch as a Graph sharing the workflow's breakers.
func (g *Graph) compileBody(b *schema.Body, name, scope string, w *schema.Workflow, reg *Registry, item bool, ds *schema.Diagnostics) *bodyGraph {
	bw := &schema.Workflow{
		File: w.File, Pos: b.Pos, Version: w.Version, Name: w.Name, Description: b.Description,
		Start: b.Start, Params: w.Params, ParamSpecs: w.ParamSpecs, Env: w.Env, MaxSteps: w.MaxSteps, Limits: w.Limits,
		Breakers: w.Breakers, Nodes: b.Nodes, Output: b.Named,
	}
	for _, s := range w.Scenarios {
		ss := &schema.Scenario{Name: s.Name, Pos: s.Pos, Params: s.Params, ParamsPos: s.ParamsPos}
		for _, f := range s.Faults {
			// "fan/fetch" is node fetch of this body; "fan/inner/x" is for a body inside it.
			if rest, ok := strings.CutPrefix(f.Node.Name, strings.TrimPrefix(scope, g.scope)); ok {
				cf := *f
				cf.Node.Name = rest
				ss.Faults = append(ss.Faults, &cf)
			}
		}
		bw.Scenarios = append(bw.Scenarios, ss)
	}
	sub, sds := compile(bw, reg, compileContext{breakers: g.breakers, breakerNames: g.breakerNames, scope: scope, item: item || g.names.item, loader: g.loader})
	*ds = append(*ds, sds...)
	if sub == nil {
		return nil
	}
	bg := &bodyGraph{name: name, scope: scope, g: sub, defaultOutput: b.Value == nil && len(b.Named) == 0}
	if b.Value != nil {
		bg.value = compileExprResult(b.Value, outputEnv(sub.names), nil, false, fmt.Sprintf("node %q: output", strings.TrimSuffix(scope, "/")), ds)
		if bg.value != nil {
			bg.value.checkCost(sub.exprLimits, "output", ds)
		}
	}
	return bg
}

// compileContext is what a graph compiled inside another takes from it.
type compileContext struct {
	breakers     map[string]*policy.Breaker
	breakerNames []string
	scope        string
	item         bool
	loader       *loader
}
