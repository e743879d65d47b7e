package engine

import (
	"reflect"

	"github.com/kgrun/kgrun/schema"
)

// exprCache shares, within one Compile, the work of expressions written alike: a
// generated or copy-pasted workflow repeats the same guard on many nodes, and checking
// and compiling it again for each costs more than the rest of the node.
//
// Two expressions share a compiled program only when their sources are identical and
// they are checked against the very same environment value (one the cache built, see
// checkEnv), with the same result kind. A compiled program is immutable and already shared by
// every run of the graph; each expression keeps its own *schema.Expr, so positions in
// diagnostics and in run-time errors are its own. Expressions that do not compile are
// never shared: each reports its problems where it is written.
type exprCache struct {
	names checkNames
	// envs are the check environments built so far, by the Go type of the node type's
	// result (nil: no declared result).
	envs map[reflect.Type]any
	// owned are the identities of those environments.
	owned map[uintptr]bool
	progs map[exprCacheKey]*program
}

type exprCacheKey struct {
	src    string
	env    uintptr
	asBool bool
}

func newExprCache(names checkNames) *exprCache {
	return &exprCache{names: names, envs: map[reflect.Type]any{}, owned: map[uintptr]bool{}, progs: map[exprCacheKey]*program{}}
}

// checkEnv is checkEnv(result, envT), built once per result type for the cache's own
// envT. A result whose checking may depend on more than its type (a map, whose keys expr
// reads), or another envT, gets an environment of its own, which is never shared. The
// environment returned may be shared with other nodes: it must not be modified.
func (c *exprCache) checkEnv(result any, names checkNames) any {
	if c == nil || names.item != c.names.item || reflect.ValueOf(names.env).Pointer() != reflect.ValueOf(c.names.env).Pointer() {
		return checkEnv(result, names)
	}
	t := reflect.TypeOf(result)
	if result != nil && !structLike(t) {
		return checkEnv(result, names)
	}
	if env, ok := c.envs[t]; ok {
		return env
	}
	env := checkEnv(result, names)
	c.envs[t] = env
	c.owned[reflect.ValueOf(env).Pointer()] = true
	return env
}

// structLike reports whether t is a struct or a pointer to one, whose checking depends on
// its type alone.
func structLike(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// compile is compileExprResult, sharing the compiled program with earlier expressions of
// the same source checked against the same environment built by env.
func (c *exprCache) compile(e *schema.Expr, env, result any, asBool bool, what string, ds *schema.Diagnostics) *program {
	if c == nil || e == nil {
		return compileExprResult(e, env, result, asBool, what, ds)
	}
	v := reflect.ValueOf(env)
	if v.Kind() != reflect.Map || !c.owned[v.Pointer()] {
		return compileExprResult(e, env, result, asBool, what, ds)
	}
	key := exprCacheKey{src: e.Source, env: v.Pointer(), asBool: asBool}
	if p, ok := c.progs[key]; ok {
		return &program{src: e.Source, expr: e, prog: p.prog, notes: p.notes}
	}
	p := compileExprResult(e, env, result, asBool, what, ds)
	if p != nil {
		c.progs[key] = p
	}
	return p
}
