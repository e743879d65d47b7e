package engine

import (
	"context"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// BenchmarkExprBounded compares, in the same run, expressions as written with their
// bounded form: what the budget's hidden calls cost per element and per concatenation.
func BenchmarkExprBounded(b *testing.B) {
	list := bigList(100)
	for _, c := range []struct{ name, src string }{
		{"closure100", "all(shared.list, {# >= 0})"},
		{"concat", "shared.name + '-' + node"},
		{"in100", "99 in shared.list"},
	} {
		env := exprEnv()
		env["shared"].(map[string]any)["list"] = list
		check := checkEnv(echoResult{}, checkNames{})
		written, err := expr.Compile(c.src, expr.Env(check))
		if err != nil {
			b.Fatal(err)
		}
		bounded, err := expr.Compile(c.src, append([]expr.Option{expr.Env(boundEnv(check))}, boundOptions(&boundPatcher{})...)...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/written", func(b *testing.B) {
			var m vm.VM
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Run(written, env); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/bounded", func(b *testing.B) {
			var m exprVM
			m.begin(context.Background(), DefaultExprLimits)
			env[budgetName] = &m.budget
			b.ReportAllocs()
			for b.Loop() {
				m.budget.reset()
				if _, err := m.vm.Run(bounded, env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
