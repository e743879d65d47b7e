package engine

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kgrun/kgrun/engine/policy"
	"github.com/kgrun/kgrun/schema"
)

// Graph is a compiled workflow. It is immutable after Compile and safe for any number of
// concurrent runs; its breakers and bulkheads are shared by those runs on purpose.
type Graph struct {
	spec         *schema.Workflow
	nodes        []*node
	byName       map[string]*node
	start        *node
	errorHandler *node
	breakers     map[string]*policy.Breaker
	breakerNames []string
	scenarios    map[string]*scenario
	params       map[string]any
	maxSteps     int
	exprLimits   ExprLimits
	output       []*outputValue
	names        checkNames      // what expressions may name, for checking
	secretEnv    map[string]bool // listed variables whose values are secrets
	warnings     schema.Diagnostics
	// scope is the path prefix of a body's nodes ("fan/"); "" for a workflow. loader
	// finds the files workflow nodes call (nil when compiled from memory alone).
	scope  string
	loader *loader
	exprs  *exprCache // while compiling: expressions shared between nodes
	// bundle is the workflow's file and the files it calls, as loaded.
	bundle Bundle
}

// node is one compiled workflow node.
type node struct {
	name      string
	nameVal   any // the name boxed once, for the expression environment
	index     int
	hash      uint64
	spec      *schema.Node
	typ       *NodeType
	impl      Node
	params    map[string]any
	templates []*paramTemplate
	routes    map[string][]*edge
	emits     map[string]bool
	// acts holds emits with their routes, for the run loop (see visit_plain.go); plain
	// says the node needs none of visitNode's optional work.
	acts         []nodeAction
	plain        bool
	retry        *retryPolicy
	breaker      *policy.Breaker
	breakerKinds kindSet
	// rejected is the error of a call the breaker refuses: the same for every refusal,
	// so a rejected visit formats nothing.
	rejected error
	// rejection is the failure of a visit whose first attempt the breaker refused and
	// rejectionStep its step record: the same for every such visit, so shared by them
	// (a NodeError is read-only once made; see NodeError).
	rejection     *NodeError
	rejectionStep *StepFail
	timeout       time.Duration
	bulkhead      *policy.Bulkhead
	bulkWait      time.Duration
	fallback      *node
	// compose is what a node of type map, parallel or workflow runs; nil for others.
	compose *composite

	beforePrep, afterExec, onError []*hook
	goBefore                       BeforePrepHook
	goAfter                        AfterExecHook
	goOnError                      ErrorHook
}

// edge is one compiled edge; guard is nil for an unguarded edge.
type edge struct {
	action string
	to     *node
	guard  *program
}

// hook is one compiled YAML hook.
type hook struct {
	label   string
	pos     schema.Pos
	when    *program
	assert  *program
	message string
	set     []assignment
	action  string
}

type assignment struct {
	key   string
	value *program
}

// Spec returns the decoded workflow the graph was compiled from.
func (g *Graph) Spec() *schema.Workflow { return g.spec }

// Warnings returns the warnings found while loading and compiling.
func (g *Graph) Warnings() schema.Diagnostics { return g.warnings }

// Breaker returns a snapshot of the named breaker.
func (g *Graph) Breaker(name string) (policy.Snapshot, bool) {
	b, ok := g.breakers[name]
	if !ok {
		return policy.Snapshot{}, false
	}
	return b.Snapshot(), true
}

// BreakerNames returns the breakers' names, in declaration order.
func (g *Graph) BreakerNames() []string { return slices.Clone(g.breakerNames) }

// ExportBreaker returns the named breaker's state, for carrying it to another process.
func (g *Graph) ExportBreaker(name string) (policy.BreakerState, bool) {
	b, ok := g.breakers[name]
	if !ok {
		return policy.BreakerState{}, false
	}
	return b.Export(), true
}

// RestoreBreaker sets the named breaker's state from one saved by ExportBreaker. The
// graph's runs share the breaker, so restore before running.
func (g *Graph) RestoreBreaker(name string, st policy.BreakerState) error {
	b, ok := g.breakers[name]
	if !ok {
		return fmt.Errorf("no breaker %q", name)
	}
	return b.Restore(st)
}

