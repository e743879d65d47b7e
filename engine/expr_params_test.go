package engine

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// paramsNode records, in post, every param its exec and its post see.
type paramsNode struct{ echoNode }

func (p *paramsNode) Exec(ctx context.Context, a *Attempt, _ any) (any, error) {
	seen := map[string]any{}
	for _, k := range []string{"value", "label", "cfg", "list", "from_hook", "plain"} {
		if v, ok := a.Param(k); ok {
			seen[k] = v
		}
	}
	return seen, nil
}

func (p *paramsNode) Post(v *Visit, _, out any) (string, error) {
	v.Set("exec_"+v.Node(), out)
	label, _ := v.Param("label")
	v.Set("post_"+v.Node(), label)
	return "success", nil
}

func paramsRegistry(t *testing.T) *Registry {
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "params", Actions: []string{"success"},
		New: func(NodeSpec) (Node, error) { return &paramsNode{}, nil }}); err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestParamTemplates: ${{ }} in node params is evaluated per visit; a string that is one
// expression takes its typed value, any other string is text; nested lists and maps are
// reached; the compiled graph's params are never changed.
func TestParamTemplates(t *testing.T) {
	src := `version: 1
name: templates
start: a
params: {threshold: 3}
nodes:
  a:
    type: params
    hooks:
      before_prep:
        - set: {x: "'from hook'"}
    params:
      value: "${{ params.threshold * 2 }}"
      label: "node ${{ node }}, threshold ${{ params.threshold }}, cfg ${{ shared.cfg }}"
      cfg: "${{ shared.cfg }}"
      list: [1, "${{ shared.x }}", {deep: "${{ node + '!' }}"}]
      from_hook: ${{ shared.x }}
      plain: no template here
    on: {success: b}
  b: {type: params, params: {label: "${{ error.kind == '' ? 'clean' : 'failed' }} visit of ${{ node }}"}}
`
	g, ds := Load("t.yaml", []byte(src), paramsRegistry(t))
	if g == nil {
		t.Fatal(ds)
	}
	before := fmt.Sprint(g.byName["a"].params)
	for range 2 {
		rec := &Recorder{}
		res, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch), Tracer: rec, Shared: map[string]any{"cfg": map[string]any{"k": 1}}})
		if err != nil || res.Status != StatusSuccess {
			t.Fatalf("%v %v %v", err, res.Status, res.Err)
		}
		want := map[string]any{
			"value": 6, "label": `node a, threshold 3, cfg {"k":1}`, "cfg": map[string]any{"k": 1},
			"list": []any{1, "from hook", map[string]any{"deep": "a!"}}, "from_hook": "from hook", "plain": "no template here",
		}
		if got := res.Shared["exec_a"]; !reflect.DeepEqual(got, want) {
			t.Errorf("exec saw %#v\nwant %#v", got, want)
		}
		if got := res.Shared["post_a"]; got != want["label"] {
			t.Errorf("post saw label %#v", got)
		}
		if got := res.Shared["post_b"]; got != "clean visit of b" {
			t.Errorf("b's post saw label %#v", got)
		}
		ev := eventsOf(rec.Events(), EventParams)
		if len(ev) != 2 || ev[0].Node != "a" || ev[0].Params["list[1]"] != "from hook" || ev[0].Params["value"] != 6 || ev[1].Params["label"] != "clean visit of b" {
			t.Errorf("params events %+v", ev)
		}
	}
	if after := fmt.Sprint(g.byName["a"].params); after != before {
		t.Errorf("the graph's params changed: %s, was %s", after, before)
	}
}

// TestParamTemplateErrors: problems in a template are load errors at their position
// inside the string; costs evident at load are refused; costs that depend on data end
// the visit with a failure of kind limit in phase params.
func TestParamTemplateErrors(t *testing.T) {
	for _, c := range []struct{ params, want string }{
		{`{label: "x ${{ sharde.y }}"}`, "t.yaml:5:44: error: node \"a\": params.label: unknown name sharde\n    did you mean \"shared\"?"},
		{`{label: 'x ${{ result.y }}'}`, "t.yaml:5:44: error: node \"a\": params.label: unknown name result\n    params are computed before exec"},
		{`{label: "x ${{ node"}`, `t.yaml:5:40: error: node "a": params.label: ${{ is not closed`},
		{`{label: "${{   }}"}`, `t.yaml:5:38: error: node "a": params.label: empty ${{ }}`},
		{`{list: [1, {k: "${{ 1 + }}"}]}`, `t.yaml:5:51: error: node "a": params.list[1].k: unexpected token`},
		{`{big: "${{ repeat('x', 100000000) }}"}`, `t.yaml:5:40: error: node "a": params.big: this part of the expression takes up to 100000000 bytes`},
	} {
		src := "version: 1\nname: t\nstart: a\nnodes:\n  a: {type: params, params: " + c.params + "}\n"
		_, ds := Load("t.yaml", []byte(src), paramsRegistry(t))
		if !strings.Contains(ds.Error(), c.want) {
			t.Errorf("%s:\n%s\nwant %q", c.params, ds.Error(), c.want)
		}
	}

	src := "version: 1\nname: t\nstart: a\nparams: {n: 40}\nnodes:\n  a: {type: params, params: {label: \"${{ reduce(1..params.n, #acc + #acc, 'a') }}\"}}\n"
	g, ds := Load("t.yaml", []byte(src), paramsRegistry(t))
	if g == nil {
		t.Fatal(ds)
	}
	res, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusFailed || KindOf(res.Err) != Limit || res.Path[0].Failure.Phase != "params" ||
		!strings.Contains(res.Err.Error(), "t.yaml:6:") || !strings.Contains(res.Err.Error(), "params.label") {
		t.Fatalf("status %s, error %v; want a limit failure in phase params naming the template", res.Status, res.Err)
	}
}
