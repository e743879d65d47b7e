package builtin_test

// The code between the README markers is shown verbatim in README.md ("Embedding kgrun
// and writing a node type"); TestReadmeShowsTheEmbeddingExample keeps the two equal.

// README:begin
import (
	"context"
	"fmt"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
)

// greeter is a node type: Prep reads, Exec works, Post stores and picks the action.
type greeter struct{}

// greeting is greeter's result; the expr tag names its field in guards (result.text).
type greeting struct {
	Text string `expr:"text"`
}

func (greeter) Prep(v *engine.Visit) (any, error) {
	who, _ := v.Param("who")
	return fmt.Sprint(who), nil
}
func (greeter) Exec(ctx context.Context, a *engine.Attempt, in any) (any, error) {
	return greeting{Text: "hello, " + in.(string)}, nil // use a.Rand(), a.Clock(), a.Sleep(ctx, d)
}
func (greeter) Post(v *engine.Visit, in, out any) (string, error) {
	v.Set("greeting", out.(greeting).Text)
	return "greeted", nil
}

const hello = `
version: 1
name: hello
start: greet
params: {who: world}
nodes:
  greet:
    type: greeter
    retry: {attempts: 3, delay: 1s}
    on:
      greeted: [{to: again, when: "len(result.text) < 40"}]
  again: {type: greeter, params: {who: again}}    # no edges: the run ends here
`

func Example_embedding() {
	reg := builtin.Registry(builtin.Options{}) // or engine.NewRegistry() for none of the built-ins
	err := reg.Register(engine.NodeType{
		Name:    "greeter",
		Actions: []string{"greeted"},
		Result:  greeting{}, // optional: guards on result.text are type-checked at load
		New:     func(spec engine.NodeSpec) (engine.Node, error) { return greeter{}, nil },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	g, diags := engine.Load("hello.yaml", []byte(hello), reg) // or engine.LoadFile(path, reg)
	if g == nil {                                             // every diagnostic, sorted, each with its file:line:col
		fmt.Println(diags)
		return
	}
	ctx := context.Background()
	res, err := g.Run(ctx, engine.RunOptions{Seed: 7, Clock: engine.NewVirtualClock(engine.Epoch)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Status, res.PathNodes(), res.Shared["greeting"])
	// Output: success [greet again] hello, again
}

// README:end
