package durable_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/store"
)

// stepper is an embedding program's node type: it records in the shared store which
// step ran last and fails while its step is the broken one.
type stepper struct{ broken *string }

func (stepper) Prep(v *engine.Visit) (any, error) { name, _ := v.Param("name"); return name, nil }
func (s stepper) Exec(_ context.Context, _ *engine.Attempt, in any) (any, error) {
	if in == *s.broken {
		return nil, engine.Errorf(engine.Resource, "worker lost")
	}
	return in, nil
}
func (stepper) Post(v *engine.Visit, _, out any) (string, error) {
	v.Set("last", out)
	return "next", nil
}

// Example shows a program getting journaled, resumable runs: the first run fails at
// step c; Prepare rebuilds it from the store and Resume redrives it from there.
func Example() {
	broken := "c"
	reg := engine.NewRegistry()
	if err := reg.Register(engine.NodeType{Name: "step", Actions: []string{"next"},
		New: func(engine.NodeSpec) (engine.Node, error) { return stepper{&broken}, nil }}); err != nil {
		panic(err)
	}
	g, diags := engine.Load("steps.yaml", []byte(`
version: 1
name: steps
start: a
nodes:
  a: {type: step, params: {name: a}, on: {next: b}}
  b: {type: step, params: {name: b}, on: {next: c}}
  c: {type: step, params: {name: c}, on: {next: d}}
  d: {type: step, params: {name: d}}
`), reg)
	if diags.HasErrors() {
		panic(diags)
	}

	dir, _ := os.MkdirTemp("", "durable-example")
	defer os.RemoveAll(dir)
	db, err := store.Open(filepath.Join(dir, "state.db"), store.Options{})
	if err != nil {
		panic(err)
	}
	defer db.Close()
	runner := &durable.Runner{Store: db}

	run, err := runner.Start(context.Background(), g, engine.RunOptions{}, durable.Spec{File: "steps.yaml", VirtualTime: true})
	if err != nil {
		panic(err)
	}
	fmt.Println("run", run.Meta.ID, run.Result.Status, run.Result.PathNodes())

	broken = "" // the fault is gone
	meta, point, err := runner.Prepare(run.Meta.ID, g, 0)
	if err != nil {
		panic(err)
	}
	again, err := runner.Resume(context.Background(), g, engine.RunOptions{}, meta, point)
	if err != nil {
		panic(err)
	}
	fmt.Println(again.How)
	fmt.Println("run", again.Meta.ID, again.Result.Status, again.Result.PathNodes(), "last", again.Result.Shared["last"])

	_, _, err = runner.Prepare("99", g, 0)
	fmt.Println(errors.Is(err, store.ErrNoRun))
	// Output:
	// run 1 failed [a b c]
	// redriving from visit 3 (c)
	// run 1 success [a b c d] last d
	// true
}
