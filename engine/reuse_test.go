package engine

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestReusedRunsMatchFreshOnes runs workflows of every kind one after another, so that
// each run takes the state a different run left (another graph, clock, scenario, params
// and expression machine), and requires every result to equal the one the same run gave
// the first time round.
func TestReusedRunsMatchFreshOnes(t *testing.T) {
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "phase", Actions: []string{"next", "default"},
		New: func(s NodeSpec) (Node, error) {
			ph, _ := s.Params["phase"].(string)
			how, _ := s.Params["how"].(string)
			return &phaseNode{phase: ph, how: how}, nil
		}}); err != nil {
		t.Fatal(err)
	}
	sources := []string{`
version: 1
name: guarded
start: a
params: {limit: 3}
nodes:
  a:
    type: echo
    params: {value: 2}
    hooks:
      after_exec: [{set: {seen: "result.value + params.limit"}}]
    on: {success: [{to: b, when: "result.value < params.limit"}, {to: c}]}
  b: {type: echo, params: {value: "${{ shared.seen }}"}, on: {success: c}}
  c: {type: echo}
output: {seen: shared.seen}
`, `
version: 1
name: policies
start: a
breakers:
  svc: {failure_threshold: 2, open_timeout: 10s}
nodes:
  a:
    type: sleep
    params: {sleep: 3s}
    timeout: 1s
    retry: {attempts: 3, delay: 1s, jitter: full}
    breaker: svc
    bulkhead: {max_concurrent: 1, max_wait: 1s}
    on: {success: b, timeout: b, circuit_open: b, retry_exhausted: b}
  b: {type: echo, timeout: 1s}
scenarios:
  flaky:
    faults:
      b: {rate: 0.5, kind: network}
`, `
version: 1
name: goexit
start: a
nodes:
  a: {type: phase, params: {phase: exec, how: goexit}, on: {next: b, error: b}}
  b: {type: phase, params: {phase: post, how: panic}, on: {next: a, error: c}}
  c: {type: echo}
`}
	// Each run loads its graph afresh, so that the breaker state a graph keeps across
	// its runs starts the same; the run's own state is what comes from the runs before.
	load := func(src string) *Graph {
		g, ds := Load("reuse.yaml", []byte(src), reg)
		if ds.HasErrors() {
			t.Fatalf("%s", ds)
		}
		return g
	}
	run := func(g *Graph, seed int64, scenario string) string {
		opts := RunOptions{Clock: NewVirtualClock(Epoch), Seed: seed}
		if _, ok := g.scenarios["flaky"]; ok {
			opts.Scenario = scenario
		}
		res, err := g.Run(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(struct {
			R *Result
			E string
		}{res, errString(res.Err)})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// Round 0 runs each on a new struct (the pool emptied first); later rounds run
	// them in other orders, each on the struct a different run left.
	type key struct{ src, seed, scenario int }
	var keys []key
	for i := range sources {
		for seed := range 4 {
			for sc := range 2 {
				keys = append(keys, key{i, seed, sc})
			}
		}
	}
	scenarios := []string{"", "flaky"}
	first := map[key]string{}
	for _, k := range keys {
		for runPool.Get() != nil {
		}
		first[k] = run(load(sources[k.src]), int64(k.seed), scenarios[k.scenario])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 1; round <= 3; round++ {
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		for _, k := range keys {
			if got := run(load(sources[k.src]), int64(k.seed), scenarios[k.scenario]); got != first[k] {
				t.Fatalf("round %d, workflow %d, seed %d, scenario %q, on a reused run:\n got %s\nwant %s", round, k.src, k.seed, scenarios[k.scenario], got, first[k])
			}
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestHungRunIsNotReused: a run the watchdog took over from a hung exec is never
// handed to another run, which goes on undisturbed when the hung exec returns.
func TestHungRunIsNotReused(t *testing.T) {
	release := make(chan struct{})
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "stuck", Actions: []string{"success"}, New: func(NodeSpec) (Node, error) {
		return stuckNode{release}, nil
	}}); err != nil {
		t.Fatal(err)
	}
	g, ds := Load("stuck.yaml", []byte(`
version: 1
name: stuck
start: a
nodes:
  a: {type: stuck, timeout: 100ms, on: {success: b, timeout: b}}
  b: {type: echo}
`), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	res, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusDegraded && res.Status != StatusSuccess || len(res.Path) != 2 {
		t.Fatalf("hung run: %s", pathString(res))
	}
	other := mustLoad(t, `
version: 1
name: after
start: a
nodes:
  a: {type: sleep, params: {sleep: 2s}, timeout: 5s}
`)
	done := make(chan *Result)
	go func() {
		r, _ := other.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch)})
		done <- r
	}()
	close(release) // the hung exec returns into a run that has moved on
	select {
	case r := <-done:
		if r.Status != StatusSuccess || r.Elapsed != Duration(2*time.Second) {
			t.Fatalf("run after the hung one: %s in %s", pathString(r), r.Elapsed)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the run after the hung one did not end")
	}
}

// stuckNode's exec ignores its context and returns only when release is closed.
type stuckNode struct{ release chan struct{} }

func (stuckNode) Prep(*Visit) (any, error) { return nil, nil }
func (s stuckNode) Exec(context.Context, *Attempt, any) (any, error) {
	<-s.release
	return nil, nil
}
func (stuckNode) Post(*Visit, any, any) (string, error) { return "success", nil }
