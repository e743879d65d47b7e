package durable_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/store"
)

// down is a service that is always down.
type down struct{}

func (down) Prep(*engine.Visit) (any, error) { return nil, nil }
func (down) Exec(context.Context, *engine.Attempt, any) (any, error) {
	return nil, engine.Errorf(engine.Network, "connection refused")
}
func (down) Post(*engine.Visit, any, any) (string, error) { return "ok", nil }

// loadDown compiles src, whose nodes are of type "call", a service that is always down.
func loadDown(t *testing.T, file, src string) *engine.Graph {
	t.Helper()
	reg := engine.NewRegistry()
	if err := reg.Register(engine.NodeType{Name: "call", Actions: []string{"ok"},
		New: func(engine.NodeSpec) (engine.Node, error) { return down{}, nil }}); err != nil {
		t.Fatal(err)
	}
	g, ds := engine.Load(file, []byte(src), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return g
}

// openStore opens a fresh store in a temporary directory, closed when the test ends.
func openStore(t *testing.T) store.Store {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "state.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func callGraph(t *testing.T) *engine.Graph {
	t.Helper()
	return loadDown(t, "call.yaml", `
version: 1
name: call
start: call
breakers:
  api: {failure_threshold: 1, open_timeout: 1h}
nodes:
  call: {type: call, breaker: api, on: {ok: done, circuit_open: done, error: done}}
  done: {type: call, on: {ok: done2, error: done2, circuit_open: done2}}
  done2: {type: call}
`)
}

// TestRealRunsCarryBreakersSimulationsDoNot: a breaker a real run opened is open for the
// next real run, even in a graph compiled anew (as in another process); a simulated run
// starts with it closed and leaves it as it was.
func TestRealRunsCarryBreakersSimulationsDoNot(t *testing.T) {
	db := openStore(t)
	runner := &durable.Runner{Store: db}
	first := func(spec durable.Spec) engine.Step {
		t.Helper()
		run, err := runner.Start(context.Background(), callGraph(t), engine.RunOptions{}, spec)
		if err != nil {
			t.Fatal(err)
		}
		return run.Result.Path[0]
	}
	if s := first(durable.Spec{File: "call.yaml"}); s.Action != "error" {
		t.Fatalf("the first real run's call: %+v", s)
	}
	if s := first(durable.Spec{File: "call.yaml", VirtualTime: true}); s.Action != "error" {
		t.Errorf("a simulated run saw the real runs' open breaker: %+v", s)
	}
	if s := first(durable.Spec{File: "call.yaml"}); s.Action != "circuit_open" {
		t.Errorf("the second real run did not find the breaker open: %+v", s)
	}
	var bs map[string]any
	if ok, err := db.State(durable.BreakerKey("call", "api"), &bs); !ok || err != nil || bs["state"] != "open" {
		t.Errorf("saved breaker %v (ok %v, err %v)", bs, ok, err)
	}
}
