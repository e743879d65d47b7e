package engine

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"
)

func TestMaxStepsStopsCycles(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: loop
start: a
max_steps: 7
nodes:
  a: {type: echo, on: {success: b}}
  b: {type: echo, on: {success: a}}
`)
	res, _ := runVirtual(t, g, RunOptions{})
	if res.Status != StatusFailed || !errors.Is(res.Err, ErrMaxSteps) || len(res.Path) != 7 {
		t.Fatalf("%s: %v", pathString(res), res.Err)
	}
	res, _ = runVirtual(t, g, RunOptions{MaxSteps: 3})
	if len(res.Path) != 3 {
		t.Fatalf("MaxSteps option: %d steps", len(res.Path))
	}
}

func TestCanceledRunStops(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: cancel
start: a
nodes:
  a: {type: echo, on: {success: b}}
  b: {type: echo}
`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := g.Run(ctx, RunOptions{Clock: NewVirtualClock(Epoch)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusCanceled || !errors.Is(res.Err, context.Canceled) || len(res.Path) != 0 {
		t.Fatalf("%s: %v", pathString(res), res.Err)
	}
}

// TestInterruptRunsErrorHandler cancels a run while a node waits on the real clock: the
// wait ends at once, the failure is not routed to the node's fallback, and the error
// handler still runs before the run ends canceled.
func TestInterruptRunsErrorHandler(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: interrupt
start: work
error_handler: handler
nodes:
  work:
    type: sleep
    params: {sleep: 1h}
    fallback: spare
    on: {success: done}
  spare: {type: echo}
  done: {type: echo}
  handler: {type: echo, params: {action: other}}
`)
	ctx, cancel := context.WithCancel(context.Background())
	rec := &Recorder{}
	done := make(chan *Result)
	go func() {
		res, _ := g.Run(ctx, RunOptions{Tracer: rec})
		done <- res
	}()
	for len(eventsOf(rec.Events(), EventAttempt)) == 0 {
		runtime.Gosched()
	}
	cancel()
	res := <-done
	if got := pathString(res); got != "work → handler(other) = canceled" || res.Path[0].Route != "canceled" {
		t.Fatalf("path %s (route %q)", got, res.Path[0].Route)
	}
	if !errors.Is(res.Err, context.Canceled) || res.Failures[len(res.Failures)-1].Kind != Canceled {
		t.Fatalf("err %v, failures %v", res.Err, res.Failures)
	}
}

// blockNode holds its exec until release is closed or ctx ends.
type blockNode struct {
	echoNode
	started chan struct{}
	release chan struct{}
}

func (b *blockNode) Exec(ctx context.Context, a *Attempt, in any) (any, error) {
	b.started <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.echoNode.Exec(ctx, a, in)
}

func TestBulkheadFullIsResourceError(t *testing.T) {
	reg := testRegistry(t)
	blocker := &blockNode{echoNode: echoNode{action: "success"}, started: make(chan struct{}, 1), release: make(chan struct{})}
	if err := reg.Register(NodeType{Name: "block", Actions: []string{"success"}, New: func(NodeSpec) (Node, error) { return blocker, nil }}); err != nil {
		t.Fatal(err)
	}
	g, ds := Load("b.yaml", []byte(`
version: 1
name: bulkhead
start: work
nodes:
  work:
    type: block
    bulkhead: {max_concurrent: 1, max_wait: 50ms}
    on: {success: done, error: rejected}
  done: {type: echo}
  rejected: {type: echo}
`), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	first := make(chan *Result)
	go func() {
		res, _ := g.Run(context.Background(), RunOptions{})
		first <- res
	}()
	<-blocker.started
	clock := NewVirtualClock(Epoch)
	second := make(chan *Result)
	go func() {
		res, _ := g.Run(context.Background(), RunOptions{Clock: clock})
		second <- res
	}()
	// The second run waits for a slot on its virtual clock; once it waits, move the
	// clock past max_wait.
	for clock.Pending() == 0 {
		runtime.Gosched()
	}
	clock.Advance(50 * time.Millisecond)
	res := <-second
	if pathString(res) != "work(error) → rejected(success) = degraded" || res.Failures[0].Kind != Resource {
		t.Fatalf("second run: %s, %v", pathString(res), res.Failures)
	}
	close(blocker.release)
	if r := <-first; pathString(r) != "work(success) → done(success) = success" {
		t.Fatalf("first run: %s", pathString(r))
	}
}
