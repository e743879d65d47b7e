package engine

import (
	"errors"
	"reflect"
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

// exprConfigKey names an environment by what type checking sees of it.
type exprConfigKey struct {
	typed     bool         // a types.Map environment (no declared result)
	hasResult bool         // typed: "result" is present
	result    reflect.Type // untyped: the declared result's type
	asBool    bool
}

// exprConfigKeyOf returns env's key, or false when env's checking may depend on more
// than its type (a map-valued result, whose keys expr reads), so it must not be shared.
func exprConfigKeyOf(env any, asBool bool) (exprConfigKey, bool) {
	switch e := env.(type) {
	case types.Map:
		if len(e) != len(envNames) && len(e) != len(envNames)-1 {
			return exprConfigKey{}, false
		}
		_, has := e["result"]
		return exprConfigKey{typed: true, hasResult: has, asBool: asBool}, true
	case map[string]any:
		t := reflect.TypeOf(e["result"])
		if t == nil || len(e) != len(envNames) {
			return exprConfigKey{}, false
		}
		base := t
		if base.Kind() == reflect.Pointer {
			base = base.Elem()
		}
		if base.Kind() != reflect.Struct {
			return exprConfigKey{}, false
		}
		return exprConfigKey{result: t, asBool: asBool}, true
	}
	return exprConfigKey{}, false
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
