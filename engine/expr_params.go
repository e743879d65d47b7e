package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/expr-lang/expr/types"

	"github.com/kgrun/kgrun/schema"
)

// paramTemplate is a compiled ${{ EXPR }} string of a node's params. Like a guard it is
// compiled once, with the graph, and evaluated per visit against the run's state.
type paramTemplate struct {
	path  []any
	whole bool
	parts []templatePart
	// secret: the value is computed from a secret environment variable, so the trace
	// shows it redacted.
	secret bool
}

type templatePart struct {
	text string
	prog *program
}

// templateEnv is what a param template sees: what guards see, less the result, which
// does not exist before exec.
func templateEnv(names checkNames) types.Map {
	env := checkEnv(nil, names).(types.Map)
	delete(env, "result")
	return env
}

// compileTemplates compiles a node's param templates, reporting each expression's
// problems at its position inside the string.
func compileTemplates(ts []*schema.ParamTemplate, names checkNames, secretEnv map[string]bool, what string, ds *schema.Diagnostics) []*paramTemplate {
	if len(ts) == 0 {
		return nil
	}
	env := templateEnv(names)
	var out []*paramTemplate
	for _, t := range ts {
		ct := &paramTemplate{path: t.Path, whole: t.Whole}
		ok := true
		for _, p := range t.Parts {
			if p.Expr == nil {
				ct.parts = append(ct.parts, templatePart{text: p.Text})
				continue
			}
			prog := compileExprResult(p.Expr, env, nil, false, fmt.Sprintf("%s: params.%s", what, schema.PathString(t.Path)), ds)
			if prog == nil {
				ok = false
				continue
			}
			ct.parts = append(ct.parts, templatePart{prog: prog})
			ct.secret = ct.secret || readsSecretEnv(p.Expr.Source, secretEnv)
		}
		if ok {
			out = append(out, ct)
		}
	}
	return out
}

// evalParams computes a visit's params: the node's own, with every template replaced by
// its value. Containers on a template's path are copied, never the node's.
func (r *run) evalParams(n *node, v *Visit) (map[string]any, error) {
	r.setEnv(n, nil, v.failure, 0)
	out := maps.Clone(n.params)
	var traced map[string]any
	if r.tracer != nil {
		traced = make(map[string]any, len(n.templates))
	}
	for _, t := range n.templates {
		val, err := t.eval(&r.vm, r.exprEnv())
		if err != nil {
			return nil, fmt.Errorf("params.%s: %w", schema.PathString(t.path), err)
		}
		out = setPath(out, t.path, val)
	}
	if traced != nil {
		for _, t := range n.templates {
			val := valueAt(out, t.path)
			if t.secret {
				val = RedactedValue
			} else if n.typ != nil && n.typ.Redact != nil {
				val = n.typ.Redact(t.path, val, out)
			}
			if s, ok := val.(string); ok && len(s) > MaxMessageLen {
				val = ShortMessage(errors.New(s))
			}
			traced[schema.PathString(t.path)] = val
		}
		r.emit(Event{Kind: EventParams, Node: n.name, Visit: v.number, Params: traced})
	}
	return out, nil
}

// eval gives a whole template its expression's value, and any other the text with each
// value written in: strings as they are, other scalars as Go prints them, lists and
// maps as JSON (charged to the expression's byte limit first).
func (t *paramTemplate) eval(m *exprVM, env map[string]any) (any, error) {
	if t.whole {
		return t.parts[0].prog.eval(m, env)
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.prog == nil {
			b.WriteString(p.text)
			continue
		}
		val, err := p.prog.eval(m, env)
		if err != nil {
			return nil, err
		}
		switch x := val.(type) {
		case nil:
		case string:
			b.WriteString(x)
		case bool, int, int64, float64:
			fmt.Fprint(&b, x)
		default:
			m.budget.reset()
			if err := m.budget.deepSize(x, 0); err != nil {
				return nil, WithKind(Limit, &GuardError{Pos: p.prog.expr.Pos, Source: p.prog.src, Message: err.Error()})
			}
			js, err := json.Marshal(x)
			if err != nil {
				return nil, WithKind(Data, &GuardError{Pos: p.prog.expr.Pos, Source: p.prog.src, Message: "cannot write the value as text: " + err.Error()})
			}
			b.Write(js)
		}
	}
	return b.String(), nil
}

// setPath sets the value at path under root, copying each container on the way so that
// values shared with the compiled graph are never written.
func setPath(root map[string]any, path []any, val any) map[string]any {
	if len(path) == 0 {
		return root
	}
	var cur any = root
	for i, step := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			k, _ := step.(string)
			if last {
				c[k] = val
				return root
			}
			c[k] = clone(c[k])
			cur = c[k]
		case []any:
			k, _ := step.(int)
			if k < 0 || k >= len(c) {
				return root
			}
			if last {
				c[k] = val
				return root
			}
			c[k] = clone(c[k])
			cur = c[k]
		default:
			return root
		}
	}
	return root
}

// valueAt is the value at path under root, or nil.
func valueAt(root map[string]any, path []any) any {
	var cur any = root
	for _, step := range path {
		switch c := cur.(type) {
		case map[string]any:
			k, _ := step.(string)
			cur = c[k]
		case []any:
			k, _ := step.(int)
			if k < 0 || k >= len(c) {
				return nil
			}
			cur = c[k]
		default:
			return nil
		}
	}
	return cur
}

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return maps.Clone(x)
	case []any:
		return slices.Clone(x)
	}
	return v
}
