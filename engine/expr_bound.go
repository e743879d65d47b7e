package engine

import (
	"reflect"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/types"
)

// boundPatcher rewrites a checked expression so that everything whose cost is not fixed
// by the expression's own length charges a per-evaluation budget:
//
//   - a builtin that walks a list, with a closure (all, map, filter, reduce, sortBy...)
//     or without (sum, sort, uniq, "in"...), charges the list's length in steps before
//     it runs: one hidden call per walk, none per element;
//   - a value built by concatenation or a string or list builtin charges its own size in
//     bytes after it is built (it is at most a few times its inputs, which were charged);
//   - a builtin whose output can dwarf its input (repeat, join, replace, toJSON, string,
//     flatten) is called through call, which charges its output before building it.
//
// Ranges, list and map literals are charged by expr's own memory counter.
type boundPatcher struct{}

// walked lists builtins that walk their first argument without a closure, and are
// charged its length.
var walked = map[string]bool{
	"sum": true, "count": true, "max": true, "min": true, "mean": true, "median": true, "uniq": true,
	"sort": true, "reverse": true, "keys": true, "values": true, "toPairs": true, "fromPairs": true,
	"concat": true, "take": true,
}

// building lists builtins whose result is a new string or list at most a few times the
// size of their inputs.
var building = map[string]bool{
	"trim": true, "trimPrefix": true, "trimSuffix": true, "upper": true, "lower": true, "split": true,
	"splitAfter": true, "toBase64": true, "fromBase64": true, "fromJSON": true, "concat": true,
	"keys": true, "values": true, "toPairs": true, "fromPairs": true, "sort": true, "reverse": true,
	"uniq": true, "take": true,
}

func (p *boundPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "+":
			if isNumber(n.Left.Type()) && isNumber(n.Right.Type()) {
				return
			}
			fn := fnOut
			if isString(n.Type()) {
				fn = fnOutStr
			}
			ast.Patch(node, p.hidden(fn, n, n))
		case "in":
			if k := kindOf(n.Right.Type()); k == reflect.Map || k == reflect.Struct || k == reflect.String || isLiteralList(n.Right) {
				return
			}
			n.Right = p.hidden(fnIter, n.Right, n.Right)
		}
	case *ast.BuiltinNode:
		if expanding[n.Name] {
			name := &ast.StringNode{Value: n.Name}
			name.SetLocation(n.Location())
			ast.Patch(node, p.hidden(fnCall, n, append([]ast.Node{name}, n.Arguments...)...))
			return
		}
		if len(n.Arguments) > 0 && hasClosure(n) {
			// A closure is charged the length of the list it walks when it starts, so a
			// short-circuiting one (all, any, find...) pays for every element; nested
			// closures are charged again on every start, and so multiply.
			n.Arguments[0] = p.hidden(fnIter, closureAt(n), n.Arguments[0])
		} else if walked[n.Name] && len(n.Arguments) > 0 && !isLiteralList(n.Arguments[0]) {
			n.Arguments[0] = p.hidden(fnIter, n.Arguments[0], n.Arguments[0])
		}
		if building[n.Name] {
			ast.Patch(node, p.hidden(fnOut, n, n))
		}
	}
}

// needsBound tells whether the patcher would change anything in the tree, so that the
// common guard (a comparison or two) is compiled once.
func needsBound(root ast.Node) bool {
	return ast.Find(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryNode:
			return n.Operator == "+" || n.Operator == "in"
		case *ast.BuiltinNode:
			return expanding[n.Name] || walked[n.Name] || building[n.Name] || hasClosure(n)
		}
		return false
	}) != nil
}

// hidden builds a call to one of the budget's functions, placed at the position of at
// so that an error it raises points there.
func (p *boundPatcher) hidden(fn string, at ast.Node, args ...ast.Node) ast.Node {
	loc := at.Location()
	callee := &ast.IdentifierNode{Value: fn}
	callee.SetLocation(loc)
	b := &ast.IdentifierNode{Value: budgetName}
	b.SetLocation(loc)
	c := &ast.CallNode{Callee: callee, Arguments: append([]ast.Node{b}, args...)}
	c.SetLocation(loc)
	return c
}

// isLiteralList tells a range or a list written out, whose elements expr's memory counter
// already charged (and whose uses expr's optimizer rewrites: "x in 1..9" is two
// comparisons).
func isLiteralList(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.BinaryNode:
		return n.Operator == ".."
	case *ast.ArrayNode:
		return true
	}
	return false
}

// closureAt is the closure of a builtin, where a step limit reached while charging its
// walk is reported: inside the innermost closure that the limit stopped.
func closureAt(n *ast.BuiltinNode) ast.Node {
	for _, a := range n.Arguments {
		if c, ok := a.(*ast.PredicateNode); ok {
			return c.Node
		}
	}
	return n
}

func hasClosure(n *ast.BuiltinNode) bool {
	for _, a := range n.Arguments {
		if _, ok := a.(*ast.PredicateNode); ok {
			return true
		}
	}
	return false
}

func kindOf(t reflect.Type) reflect.Kind {
	if t == nil {
		return reflect.Interface
	}
	return t.Kind()
}

func isNumber(t reflect.Type) bool {
	k := kindOf(t)
	return k >= reflect.Int && k <= reflect.Float64
}

func isString(t reflect.Type) bool { return kindOf(t) == reflect.String }

// boundOptions are the compile options of a bounded program: the hidden functions, and
// the patcher that calls them.
func boundOptions(p *boundPatcher) []expr.Option {
	return []expr.Option{
		expr.Function(fnIter, iter),
		expr.Function(fnOut, out),
		expr.Function(fnOutStr, out, new(func(*exprBudget, string) string)),
		expr.Function(fnCall, call),
		expr.Patch(p),
	}
}

// boundEnv is env with the budget's name added.
func boundEnv(env any) any {
	switch e := env.(type) {
	case types.Map:
		out := make(types.Map, len(e)+1)
		for k, v := range e {
			out[k] = v
		}
		out[budgetName] = types.TypeOf(&exprBudget{})
		return out
	case map[string]any:
		out := make(map[string]any, len(e)+1)
		for k, v := range e {
			out[k] = v
		}
		out[budgetName] = &exprBudget{}
		return out
	}
	return env
}
