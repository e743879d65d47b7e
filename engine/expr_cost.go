package engine

import (
	"fmt"
	"maps"
	"slices"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"

	"github.com/kgrun/kgrun/schema"
)

// costNote is one part of an expression whose cost is evident at load: the steps its
// closures take over lists of known length, or the bytes of a value of known size.
type costNote struct {
	loc          file.Location
	steps, bytes int64
}

// Cost notes below these are not kept: no workflow may set its limits lower.
const (
	noteSteps = schema.MinExprSteps
	noteBytes = schema.MinExprBytes
)

// huge is where estimates saturate.
const huge = int64(1) << 62

func satAdd(a, b int64) int64 {
	if a >= huge-b {
		return huge
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a >= huge/b {
		return huge
	}
	return a * b
}

// estimate is what the estimator knows of a value: the steps taken to compute it and,
// when known, its integer value, its length as a list or its size as a string.
type estimate struct {
	steps  int64
	isInt  bool
	num    int64
	length int64 // -1 when unknown
	size   int64 // -1 when unknown
}

var unknown = estimate{length: -1, size: -1}

// coster estimates the cost of an expression from its syntax tree alone: ranges and
// strings written in the expression, let bindings to them, closures over them (nested
// closures multiply) and reduce bodies that grow their accumulator. It errs low: what it
// cannot know counts as nothing, so an expression it flags will certainly be stopped at
// run time (short-circuiting closures such as any aside: they count every element).
type coster struct {
	vars  map[string]estimate
	notes []costNote
}

type costScope struct {
	acc, elem estimate
}

func exprCost(root ast.Node) []costNote {
	c := &coster{vars: map[string]estimate{}}
	c.eval(root, costScope{acc: unknown, elem: unknown})
	return c.notes
}

func (c *coster) note(n ast.Node, steps, bytes int64) {
	if steps >= noteSteps || bytes >= noteBytes {
		c.notes = append(c.notes, costNote{loc: n.Location(), steps: steps, bytes: bytes})
	}
}

func (c *coster) sum(sc costScope, nodes ...ast.Node) int64 {
	var steps int64
	for _, n := range nodes {
		if n != nil {
			steps = satAdd(steps, c.eval(n, sc).steps)
		}
	}
	return steps
}

func (c *coster) eval(n ast.Node, sc costScope) estimate {
	e := unknown
	switch n := n.(type) {
	case *ast.IntegerNode:
		e.isInt, e.num = true, int64(n.Value)
	case *ast.StringNode:
		e.size = int64(len(n.Value))
	case *ast.IdentifierNode:
		if v, ok := c.vars[n.Value]; ok {
			v.steps = 0
			return v
		}
	case *ast.PointerNode:
		switch n.Name {
		case "acc":
			return sc.acc
		case "":
			return sc.elem
		}
	case *ast.UnaryNode:
		v := c.eval(n.Node, sc)
		e.steps = v.steps
		if n.Operator == "-" && v.isInt {
			e.isInt, e.num = true, -v.num
		}
	case *ast.BinaryNode:
		l, r := c.eval(n.Left, sc), c.eval(n.Right, sc)
		e.steps = satAdd(l.steps, r.steps)
		switch n.Operator {
		case "..":
			if l.isInt && r.isInt {
				e.length = max(0, r.num-l.num+1)
				c.note(n, 0, satMul(e.length, wordSize))
			}
		case "+":
			if l.size >= 0 && r.size >= 0 {
				e.size = satAdd(l.size, r.size)
				c.note(n, 0, e.size)
			}
		}
	case *ast.VariableDeclaratorNode:
		v := c.eval(n.Value, sc)
		old, had := c.vars[n.Name]
		c.vars[n.Name] = v
		r := c.eval(n.Expr, sc)
		if had {
			c.vars[n.Name] = old
		} else {
			delete(c.vars, n.Name)
		}
		r.steps = satAdd(r.steps, v.steps)
		return r
	case *ast.SequenceNode:
		var steps int64
		for _, x := range n.Nodes {
			e = c.eval(x, sc)
			steps = satAdd(steps, e.steps)
		}
		e.steps = steps
	case *ast.ConditionalNode:
		cond := c.eval(n.Cond, sc)
		a, b := c.eval(n.Exp1, sc), c.eval(n.Exp2, sc)
		e.steps = satAdd(cond.steps, min(a.steps, b.steps))
	case *ast.ArrayNode:
		e.steps = c.sum(sc, n.Nodes...)
		e.length = int64(len(n.Nodes))
	case *ast.MapNode:
		e.steps = c.sum(sc, n.Pairs...)
	case *ast.PairNode:
		e.steps = c.sum(sc, n.Key, n.Value)
	case *ast.ChainNode:
		e.steps = c.sum(sc, n.Node)
	case *ast.MemberNode:
		e.steps = c.sum(sc, n.Node, n.Property)
	case *ast.SliceNode:
		e.steps = c.sum(sc, n.Node, n.From, n.To)
	case *ast.CallNode:
		e.steps = c.sum(sc, append([]ast.Node{n.Callee}, n.Arguments...)...)
	case *ast.PredicateNode:
		return c.eval(n.Node, sc)
	case *ast.BuiltinNode:
		return c.builtin(n, sc)
	}
	return e
}

func (c *coster) builtin(n *ast.BuiltinNode, sc costScope) estimate {
	e := unknown
	if n.Name == "repeat" && len(n.Arguments) == 2 {
		s, k := c.eval(n.Arguments[0], sc), c.eval(n.Arguments[1], sc)
		e.steps = satAdd(s.steps, k.steps)
		if s.size >= 0 && k.isInt && k.num > 0 {
			e.size = satMul(s.size, k.num)
			c.note(n, 0, e.size)
		}
		return e
	}
	if !hasClosure(n) || len(n.Arguments) < 2 {
		e.steps = c.sum(sc, n.Arguments...)
		return e
	}
	coll := c.eval(n.Arguments[0], sc)
	iterations := max(coll.length, 0)
	body, _ := n.Arguments[1].(*ast.PredicateNode)
	if body == nil {
		e.steps = c.sum(sc, n.Arguments...)
		return e
	}
	if n.Name == "reduce" {
		return c.reduce(n, body, coll, iterations, sc)
	}
	inner := sc
	inner.elem = unknown
	b := c.eval(body, inner)
	e.steps = satAdd(coll.steps, satMul(iterations, satAdd(1, b.steps)))
	for _, a := range n.Arguments[2:] {
		e.steps = satAdd(e.steps, c.eval(a, sc).steps)
	}
	switch n.Name {
	case "map", "sortBy":
		e.length = coll.length
	}
	c.note(n, e.steps, 0)
	return e
}

// reduce follows the accumulator through the iterations while it is known: a body that
// doubles a string doubles it every time. After a few dozen rounds the growth of the
// last round is extrapolated: doubling saturates, adding continues linearly.
func (c *coster) reduce(n *ast.BuiltinNode, body *ast.PredicateNode, coll estimate, iterations int64, sc costScope) estimate {
	acc := unknown
	var steps int64
	if len(n.Arguments) > 2 {
		acc = c.eval(n.Arguments[2], sc)
		steps = acc.steps
		acc.steps = 0
	}
	steps = satAdd(steps, coll.steps)
	inner := costScope{acc: acc, elem: unknown}
	saved := len(c.notes)
	var perStep int64 = -1
	const rounds = 64
	prev := acc.size
	for i := int64(0); i < iterations; i++ {
		if i == rounds {
			grow := inner.acc.size - prev
			switch {
			case inner.acc.size < 0:
			case prev > 0 && inner.acc.size >= 2*prev:
				inner.acc.size = huge
			default:
				inner.acc.size = satAdd(inner.acc.size, satMul(grow, iterations-i))
			}
			break
		}
		prev = inner.acc.size
		next := c.eval(body, inner)
		if perStep < 0 {
			perStep = next.steps
		}
		next.steps = 0
		inner.acc = next
		if next.size < 0 || next.size >= huge {
			break
		}
	}
	c.notes = c.notes[:saved] // the body's notes were per round; the total follows
	if perStep < 0 {
		perStep = 0
	}
	e := unknown
	e.steps = satAdd(steps, satMul(iterations, satAdd(1, perStep)))
	if iterations > 0 {
		e.size = inner.acc.size
	}
	c.note(n, e.steps, max(e.size, 0))
	return e
}

// exprLimitsOf reads a workflow's expression limits; a workflow built in Go without them
// gets the defaults, and one built past the hard caps gets the caps.
func exprLimitsOf(w *schema.Workflow) ExprLimits {
	l := ExprLimits{Steps: w.Limits.Steps, Bytes: w.Limits.Bytes}
	if l.Steps <= 0 {
		l.Steps = DefaultExprLimits.Steps
	}
	if l.Bytes <= 0 {
		l.Bytes = DefaultExprLimits.Bytes
	}
	l.Steps = min(l.Steps, schema.MaxExprSteps)
	l.Bytes = min(l.Bytes, schema.MaxExprBytes)
	return l
}

// maxLimit is the hard cap of the named limit.
func maxLimit(limit string) int64 {
	if limit == "expr_bytes" {
		return schema.MaxExprBytes
	}
	return schema.MaxExprSteps
}

// checkExprCosts reports every guard and hook expression whose cost, evident at load, is
// over the graph's limits: it would fail on every evaluation.
func (g *Graph) checkExprCosts(ds *schema.Diagnostics) {
	for _, n := range g.nodes {
		if !n.overLimits(g.exprLimits) {
			continue // nearly every node: then nothing is formatted or sorted
		}
		what := fmt.Sprintf("node %q", n.name)
		for _, action := range slices.Sorted(maps.Keys(n.routes)) {
			for _, e := range n.routes[action] {
				e.guard.checkCost(g.exprLimits, fmt.Sprintf("%s: guard on %q", what, action), ds)
			}
		}
		for _, t := range n.templates {
			for _, p := range t.parts {
				p.prog.checkCost(g.exprLimits, fmt.Sprintf("%s: params.%s", what, schema.PathString(t.path)), ds)
			}
		}
		for _, hs := range [][]*hook{n.beforePrep, n.afterExec, n.onError} {
			for _, h := range hs {
				w := fmt.Sprintf("%s: hooks.%s", what, h.label)
				h.when.checkCost(g.exprLimits, w+".when", ds)
				h.assert.checkCost(g.exprLimits, w+".assert", ds)
				for _, a := range h.set {
					a.value.checkCost(g.exprLimits, fmt.Sprintf("%s.set.%s", w, a.key), ds)
				}
			}
		}
	}
}

// overLimits reports whether any of the node's expressions has an evident cost over
// limits, which checkCost then reports.
func (n *node) overLimits(limits ExprLimits) bool {
	for _, es := range n.routes {
		for _, e := range es {
			if e.guard.overLimits(limits) {
				return true
			}
		}
	}
	for _, t := range n.templates {
		for _, p := range t.parts {
			if p.prog.overLimits(limits) {
				return true
			}
		}
	}
	for _, hs := range [][]*hook{n.beforePrep, n.afterExec, n.onError} {
		for _, h := range hs {
			if h.when.overLimits(limits) || h.assert.overLimits(limits) {
				return true
			}
			for _, a := range h.set {
				if a.value.overLimits(limits) {
					return true
				}
			}
		}
	}
	return false
}

// overLimits reports whether checkCost would report p.
func (p *program) overLimits(limits ExprLimits) bool {
	if p == nil {
		return false
	}
	for _, n := range p.notes {
		if n.steps > limits.Steps || n.bytes > limits.Bytes {
			return true
		}
	}
	return false
}