// Breakers returns snapshots of every breaker, in declaration order.
func (g *Graph) Breakers() []policy.Snapshot {
	out := make([]policy.Snapshot, 0, len(g.breakerNames))
	for _, n := range g.breakerNames {
		out = append(out, g.breakers[n].Snapshot())
	}
	return out
}

// LoadFile reads, decodes and compiles a workflow file. The diagnostics hold every
// problem found, errors and warnings, sorted by position; the Graph is nil when any of
// them is an error.
func LoadFile(path string, reg *Registry) (*Graph, schema.Diagnostics) {
	data, ds := schema.ReadFile(path, schema.DefaultLimits)
	if ds.HasErrors() {
		return nil, ds
	}
	return Load(path, data, reg)
}

// Load decodes and compiles a workflow from memory; file names it in diagnostics.
func Load(file string, data []byte, reg *Registry) (*Graph, schema.Diagnostics) {
	w, ds := schema.Decode(file, data)
	if w == nil {
		return nil, ds
	}
	l := newLoader(w.File)
	g, cds := compile(w, reg, compileContext{loader: l})
	ds = append(ds, cds...).Sort()
	if ds.HasErrors() {
		return nil, ds
	}
	g.warnings = ds
	files := map[string][]byte{filepath.ToSlash(filepath.Clean(file)): data}
	for name, d := range l.read {
		files[name] = d
	}
	g.bundle = Bundle{File: filepath.ToSlash(filepath.Clean(file)), Files: files}
	return g, ds
}

// Compile turns a decoded workflow into a Graph, resolving node types, compiling guards
// and hooks, attaching policies and checking actions. It returns every diagnostic found;
// the Graph is nil when there are errors (including errors already in w's decoding,
// which the caller is expected to have looked at).
//
// Workflow nodes name other files relative to w.File, which are read, decoded and
// compiled with it; their diagnostics carry their own file:line:col.
func Compile(w *schema.Workflow, reg *Registry) (*Graph, schema.Diagnostics) {
	return compile(w, reg, compileContext{loader: newLoader(w.File)})
}

// compile is Compile for a workflow or, with cc from the graph it is inside, a body.
func compile(w *schema.Workflow, reg *Registry, cc compileContext) (*Graph, schema.Diagnostics) {
	var ds schema.Diagnostics
	g := &Graph{
		spec:      w,
		byName:    make(map[string]*node, len(w.Nodes)),
		breakers:  cc.breakers,
		scenarios: map[string]*scenario{},
		params:    w.Params,
		maxSteps:  w.MaxSteps,
		scope:     cc.scope,
		loader:    cc.loader,
	}
	if g.breakers == nil {
		g.breakers = map[string]*policy.Breaker{}
		for _, b := range w.Breakers {
			g.breakers[b.Name] = policy.NewBreaker(policy.BreakerConfig{
				Name: b.Name, FailureThreshold: b.FailureThreshold, OpenTimeout: b.OpenTimeout, HalfOpenMaxCalls: b.HalfOpenMaxCalls,
			})
			g.breakerNames = append(g.breakerNames, b.Name)
		}
	} else {
		g.breakerNames = cc.breakerNames
	}
	all := make([]node, len(w.Nodes)) // one allocation for the graph's nodes
	g.nodes = make([]*node, 0, len(w.Nodes))
	for i, sn := range w.Nodes {
		n := &all[i]
		*n = node{name: sn.Name, nameVal: sn.Name, index: i, hash: hashName(cc.scope + sn.Name), spec: sn, params: sn.Params, routes: map[string][]*edge{}}
		g.nodes = append(g.nodes, n)
		g.byName[sn.Name] = n
	}
	g.start = g.byName[w.Start.Name]
	g.errorHandler = g.byName[w.ErrorHandler.Name]
	g.names, g.secretEnv = checkNames{env: envType(w.Env), item: cc.item}, map[string]bool{}
	for _, v := range w.Env {
		g.secretEnv[v.Name] = v.Secret
	}
	g.exprs = newExprCache(g.names)
	for _, n := range g.nodes {
		g.compileNode(n, w, reg, &ds)
	}
	total := 0
	for _, n := range g.nodes {
		total += len(n.emits)
	}
	acts := make([]nodeAction, 0, total) // one array for every node's actions
	for _, n := range g.nodes {
		acts = n.finishActions(acts)
	}
	g.exprs = nil
	if cc.scope == "" {
		checkRunParamsOf(w, g.nodes, &ds)
	}
	for _, s := range w.Scenarios {
		g.scenarios[s.Name] = g.compileScenario(s)
	}
	g.output = compileOutput(w.Output, g.names, &ds)
	g.exprLimits = exprLimitsOf(w)
	g.checkExprCosts(&ds)
	g.checkOutputCosts(&ds)
	if ds.HasErrors() {
		return nil, ds
	}
	return g, ds
}

