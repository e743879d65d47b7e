package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/internal/golden"
	"github.com/kgrun/kgrun/schema"
)

// exprPlaces are the four places an expression is evaluated, each as a workflow template
// whose %s is the (quoted) expression. The expression is always on line 12.
var exprPlaces = []struct{ name, tmpl string }{
	{"guard", "  a:\n    type: echo\n    on:\n      success:\n        - to: b\n          when: %s\n        - {to: b}\n  b: {type: echo}\n"},
	{"when", "  a:\n    type: echo\n    hooks:\n      before_prep:\n        - set: {x: '1'}\n          when: %s\n    on: {success: b}\n  b: {type: echo}\n"},
	{"assert", "  a:\n    type: echo\n    hooks:\n      after_exec:\n        - message: never\n          assert: %s\n    on: {success: b}\n  b: {type: echo}\n"},
	{"set", "  a:\n    type: echo\n    hooks:\n      after_exec:\n        - set:\n            x: %s\n    on: {success: b}\n  b: {type: echo}\n"},
}

func exprWorkflow(tmpl, expr, limits string) string {
	src := "version: 1\nname: limits\nstart: a\nparams: {n: 40, big: 100000000, side: 3000}\n" + limits + "nodes:\n"
	if limits == "" {
		src += "\n" // keep the expression on line 12 whether or not limits are given
	}
	return src + fmt.Sprintf(tmpl, strconv.Quote(expr))
}

// TestExprLimitsAtLoad: hostile expressions whose cost is evident in their text are load
// errors naming the position of the costly part and the limit, in every place.
func TestExprLimitsAtLoad(t *testing.T) {
	exprs := []string{
		"let r = 1..999999; all(r, {all(r, {true})})",
		`reduce(1..31, #acc + #acc, "a") != ""`,
		`reduce(1..40, #acc + #acc, "a") != ""`,
		`len(repeat("ab", 100000000)) > 0`,
		`len(map(1..2000, {map(1..2000, {#})})) > 0`,
	}
	var out strings.Builder
	for _, p := range exprPlaces {
		for _, e := range exprs {
			_, ds := Load("limits.yaml", []byte(exprWorkflow(p.tmpl, e, "")), testRegistry(t))
			if !ds.HasErrors() {
				t.Errorf("%s %q: loaded", p.name, e)
				continue
			}
			fmt.Fprintf(&out, "%s %s\n", p.name, e)
			for _, d := range ds.Errors() {
				fmt.Fprintf(&out, "  %s\n", d)
			}
		}
	}
	golden.Check(t, "../testdata/golden/expr_limits_load.txt", out.String())
}

// bigList is a list of n integers, for expressions whose cost depends on data.
func bigList(n int) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = i
	}
	return l
}

// dag is a list that refers to the one below it twice, depth times: small in memory,
// 2^depth values when printed.
func dag(depth int) any {
	var v any = []any{1, 2}
	for range depth {
		v = []any{v, v}
	}
	return v
}

// TestExprLimitsAtRun: hostile expressions whose cost depends on the run's data end, in
// every place, as a failure of kind limit naming the position and the limit.
func TestExprLimitsAtRun(t *testing.T) {
	exprs := []string{
		"let r = shared.list; all(r, {all(r, {true})})",
		`reduce(shared.list, #acc + #acc, "a") != ""`,
		`reduce(1..params.n, #acc + #acc, "a") != ""`,
		`len(repeat("ab", params.big)) > 0`,
		`len(toJSON(shared.dag)) > 0`,
		`len(string(shared.dag)) > 0`,
		`len(flatten(shared.dag)) > 0`,
		`len(join(map(shared.list, "x"), repeat("-", 1000))) > 0`,
		`let r = 1..params.side; len(map(r, {map(r, {#})})) > 0`,
		`let r = 1..params.big; len(r) > 0`,
		`sum(map(shared.list, {sum(shared.list)})) > 0`,
		`let s = shared.list; count(s, {-1 in s}) > 0`,
	}
	shared := map[string]any{"list": bigList(100_000), "dag": dag(40)}
	var out strings.Builder
	for _, p := range exprPlaces {
		for _, e := range exprs {
			// Low limits keep the test fast; the command line's tests use the defaults.
			g, ds := Load("limits.yaml", []byte(exprWorkflow(p.tmpl, e, "limits: {expr_steps: 20000, expr_bytes: 1MiB}\n")), testRegistry(t))
			if g == nil {
				t.Errorf("%s %q: %s", p.name, e, ds)
				continue
			}
			res, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch), Shared: shared})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != StatusFailed || KindOf(res.Err) != Limit {
				t.Errorf("%s %q: status %s, error %v; want failed with kind limit", p.name, e, res.Status, res.Err)
				continue
			}
			var ge *GuardError
			if !errors.As(res.Err, &ge) || ge.Pos.Line != 12 {
				t.Errorf("%s %q: %v does not point at the expression", p.name, e, res.Err)
			}
			fmt.Fprintf(&out, "%s %s\n  %s\n", p.name, e, res.Err)
		}
	}
	golden.Check(t, "../testdata/golden/expr_limits_run.txt", out.String())
}

