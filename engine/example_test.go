package engine_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/kgrun/kgrun/engine"
)

// greeter is a custom node type: it greets the "who" param and routes on whether the
// greeting was short.
type greeter struct{}

type greeting struct {
	Text string `expr:"text"`
}

func (greeter) Prep(v *engine.Visit) (any, error) {
	who, _ := v.Param("who")
	return fmt.Sprint(who), nil
}

func (greeter) Exec(_ context.Context, _ *engine.Attempt, in any) (any, error) {
	return greeting{Text: "hello, " + in.(string)}, nil
}

func (greeter) Post(v *engine.Visit, _, out any) (string, error) {
	v.Set("greeting", out.(greeting).Text)
	return "greeted", nil
}

func Example() {
	reg := engine.NewRegistry()
	err := reg.Register(engine.NodeType{
		Name:    "greeter",
		Actions: []string{"greeted"},
		Result:  greeting{}, // lets guards be type-checked: result.text
		// Declared params are checked at load (a misspelled "whom" is an error) and
		// appear in the JSON Schema.
		Params: []engine.Param{{Name: "who", Type: engine.ParamString, Required: true, Doc: "whom to greet"}},
		New:    func(engine.NodeSpec) (engine.Node, error) { return greeter{}, nil },
	})
	if err != nil {
		panic(err)
	}

	src := `
version: 1
name: hello
start: greet
params: {who: world}
nodes:
  greet:
    type: greeter
    retry: {attempts: 3, delay: 1s}
    on:
      greeted:
        - {to: again, when: "len(result.text) < 20"}
  again:
    type: greeter
    params: {who: again}
scenarios:
  flaky:
    faults:
      greet:
        script: [{calls: "1-2", fail: network}]
`
	g, diags := engine.Load("hello.yaml", []byte(src), reg)
	if diags.HasErrors() {
		fmt.Println(diags)
		return
	}
	res, err := g.Run(context.Background(), engine.RunOptions{
		Scenario: "flaky",
		Seed:     1,
		Clock:    engine.NewVirtualClock(engine.Epoch), // retries wait on virtual time
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Status, strings.Join(res.PathNodes(), " → "))
	fmt.Println(res.Shared["greeting"], "after", res.Calls["greet"], "calls in", res.Elapsed)
	// Output:
	// success greet → again
	// hello, again after 3 calls in 2s
}
