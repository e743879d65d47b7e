package engine

import (
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"

	"github.com/kgrun/kgrun/schema"
)

// The workflow's env allowlist. Expressions read env.NAME only for names listed under
// the workflow's env key: the check environment types env as a map with exactly those
// string fields, so any other name is a load error at its position. Values are read once
// per run through RunOptions.Env, never journaled, and a param computed from a secret
// variable is redacted wherever the trace would show it.

// RedactedValue is what the trace shows for a param computed from a secret variable.
const RedactedValue = "[redacted]"

// envType is the type expressions are checked against for env: one string field per
// listed variable, and no others.
func envType(vars []*schema.EnvVar) types.Map {
	t := make(types.Map, len(vars))
	for _, v := range vars {
		t[v.Name] = types.String
	}
	return t
}

// envValues reads the run's env through lookup, boxed for the expression environment.
// noEnv is the env: of a workflow that declares none, shared by its runs (expressions
// cannot change a map).
var noEnv = map[string]any{}

func envValues(w *schema.Workflow, lookup func(string) (string, bool)) (map[string]any, error) {
	if len(w.Env) == 0 {
		return noEnv, nil
	}
	vals, err := w.EnvValues(lookup)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(vals))
	for k, v := range vals {
		out[k] = v
	}
	return out, nil
}

// envNamesOf lists the names an env check environment allows, for did-you-mean.
func envNamesOf(env any) []string {
	var t types.Map
	switch e := env.(type) {
	case types.Map:
		t, _ = e["env"].(types.Map)
	case map[string]any:
		t, _ = e["env"].(types.Map)
	}
	names := make([]string, 0, len(t))
	for k := range t {
		names = append(names, k)
	}
	return names
}

// readsSecretEnv tells whether the expression src reads a secret variable: env.NAME or
// env["NAME"] for a secret NAME, or env used in any other way (a whole env, a computed
// key) while some variable is secret.
func readsSecretEnv(src string, secret map[string]bool) bool {
	if len(secret) == 0 || !strings.Contains(src, "env") {
		return false
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return true
	}
	v := &secretEnvVisitor{secret: secret, members: map[ast.Node]bool{}}
	ast.Walk(&tree.Node, v)
	for _, id := range v.idents {
		if !v.members[id] {
			v.found = true // env passed whole may carry any secret
		}
	}
	return v.found
}

type secretEnvVisitor struct {
	secret  map[string]bool
	members map[ast.Node]bool // env identifiers read through a member
	idents  []ast.Node        // every env identifier
	found   bool
}

// Visit sees children before their parent, so whether an env identifier is a member's
// base is known only once the walk ends.
func (v *secretEnvVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok || id.Value != "env" {
			return
		}
		v.members[id] = true
		if s, ok := n.Property.(*ast.StringNode); !ok || v.secret[s.Value] {
			v.found = true
		}
	case *ast.IdentifierNode:
		if n.Value == "env" {
			v.idents = append(v.idents, n)
		}
	}
}