// TestExprLimitsPerWorkflow: the workflow's limits: raise and lower the bounds, at load
// and at run time; values past the hard caps or below the floors are load errors.
func TestExprLimitsPerWorkflow(t *testing.T) {
	guard := exprPlaces[0].tmpl
	cases := []struct {
		name, expr, limits string
		loads              bool
		status             Status
	}{
		{"static steps within the default", "all(1..5000, {true})", "", true, StatusSuccess},
		{"static steps over a lowered limit", "all(1..5000, {true})", "limits: {expr_steps: 4000}\n", false, ""},
		{"static steps under a raised limit", "let r = 1..1100; all(r, {all(r, {true})})", "limits: {expr_steps: 2000000}\n", true, StatusSuccess},
		{"static steps over the default", "let r = 1..1100; all(r, {all(r, {true})})", "", false, ""},
		{"run steps over a lowered limit", "all(shared.list, {true})", "limits: {expr_steps: 4000}\n", true, StatusFailed},
		{"run steps within the default", "all(shared.list, {true})", "", true, StatusSuccess},
		{"run bytes over a lowered limit", `len(repeat("x", params.side * 100)) > 0`, "limits: {expr_bytes: 64KiB}\n", true, StatusFailed},
		{"run bytes within the default", `len(repeat("x", params.side * 100)) > 0`, "", true, StatusSuccess},
		{"static bytes over a lowered limit", `len(repeat("x", 300000)) > 0`, "limits: {expr_bytes: 100000}\n", false, ""},
		{"static bytes under a raised limit", `len(repeat("x", 50000000)) > 0`, "limits: {expr_bytes: 64MiB}\n", true, StatusSuccess},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, ds := Load("limits.yaml", []byte(exprWorkflow(guard, c.expr, c.limits)), testRegistry(t))
			if (g != nil) != c.loads {
				t.Fatalf("loaded %v, want %v:\n%s", g != nil, c.loads, ds)
			}
			if g == nil {
				if !strings.Contains(ds.Error(), "limits.expr_") || !strings.Contains(ds.Error(), "limits.yaml:12:") {
					t.Fatalf("diagnostic does not name the limit and the position:\n%s", ds)
				}
				return
			}
			res, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch), Shared: map[string]any{"list": bigList(5000)}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != c.status {
				t.Fatalf("status %s (%v), want %s", res.Status, res.Err, c.status)
			}
			if c.status == StatusFailed && KindOf(res.Err) != Limit {
				t.Fatalf("error %v, want kind limit", res.Err)
			}
		})
	}
}

