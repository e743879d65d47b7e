package engine

import (
	"errors"
	"strings"
	"testing"
)

// TestRejectedVisitsShareTheirFailure: visits a breaker refuses share one NodeError
// (no allocation per rejection), and a long run keeps only the first PathLimit
// failures, counting the rest.
func TestRejectedVisitsShareTheirFailure(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: rejections
start: a
breakers:
  svc: {failure_threshold: 1, open_timeout: 1h}
nodes:
  a: {type: recover, breaker: svc, on: {recovered: b, circuit_open: b}}
  b: {type: recover, breaker: svc, on: {recovered: a, circuit_open: a}}
`)
	res, _ := runVirtual(t, g, RunOptions{MaxSteps: 50, PathLimit: 5})
	if len(res.Failures) != 5 || res.FailuresDropped != 46 {
		t.Fatalf("kept %d failures, dropped %d; want 5 and 46 (50 visits and max_steps)", len(res.Failures), res.FailuresDropped)
	}
	if res.Failures[0].Kind != Network {
		t.Errorf("first failure %s, want the network failure that opened the breaker", res.Failures[0].Kind)
	}
	if res.Failures[1] != res.Failures[3] || res.Failures[1].Node != "b" || res.Failures[1].Kind != CircuitOpen {
		t.Errorf("b's rejections are not one shared failure: %+v, %+v", res.Failures[1], res.Failures[3])
	}
	if res.Failures[1].Attempts != 1 || res.Failures[1].Phase != "exec" || !errors.Is(res.Failures[1], ErrCircuitOpen) {
		t.Errorf("rejection %+v", res.Failures[1])
	}
	if st := res.Path[1]; st.Failure == nil || st.Failure.Kind != CircuitOpen || st.Action != "circuit_open" || st.To != "a" {
		t.Errorf("step of a rejected visit: %+v", st)
	}
}

// TestUnroutedRejectionGetsItsOwnFailure: a rejection nothing routes ends the run with
// its own failure wrapping ErrUnrouted; the node's shared one is left as it was, so the
// next run reports the same.
func TestUnroutedRejectionGetsItsOwnFailure(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: unrouted
start: a
breakers:
  svc: {failure_threshold: 1, open_timeout: 1h}
nodes:
  a: {type: recover, breaker: svc, on: {recovered: b, circuit_open: b}}
  b: {type: recover, breaker: svc, on: {recovered: a}}
`)
	var msgs []string
	for range 2 {
		res, _ := runVirtual(t, g, RunOptions{})
		if res.Status != StatusFailed || !errors.Is(res.Err, ErrUnrouted) || !errors.Is(res.Err, ErrCircuitOpen) {
			t.Fatalf("status %s, err %v; want failed, unrouted rejection", res.Status, res.Err)
		}
		last := res.Failures[len(res.Failures)-1]
		if last != res.Err || !errors.Is(last, ErrUnrouted) {
			t.Errorf("the run's last failure %v is not the error it ended with %v", last, res.Err)
		}
		msgs = append(msgs, res.Err.Error())
	}
	if msgs[0] != msgs[1] || strings.Count(msgs[1], ErrUnrouted.Error()) != 1 {
		t.Errorf("the second run reports %q after %q", msgs[1], msgs[0])
	}
	b := g.byName["b"]
	if errors.Is(b.rejection, ErrUnrouted) {
		t.Errorf("the node's shared rejection was changed: %v", b.rejection)
	}
}
