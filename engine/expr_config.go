package engine

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
)

// A fresh expr configuration (the builtin table, the checked environment) costs more than
// checking a short guard, and a workflow's expressions share a handful of environments.
// exprConfigs keeps, per environment shape and result kind, a pool of configurations built
// once: a pool, because a configuration carries a type cache that one compile at a time
// may fill, and Loads may run on many goroutines.
var exprConfigs sync.Map // exprConfigKey → *sync.Pool of *conf.Config

// exprConfigKey names an environment by what type checking sees of it: its names (and
// the names under "env", which differ from workflow to workflow), whether "result" is
// typed, and the declared result's type.
type exprConfigKey struct {
	names     string       // the environment's names, sorted, then env's own
	typed     bool         // a types.Map environment (no declared result)
	hasResult bool         // typed: "result" is present
	result    reflect.Type // untyped: the declared result's type
	asBool    bool
}

// exprConfigKeyOf returns env's key, or false when env's checking may depend on more
// than its names and types (a map-valued result, whose keys expr reads, or an "env"
// that is not a typed map), so it must not be shared.
func exprConfigKeyOf(env any, asBool bool) (exprConfigKey, bool) {
	switch e := env.(type) {
	case types.Map:
		names, ok := envSignature(e)
		if !ok {
			return exprConfigKey{}, false
		}
		_, has := e["result"]
		return exprConfigKey{names: names, typed: true, hasResult: has, asBool: asBool}, true
	case map[string]any:
		t := reflect.TypeOf(e["result"])
		if t == nil {
			return exprConfigKey{}, false
		}
		base := t
		if base.Kind() == reflect.Pointer {
			base = base.Elem()
		}
		if base.Kind() != reflect.Struct {
			return exprConfigKey{}, false
		}
		names, ok := envSignature(e)
		if !ok {
			return exprConfigKey{}, false
		}
		return exprConfigKey{names: names, result: t, asBool: asBool}, true
	}
	return exprConfigKey{}, false
}

// envSignature lists an environment's names and those of its "env" allowlist; ok is
// false when "env" is present but not a typed map of the allowlisted names.
func envSignature[M ~map[string]V, V any](e M) (string, bool) {
	names := slices.Sorted(maps.Keys(e))
	var allow []string
	if v, has := e["env"]; has {
		m, ok := any(v).(types.Map)
		if !ok {
			return "", false
		}
		allow = slices.Sorted(maps.Keys(m))
	}
	return strings.Join(names, ",") + "|" + strings.Join(allow, ","), true
}

// compileChecked compiles src as expr.Compile(src, expr.Env(env), [expr.AsBool()]) does,
// with a configuration reused across expressions of the same environment.
func compileChecked(src string, env any, asBool bool) (*vm.Program, error) {
	opts := []expr.Option{expr.Env(env)}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	key, ok := exprConfigKeyOf(env, asBool)
	if !ok {
		return expr.Compile(src, opts...)
	}
	pool, _ := exprConfigs.LoadOrStore(key, &sync.Pool{New: func() any {
		c := conf.CreateNew()
		for _, op := range opts {
			op(c)
		}
		for name := range c.Disabled {
			delete(c.Builtins, name)
		}
		c.Check()
		return c
	}})
	p := pool.(*sync.Pool)
	c := p.Get().(*conf.Config)
	defer p.Put(c)
	tree, err := checker.ParseCheck(src, c)
	if err != nil {
		return nil, err
	}
	if c.Optimize {
		if err := optimizer.Optimize(&tree.Node, c); err != nil {
			var fe *file.Error
			if errors.As(err, &fe) {
				return nil, fe.Bind(tree.Source)
			}
			return nil, err
		}
	}
	return compiler.Compile(tree, c)
}
