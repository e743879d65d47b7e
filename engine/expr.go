package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"

	"github.com/kgrun/kgrun/schema"
)

// ErrorInfo is what guards and hooks see as "error": the failure being routed, or the
// zero value (kind "") when there is none, so "error.kind == 'network'" never fails on nil.
type ErrorInfo struct {
	Kind     string `expr:"kind" json:"kind"`
	Message  string `expr:"message" json:"message"`
	Node     string `expr:"node" json:"node"`
	Action   string `expr:"action" json:"action"`
	Attempts int    `expr:"attempts" json:"attempts"`
}

// envNames are the names every guard and hook may use.
var envNames = []string{"input", "result", "shared", "params", "error", "node", "attempt", "env"}

// program is a compiled expression with the source position it came from. prog is the
// bounded form, which charges the evaluation's budget (see boundPatcher); notes are the
// costs evident at load, checked against the workflow's limits.
type program struct {
	src   string
	expr  *schema.Expr
	prog  *vm.Program
	notes []costNote
}

// checkNames says what expressions of a graph may name besides envNames: the workflow's
// listed environment variables under env, and, inside a map's body, the item and its
// index.
type checkNames struct {
	env  types.Map
	item bool
}

// itemNames are the names a map's body adds to its expressions.
var itemNames = []string{"item", "index"}

// itemKeys returns the names the graph's expressions see besides envNames.
func (n checkNames) itemKeys() []string {
	if n.item {
		return itemNames
	}
	return nil
}

// checkEnv builds the typed environment expressions are checked against. When the node
// type declares its result, "result" is checked against that type; otherwise it is any.
// env has exactly the workflow's listed variables (see envType).
func checkEnv(result any, names checkNames) any {
	env := names.env
	if env == nil {
		env = types.Map{}
	}
	if result == nil {
		m := types.Map{
			"input":   types.TypeOf(map[string]any{}),
			"result":  types.Any,
			"shared":  types.TypeOf(map[string]any{}),
			"params":  types.TypeOf(map[string]any{}),
			"error":   types.TypeOf(&ErrorInfo{}),
			"node":    types.String,
			"attempt": types.Int,
			"env":     env,
		}
		if names.item {
			m["item"], m["index"] = types.Any, types.Int
		}
		return m
	}
	m := map[string]any{
		"input":   map[string]any{},
		"result":  result,
		"shared":  map[string]any{},
		"params":  map[string]any{},
		"error":   &ErrorInfo{},
		"node":    "",
		"attempt": 0,
		"env":     env,
	}
	if names.item {
		m["item"], m["index"] = nil, 0
	}
	return m
}

// compileExpr compiles e against env, reporting problems at their position inside the
// YAML scalar. asBool requires a boolean result (guards, when, assert).
func compileExpr(e *schema.Expr, env any, asBool bool, what string, ds *schema.Diagnostics) *program {
	return compileExprResult(e, env, nil, asBool, what, ds)
}

// compileExprResult is compileExpr that also knows the node type's result, to suggest
// field names when an expression misspells one.
func compileExprResult(e *schema.Expr, env, result any, asBool bool, what string, ds *schema.Diagnostics) *program {
	if e == nil {
		return nil
	}
	p, err := compileChecked(e.Source, env, asBool)
	if err != nil {
		pos, msg := exprErrorAt(e, err)
		detail := ""
		if name := unknownName(msg); name == "result" && !hasName(env, "result") {
			detail = "params are computed before exec, so there is no result yet"
		} else if field, ok := strings.CutPrefix(msg, "unknown field "); ok && strings.Contains(e.Source, "env") {
			listed := envNamesOf(env)
			detail = schema.DidYouMean(field, listed)
			if detail == "" {
				detail = fmt.Sprintf("list %s under the workflow's env: key to read it", field)
			}
		} else if name != "" {
			known := envNames
			if hasName(env, "item") {
				known = append(slices.Clone(envNames), itemNames...)
			} else if slices.Contains(itemNames, name) {
				known = nil
				detail = name + " exists only inside a map's body"
			}
			if detail == "" {
				detail = schema.DidYouMean(name, known)
			}
			if detail == "" {
				detail = "expressions can use " + strings.Join(known, ", ")
			}
		} else if field, ok := missingField(msg, result); ok {
			detail = schema.DidYouMean(field, exprFields(result))
			if detail == "" {
				detail = "result has: " + strings.Join(exprFields(result), ", ")
			}
		} else if asBool && strings.HasPrefix(msg, "expected bool") {
			detail = "guards, when and assert must give true or false; compare the value, e.g. result.count > 0"
		}
		ds.Errorf(pos, detail, "%s: %s", what, msg)
		return nil
	}
	// The expression is correct as the user wrote it; now compile the form that runs,
	// with every cost that depends on data charged to the evaluation's budget.
	tree, err := parser.Parse(e.Source)
	if err != nil || needsBound(tree.Node) {
		bp := &boundPatcher{}
		opts := []expr.Option{expr.Env(boundEnv(env))}
		if asBool {
			opts = append(opts, expr.AsBool())
		}
		bounded, err := expr.Compile(e.Source, append(opts, boundOptions(bp)...)...)
		if err != nil {
			pos, msg := exprErrorAt(e, err)
			ds.Errorf(pos, "rewrite the expression more simply", "%s: cannot be bounded: %s", what, msg)
			return nil
		}
		p = bounded
	}
	var notes []costNote
	if tree != nil {
		notes = exprCost(tree.Node)
	}
	return &program{src: e.Source, expr: e, prog: p, notes: notes}
}

