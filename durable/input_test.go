package durable_test

import (
	"context"
	"testing"

	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/engine"
)

// TestRedriveFromFirstVisitKeepsInput: a run that fails on its first visit is redriven
// from that visit, where no checkpoint is applied; its input still comes back from the
// journal, so a required input is not reported missing.
func TestRedriveFromFirstVisitKeepsInput(t *testing.T) {
	db := openStore(t)
	g := loadDown(t, "in.yaml", `
version: 1
name: in
start: call
input:
  type: object
  properties: {n: {type: integer}}
  required: [n]
output: {n: "input.n"}
nodes:
  call: {type: call}
`)
	runner := &durable.Runner{Store: db}
	run, err := runner.Start(context.Background(), g, engine.RunOptions{Input: map[string]any{"n": 7}}, durable.Spec{File: "in.yaml", VirtualTime: true})
	if err != nil {
		t.Fatal(err)
	}
	if run.Result.Status != engine.StatusFailed {
		t.Fatalf("first run: %v", run.Result.Status)
	}
	meta, point, err := runner.Prepare(run.Meta.ID, g, 0)
	if err != nil {
		t.Fatal(err)
	}
	if point.State.Input() != nil {
		t.Fatalf("the restart point applies a checkpoint (input %v): this test needs a redrive from visit 1", point.State.Input())
	}
	again, err := runner.Resume(context.Background(), g, engine.RunOptions{}, meta, point)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range again.Result.Failures {
		if f.Phase == "input" {
			t.Fatalf("the redriven run lost its input: %v", f.Err)
		}
	}
	if len(again.Result.Path) != 1 || again.Result.Path[0].Node != "call" {
		t.Errorf("redriven path %+v", again.Result.Path)
	}
}
