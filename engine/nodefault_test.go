package engine

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// faultyNode fails or succeeds as its fields say: err is returned from Exec, and out is
// Exec's result, which Post stores in the shared store under the node's name.
type faultyNode struct {
	err error
	out any
}

func (f *faultyNode) Prep(*Visit) (any, error) { return nil, nil }
func (f *faultyNode) Exec(context.Context, *Attempt, any) (any, error) {
	return f.out, f.err
}
func (f *faultyNode) Post(v *Visit, _, out any) (string, error) {
	v.Set(v.Node(), out)
	return "success", nil
}

func loadFaulty(t *testing.T, node *faultyNode, src string) *Graph {
	t.Helper()
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "faulty", Actions: []string{"success"}, New: func(NodeSpec) (Node, error) { return node, nil }}); err != nil {
		t.Fatal(err)
	}
	g, ds := Load("faulty.yaml", []byte(src), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return g
}

const faultyWorkflow = `
version: 1
name: faulty
start: work
nodes:
  work:
    type: faulty
    retry: {attempts: 3, delay: 1s}
    on: {success: done, retry_exhausted: recover}
  recover: {type: echo}
  done: {type: echo}
`

// TestErrorWithoutKind: a plain Go error carries kind "error", which retries by default;
// when the attempts run out it takes the retry_exhausted edge like any other kind.
func TestErrorWithoutKind(t *testing.T) {
	plain := errors.New("disk said no")
	g := loadFaulty(t, &faultyNode{err: plain}, faultyWorkflow)
	res, events := runVirtual(t, g, RunOptions{})
	if got := pathString(res); got != "work(retry_exhausted) → recover(success) = degraded" {
		t.Fatalf("path %s", got)
	}
	if res.Calls["work"] != 3 || delays(events) != "1s 1s" {
		t.Fatalf("%d calls, delays %q", res.Calls["work"], delays(events))
	}
	f := res.Failures[0]
	if f.Kind != Failed || !errors.Is(f, plain) || res.Path[0].Failure.Message != "disk said no" {
		t.Fatalf("failure %+v, step %+v", f, res.Path[0].Failure)
	}
}

// TestHugeErrorMessage: a node failing with megabytes of text puts at most MaxMessageLen
// bytes of it into each trace event and step, says how much it left out, and keeps the
// whole error for the Go caller.
func TestHugeErrorMessage(t *testing.T) {
	text := strings.Repeat("é", 1<<20) // two bytes each: the cut must not split one
	g := loadFaulty(t, &faultyNode{err: errors.New(text)}, faultyWorkflow)
	res, events := runVirtual(t, g, RunOptions{})
	if got := res.Failures[0].Err.Error(); got != text {
		t.Fatalf("the full error was not kept: %d bytes", len(got))
	}
	msg := res.Path[0].Failure.Message
	want := strings.Repeat("é", MaxMessageLen/2) + "… (2096128 more bytes)"
	if msg != want {
		t.Fatalf("step message is %d bytes, ends %q", len(msg), msg[max(0, len(msg)-40):])
	}
	failed := eventsOf(events, EventAttemptFailed)
	if len(failed) != 3 {
		t.Fatalf("%d attempt_failed events", len(failed))
	}
	for _, e := range append(failed, eventsOf(events, EventNodeEnd)...) {
		if len(e.Message) > MaxMessageLen+32 {
			t.Fatalf("%s event carries %d bytes of message", e.Kind, len(e.Message))
		}
	}
}

// TestHugeResultIsNotCopied: a 64 MiB result passes from Exec to Post and into the shared
// store by reference; the run itself allocates a tiny fraction of it.
func TestHugeResultIsNotCopied(t *testing.T) {
	big := make([]byte, 64<<20)
	big[len(big)-1] = 7
	g := loadFaulty(t, &faultyNode{out: big}, faultyWorkflow)
	opts := RunOptions{Clock: NewVirtualClock(Epoch)}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := g.Run(context.Background(), opts)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := res.Shared["work"].([]byte)
	if !ok || len(got) != len(big) || &got[0] != &big[0] {
		t.Fatalf("shared[work] is not the node's result")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("the run allocated %d bytes for a %d-byte result", alloc, len(big))
	}
	if pathString(res) != "work(success) → done(success) = success" {
		t.Fatalf("path %s", pathString(res))
	}
}