func (g *Graph) compileNode(n *node, w *schema.Workflow, reg *Registry, ds *schema.Diagnostics) {
	sn := n.spec
	typ, ok := compositeTypes[sn.Type.Name]
	if !ok {
		typ, ok = reg.Lookup(sn.Type.Name)
	}
	if !ok {
		if sn.Type.Name != "" {
			detail := schema.DidYouMean(sn.Type.Name, reg.Names())
			if detail == "" {
				detail = "registered types: " + strings.Join(reg.Names(), ", ")
			}
			ds.Errorf(sn.Type.Pos, detail, "node %q: unknown node type %q", g.scope+sn.Name, sn.Type.Name)
		}
		return
	}
	n.typ = typ
	if !checkNodeParams(n, w, ds) {
		return
	}
	if _, composite := compositeTypes[sn.Type.Name]; composite {
		g.compileComposite(n, w, reg, ds)
	} else {
		impl, err := typ.New(NodeSpec{Name: sn.Name, Params: sn.Params, Pos: sn.Pos})
		if err != nil {
			ds.Errorf(sn.Pos, "check the node's params against the type's documentation", "node %q (type %s): %v", sn.Name, typ.Name, err)
			return
		}
		if impl == nil {
			ds.Errorf(sn.Pos, "", "node %q (type %s): the type built no node", sn.Name, typ.Name)
			return
		}
		n.impl = impl
	}
	impl := n.impl
	n.goBefore, _ = impl.(BeforePrepHook)
	n.goAfter, _ = impl.(AfterExecHook)
	n.goOnError, _ = impl.(ErrorHook)

	n.emits = map[string]bool{}
	for _, a := range typ.Actions {
		n.emits[a] = true
	}
	for _, a := range FailureActions {
		n.emits[a] = true
	}
	emitted := append(slices.Clone(typ.Actions), FailureActions...)
	if fa := compositeFailure(typ.Name); fa != "" {
		n.emits[fa] = true
		emitted = append(emitted, fa)
	}
	what := fmt.Sprintf("node %q", g.scope+sn.Name)
	n.beforePrep = compileHooks(sn.Hooks.BeforePrep, "before_prep", nil, g.names, what, ds)
	n.afterExec = compileHooks(sn.Hooks.AfterExec, "after_exec", typ.Result, g.names, what, ds)
	n.onError = compileHooks(sn.Hooks.OnError, "on_error", nil, g.names, what, ds)
	n.templates = compileTemplates(sn.Templates, g.names, g.secretEnv, what, ds)
	hookActions := map[string]schema.Ident{}
	for _, h := range sn.Hooks.OnError {
		if h.Assert != nil {
			ds.Errorf(h.Assert.Pos, "use when: to choose which errors the hook handles", "%s: on_error hooks cannot assert", what)
		}
		if h.Action.Name != "" {
			hookActions[h.Action.Name] = h.Action
			n.emits[h.Action.Name] = true
		}
	}

	env := g.exprs.checkEnv(typ.Result, g.names)
	routed := map[string]bool{} // actions the file routes, even where the edge has an error
	for _, e := range sn.Edges {
		routed[e.Action] = true
		if !n.emits[e.Action] {
			if s := schema.Suggest(e.Action, emitted); s != "" {
				routed[s] = true
			}
		}
		to := g.byName[e.To.Name]
		if to == nil {
			continue // reported by schema
		}
		if !n.emits[e.Action] {
			emits := emitted
			detail := schema.DidYouMean(e.Action, emits)
			if detail == "" {
				detail = fmt.Sprintf("type %s emits: %s", typ.Name, strings.Join(emits, ", "))
			}
			ds.Errorf(e.ActionPos, detail, "%s: type %s never emits action %q", what, typ.Name, e.Action)
			continue
		}
		ce := &edge{action: e.Action, to: to}
		if e.When != nil {
			ce.guard = g.exprs.compile(e.When, env, typ.Result, true, fmt.Sprintf("%s: guard on %q", what, e.Action), ds)
		}
		n.routes[e.Action] = append(n.routes[e.Action], ce)
	}
	for a, id := range hookActions {
		if len(n.routes[a]) == 0 {
			ds.Errorf(id.Pos, fmt.Sprintf("add %q under the node's on: to say where it leads", a),
				"%s: on_error action %q is not routed", what, a)
		}
	}
	for _, a := range typ.Failures {
		if !routed[a] {
			ds.Errorf(sn.Pos, fmt.Sprintf("add %q under the node's on: to say where a %s failure leads (an alternate path, a notification); left unrouted, the run would end there", a, typ.Name),
				"%s: failure action %q of type %s is not routed", what, a, typ.Name)
		}
	}
	if len(sn.Edges) > 0 {
		for _, a := range typ.Actions {
			if !routed[a] && !slices.Contains(typ.Failures, a) {
				ds.Warnf(sn.Pos, fmt.Sprintf("route it under on:, or accept that the run ends after %s emits it", sn.Name),
					"%s: action %q of type %s is not routed", what, a, typ.Name)
			}
		}
	}
	if f := sn.Fallback.Name; f != "" {
		n.fallback = g.byName[f]
	}
	if sn.Retry != nil && n.typ != nil && n.typ.NoRetry {
		ds.Errorf(sn.Retry.Pos, "remove retry: the type computes the same result on every attempt", "node %q: type %s is never retried", sn.Name, n.typ.Name)
	} else if sn.Retry != nil {
		n.retry = newRetryPolicy(sn.Retry)
	}
	if b := sn.Breaker.Name; b != "" {
		n.breaker = g.breakers[b]
		if n.breaker != nil {
			n.breakerCounts(w.Breaker(b))
			n.rejected = WithKind(CircuitOpen, fmt.Errorf("%w: breaker %q rejected the call", ErrCircuitOpen, b))
			n.rejection = &NodeError{Node: n.name, Kind: CircuitOpen, Phase: "exec", Attempts: 1, Err: n.rejected}
			n.rejectionStep = &StepFail{Kind: CircuitOpen, Phase: "exec", Message: ShortMessage(n.rejected)}
		}
	}
	n.timeout = sn.Timeout
	if bh := sn.Bulkhead; bh != nil {
		n.bulkhead = policy.NewBulkhead(bh.MaxConcurrent)
		n.bulkWait = bh.MaxWait
	}
}

func compileHooks(hs []*schema.Hook, phase string, result any, names checkNames, what string, ds *schema.Diagnostics) []*hook {
	if len(hs) == 0 {
		return nil
	}
	env := checkEnv(result, names)
	var out []*hook
	for i, h := range hs {
		label := fmt.Sprintf("%s[%d]", phase, i)
		w := fmt.Sprintf("%s: hooks.%s", what, label)
		ch := &hook{label: label, pos: h.Pos, message: h.Message, action: h.Action.Name}
		ch.when = compileExprResult(h.When, env, result, true, w+".when", ds)
		ch.assert = compileExprResult(h.Assert, env, result, true, w+".assert", ds)
		for _, a := range h.Set {
			if p := compileExprResult(a.Value, env, result, false, fmt.Sprintf("%s.set.%s", w, a.Key), ds); p != nil {
				ch.set = append(ch.set, assignment{key: a.Key, value: p})
			}
		}
		out = append(out, ch)
	}
	return out
}