// TestExprLimitsOutOfBounds: limits past the hard caps, below the floors or of the wrong
// form are load errors at their position.
func TestExprLimitsOutOfBounds(t *testing.T) {
	for _, c := range []struct{ limits, want string }{
		{"limits: {expr_steps: 1000000000}\n", "4:22: error: limits: expr_steps is 1000000000 steps, over the hard cap of 100000000"},
		{"limits: {expr_steps: 10}\n", "4:22: error: limits: expr_steps is 10 steps, below the floor of 1000"},
		{"limits: {expr_bytes: 2GiB}\n", "4:22: error: limits: expr_bytes is 2147483648 bytes, over the hard cap of 1073741824"},
		{"limits: {expr_bytes: lots}\n", `4:22: error: limits: expr_bytes must be a size, not "lots"`},
		{"limits: {expr_step: 5000}\n", `4:10: error: unknown key "expr_step" in limits`},
	} {
		src := "version: 1\nname: limits\nstart: a\n" + c.limits + "nodes:\n  a: {type: echo}\n"
		_, ds := Load("limits.yaml", []byte(src), testRegistry(t))
		if !strings.Contains(ds.Error(), "limits.yaml:"+c.want) {
			t.Errorf("%q: got\n%s\nwant %q", c.limits, ds, c.want)
		}
	}
}

// cancelNode cancels the run's context in post, so the guard evaluated next starts on a
// canceled run: it must stop within a few thousand steps instead of running to its limit.
type cancelNode struct {
	echoNode
	cancel context.CancelFunc
}

func (c *cancelNode) Post(v *Visit, in, out any) (string, error) {
	c.cancel()
	return c.echoNode.Post(v, in, out)
}

// TestExprCancelStopsEvaluation: an evaluation that would take a hundred million steps
// ends soon after the run is canceled, and the run ends canceled, not failed.
func TestExprCancelStopsEvaluation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "cancel", Actions: []string{"success"}, Result: echoResult{},
		New: func(NodeSpec) (Node, error) { return &cancelNode{echoNode{action: "success"}, cancel}, nil }}); err != nil {
		t.Fatal(err)
	}
	src := "version: 1\nname: cancel\nstart: a\nlimits: {expr_steps: 100000000}\nnodes:\n" +
		"  a: {type: cancel, on: {success: [{to: b, when: 'let r = shared.list; all(r, {all(r, {true})})'}, {to: b}]}}\n  b: {type: echo}\n"
	g, ds := Load("cancel.yaml", []byte(src), reg)
	if g == nil {
		t.Fatal(ds)
	}
	res, err := g.Run(ctx, RunOptions{Clock: NewVirtualClock(Epoch), Shared: map[string]any{"list": bigList(10_000)}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusCanceled {
		t.Fatalf("status %s, error %v; want canceled", res.Status, res.Err)
	}
	last := res.Path[len(res.Path)-1]
	if last.Failure == nil || last.Failure.Kind != Canceled || !strings.Contains(last.Failure.Message, "interrupted") {
		t.Fatalf("last step %+v; want the guard interrupted", last)
	}
}

// TestBoundedMatchesUnbounded: the bounded form of an expression gives the same value as
// the expression as written, for the constructs the rewrite touches.
func TestBoundedMatchesUnbounded(t *testing.T) {
	for _, e := range boundedSeeds {
		got, want, ok := evalBoth(t, e)
		if ok && !sameResult(got, want) {
			t.Errorf("%s: bounded %#v, as written %#v", e, got, want)
		}
	}
}

// TestExprLimitsClampedForGo: a workflow built in Go gets the defaults when it sets no
// limits and the hard caps when it sets more.
func TestExprLimitsClampedForGo(t *testing.T) {
	g := mustLoad(t, "version: 1\nname: t\nstart: a\nnodes:\n  a: {type: echo}\n")
	w := *g.spec
	for _, c := range []struct {
		set, want ExprLimits
	}{
		{ExprLimits{}, DefaultExprLimits},
		{ExprLimits{Steps: 1 << 40, Bytes: 1 << 40}, ExprLimits{Steps: schema.MaxExprSteps, Bytes: schema.MaxExprBytes}},
	} {
		w.Limits = schema.ExprLimits{Steps: c.set.Steps, Bytes: c.set.Bytes}
		g2, ds := Compile(&w, testRegistry(t))
		if g2 == nil {
			t.Fatal(ds)
		}
		if g2.exprLimits != c.want {
			t.Errorf("limits %+v give %+v, want %+v", c.set, g2.exprLimits, c.want)
		}
	}
}