// checkCost reports, at load, a part of the expression whose evident cost is over the
// workflow's limits: the innermost such part, where the fix belongs.
func (p *program) checkCost(limits ExprLimits, what string, ds *schema.Diagnostics) {
	if p == nil {
		return
	}
	for _, n := range p.notes {
		limit, allowed, got, unit := "", int64(0), int64(0), ""
		switch {
		case n.steps > limits.Steps:
			limit, allowed, got, unit = "expr_steps", limits.Steps, n.steps, "steps"
		case n.bytes > limits.Bytes:
			limit, allowed, got, unit = "expr_bytes", limits.Bytes, n.bytes, "bytes"
		default:
			continue
		}
		fe := &file.Error{Location: n.loc}
		fe.Bind(file.NewSource(p.src))
		amount := fmt.Sprint(got)
		if got >= huge {
			amount = "more than 2^62"
		}
		ds.Errorf(p.expr.At(fe.Line, fe.Column), fmt.Sprintf("use smaller ranges or values, or raise limits.%s (at most %d)", limit, maxLimit(limit)),
			"%s: this part of the expression takes up to %s %s, over the limit of %d (limits.%s)", what, amount, unit, allowed, limit)
		return
	}
}

// exprErrorAt splits an expr error into the file position it points at and its message
// without expr's own "(line:col)" and snippet.
func exprErrorAt(e *schema.Expr, err error) (schema.Pos, string) {
	var fe *file.Error
	if errors.As(err, &fe) {
		return e.At(fe.Line, fe.Column), fe.Message
	}
	return e.Pos, err.Error()
}

// missingField recognises expr's "type T has no field F" when T is the result type.
func missingField(msg string, result any) (string, bool) {
	if result == nil {
		return "", false
	}
	prefix := "type " + reflect.TypeOf(result).String() + " has no field "
	field, ok := strings.CutPrefix(msg, prefix)
	return strings.TrimSpace(field), ok
}

// exprFields lists the names expressions use for a struct's fields (expr tags first).
func exprFields(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, _, _ := strings.Cut(f.Tag.Get("expr"), ","); tag != "" {
			name = tag
		}
		out = append(out, name)
	}
	return out
}

// hasName tells whether a check environment defines name.
func hasName(env any, name string) bool {
	switch e := env.(type) {
	case types.Map:
		_, ok := e[name]
		return ok
	case map[string]any:
		_, ok := e[name]
		return ok
	}
	return true
}

func unknownName(msg string) string {
	if rest, ok := strings.CutPrefix(msg, "unknown name "); ok {
		return strings.TrimSpace(rest)
	}
	return ""
}

// GuardError is a guard or hook expression that failed at run time, with its position.
type GuardError struct {
	Pos     schema.Pos
	Source  string
	Message string
}

func (g *GuardError) Error() string {
	return fmt.Sprintf("%s: expression %q failed: %s", g.Pos, g.Source, g.Message)
}

// eval runs p on the run's machine and environment, within the budget's limits. A limit
// reached is an error of kind Limit, a canceled run's context one of kind Canceled.
func (p *program) eval(m *exprVM, env map[string]any) (any, error) {
	if !m.ready {
		m.begin(nil, DefaultExprLimits)
		env[budgetName] = &m.budget
	}
	m.budget.reset()
	out, err := m.vm.Run(p.prog, env)
	if err == nil {
		return out, nil
	}
	pos, msg := exprErrorAt(p.expr, err)
	kind := Internal
	var le *LimitError
	switch {
	case errors.As(err, &le):
		kind, msg = Limit, le.Error()
	case msg == "memory budget exceeded":
		kind, msg = Limit, (&LimitError{Limit: "expr_bytes", Max: m.budget.maxBytes}).Error()
	case m.budget.ctx != nil && m.budget.ctx.Err() != nil:
		kind, msg = Canceled, "interrupted: "+context.Cause(m.budget.ctx).Error()
	}
	return nil, WithKind(kind, &GuardError{Pos: pos, Source: p.src, Message: msg})
}

// test evaluates a boolean expression.
func (p *program) test(m *exprVM, env map[string]any) (bool, error) {
	out, err := p.eval(m, env)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}
