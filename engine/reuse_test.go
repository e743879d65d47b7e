package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
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
	hung := make(chan *run, 1) // the hung run's struct, as its prep saw it
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "stuck", Actions: []string{"success"}, New: func(NodeSpec) (Node, error) {
		return stuckNode{release, hung}, nil
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
	hungRun := <-hung
	for r, _ := runPool.Get().(*run); r != nil; r, _ = runPool.Get().(*run) {
		if r == hungRun {
			t.Fatal("the run given up to a hung exec was handed to the pool")
		}
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

// stuckNode's exec ignores its context and returns only when release is closed; its
// prep reports the run struct it visits on seen.
type stuckNode struct {
	release chan struct{}
	seen    chan *run
}

func (s stuckNode) Prep(v *Visit) (any, error) {
	select {
	case s.seen <- v.r:
	default:
	}
	return nil, nil
}
func (s stuckNode) Exec(context.Context, *Attempt, any) (any, error) {
	<-s.release
	return nil, nil
}
func (stuckNode) Post(*Visit, any, any) (string, error) { return "success", nil }

// TestReusedRunsAcrossGoroutines runs workflows of every kind from many goroutines at
// once, so that run structs pass between goroutines through the pool (on the real clock
// too, with its exec workers), and requires each result to be the one a run on a new
// struct gives: on virtual time the whole result, on the real clock status and path.
func TestReusedRunsAcrossGoroutines(t *testing.T) {
	reg := testRegistry(t)
	sources := []string{`
version: 1
name: timed
start: a
breakers:
  svc: {failure_threshold: 100, open_timeout: 1h}
nodes:
  a: {type: echo, params: {value: 1}, timeout: 5s, breaker: svc, on: {success: b}}
  b: {type: sleep, params: {sleep: 1ms}, timeout: 5s, retry: {attempts: 2, delay: 1ms}, on: {success: c}}
  c: {type: echo, params: {value: "${{ shared.a + 1 }}"}}
`, `
version: 1
name: fan
start: fan
nodes:
  fan:
    type: map
    items: [1, 2, 3, 4, 5, 6, 7, 8]
    max_concurrency: 3
    body:
      start: one
      nodes:
        one: {type: echo, params: {value: "${{ item * 10 }}"}}
      output: shared.one
    on: {success: done}
  done: {type: echo}
output: {items: shared.fan.items}
`}
	graphs := make([]*Graph, len(sources))
	for i, src := range sources {
		g, ds := Load("reuse.yaml", []byte(src), reg)
		if ds.HasErrors() {
			t.Fatalf("%s", ds)
		}
		graphs[i] = g
	}
	summary := func(res *Result, whole bool) string {
		if !whole {
			return fmt.Sprintf("%s %s %v", res.Status, pathString(res), res.Output)
		}
		r := *res
		r.Breakers = nil // a graph's breakers count every run of it
		b, err := json.Marshal(&r)
		if err != nil {
			t.Error(err)
		}
		return string(b)
	}
	run := func(g *Graph, clock Clock) *Result {
		res, err := g.Run(context.Background(), RunOptions{Clock: clock})
		if err != nil {
			t.Error(err)
			return &Result{}
		}
		return res
	}
	type want struct{ virtual, real string }
	wants := make([]want, len(graphs))
	for i, g := range graphs {
		for runPool.Get() != nil {
		}
		wants[i].virtual = summary(run(g, NewVirtualClock(Epoch)), true)
		for runPool.Get() != nil {
		}
		wants[i].real = summary(run(g, RealClock{}), false)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 40 {
				i := (w + k) % len(graphs)
				if k%2 == 0 {
					if got := summary(run(graphs[i], NewVirtualClock(Epoch)), true); got != wants[i].virtual {
						t.Errorf("goroutine %d, run %d of %s on virtual time:\n got %s\nwant %s", w, k, graphs[i].spec.Name, got, wants[i].virtual)
						return
					}
				} else if got := summary(run(graphs[i], RealClock{}), false); got != wants[i].real {
					t.Errorf("goroutine %d, run %d of %s on the real clock:\n got %s\nwant %s", w, k, graphs[i].spec.Name, got, wants[i].real)
					return
				}
			}
		}()
	}
	wg.Wait()
}
