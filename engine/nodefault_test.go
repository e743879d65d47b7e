package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
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

// escapingNode breaks the node contract in the ways Go allows: its phases can end their
// goroutine with runtime.Goexit, its exec can return an error that panics when read, or
// block, ignoring ctx, until the test releases it.
type escapingNode struct {
	goexitIn string // "prep", "exec" or "post"
	err      error
	out      any
	hang     chan struct{}
	entered  chan struct{} // closed when exec starts, when set
	waitCtx  bool          // exec waits for its context to end
}

func (e *escapingNode) Prep(*Visit) (any, error) {
	if e.goexitIn == "prep" {
		runtime.Goexit()
	}
	return nil, nil
}

func (e *escapingNode) Exec(ctx context.Context, _ *Attempt, _ any) (any, error) {
	if e.goexitIn == "exec" {
		runtime.Goexit()
	}
	if e.entered != nil {
		close(e.entered)
	}
	if e.hang != nil {
		<-e.hang
	}
	if e.waitCtx {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return e.out, e.err
}

func (e *escapingNode) Post(v *Visit, _, out any) (string, error) {
	if e.goexitIn == "post" {
		runtime.Goexit()
	}
	v.Set(v.Node(), out)
	return "success", nil
}

// panickyError panics when its message is read.
type panickyError struct{}

func (panickyError) Error() string { panic("Error() exploded") }

// panickyValue panics when the journal encodes it.
type panickyValue struct{}

func (panickyValue) MarshalJSON() ([]byte, error) { panic("MarshalJSON exploded") }

// TestNodeFaultsAreContained: each way a node can escape the engine's protection through
// the Go API ends as a failure of that visit, routed by the workflow, and Run returns;
// no goroutine is left behind once a hung exec is released.
func TestNodeFaultsAreContained(t *testing.T) {
	const routed = `
version: 1
name: escaping
start: work
nodes:
  work:
    type: escaping
    %s
    retry: {attempts: 2, delay: 1ms}
    on: {success: done, retry_exhausted: recover, error: recover, timeout: recover}
  recover: {type: echo}
  done: {type: echo}
`
	for _, c := range []struct {
		name    string
		node    *escapingNode
		policy  string // extra policy lines for work
		journal bool
		real    bool // on the real clock, where timed execs run on the run's exec worker
		path    string
		phase   string
		calls   int
		message string
		elapsed Duration // on the virtual clock, when set
	}{
		{name: "error whose Error panics", node: &escapingNode{err: panickyError{}},
			path: "work(retry_exhausted) → recover(success) = degraded", phase: "exec", calls: 2, message: "reading the node's error (a engine.panickyError) panicked: Error() exploded"},
		{name: "error whose Error panics, timed", node: &escapingNode{err: panickyError{}}, policy: "timeout: 1s",
			path: "work(retry_exhausted) → recover(success) = degraded", phase: "exec", calls: 2, message: "Error() exploded"},
		{name: "error whose Error panics, timed, real clock", node: &escapingNode{err: panickyError{}}, policy: "timeout: 1s", real: true,
			path: "work(retry_exhausted) → recover(success) = degraded", phase: "exec", calls: 2, message: "Error() exploded"},
		{name: "Goexit in prep", node: &escapingNode{goexitIn: "prep"},
			path: "work(error) → recover(success) = degraded", phase: "prep", message: `node "work": prep called runtime.Goexit`},
		{name: "Goexit in exec", node: &escapingNode{goexitIn: "exec"},
			path: "work(error) → recover(success) = degraded", phase: "exec", calls: 1, message: `node "work": exec called runtime.Goexit`},
		{name: "Goexit in exec, timed", node: &escapingNode{goexitIn: "exec"}, policy: "timeout: 1s",
			path: "work(error) → recover(success) = degraded", phase: "exec", calls: 1, message: `node "work": exec called runtime.Goexit`},
		{name: "Goexit in exec, timed, real clock", node: &escapingNode{goexitIn: "exec"}, policy: "timeout: 1s", real: true,
			path: "work(retry_exhausted) → recover(success) = degraded", phase: "exec", calls: 2, message: `exec called runtime.Goexit`},
		{name: "Goexit in post", node: &escapingNode{goexitIn: "post"},
			path: "work(error) → recover(success) = degraded", phase: "post", calls: 1, message: `node "work": post called runtime.Goexit`},
		{name: "exec hung on a virtual clock", node: &escapingNode{hang: make(chan struct{})}, policy: "timeout: 50ms",
			path: "work(timeout) → recover(success) = degraded", phase: "exec", calls: 1, message: "exceeded the 50ms timeout: exec did not return",
			elapsed: Duration(50 * time.Millisecond)},
		{name: "exec waiting on ctx on a virtual clock", node: &escapingNode{waitCtx: true}, policy: "timeout: 50ms",
			path: "work(timeout) → recover(success) = degraded", phase: "exec", calls: 1, message: "exceeded the 50ms timeout",
			elapsed: Duration(50 * time.Millisecond)},
		{name: "exec hung on the real clock", node: &escapingNode{hang: make(chan struct{})}, policy: "timeout: 10ms", real: true,
			path: "work(retry_exhausted) → recover(success) = degraded", phase: "exec", calls: 2, message: "exceeded the 10ms timeout"},
		{name: "shared value whose MarshalJSON panics", node: &escapingNode{out: panickyValue{}}, journal: true,
			path: "work(success) = failed", phase: "journal", calls: 1, message: "encoding it panicked: MarshalJSON exploded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer verifyNoLeaks(t)
			reg := testRegistry(t)
			if err := reg.Register(NodeType{Name: "escaping", Actions: []string{"success"}, New: func(NodeSpec) (Node, error) { return c.node, nil }}); err != nil {
				t.Fatal(err)
			}
			g, ds := Load("escaping.yaml", []byte(fmt.Sprintf(routed, c.policy)), reg)
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			opts := RunOptions{}
			if c.journal {
				opts.Journal = journalFunc(func(*Checkpoint) error { return nil })
			}
			var res *Result
			var events []Event
			if c.real {
				rec := &Recorder{}
				opts.Tracer = rec
				var err error
				if res, err = g.Run(context.Background(), opts); err != nil {
					t.Fatal(err)
				}
				events = rec.Events()
			} else {
				res, events = runVirtual(t, g, opts)
			}
			if c.node.hang != nil {
				close(c.node.hang)
			}
			if got := pathString(res); got != c.path {
				t.Fatalf("path %s", got)
			}
			if res.Calls["work"] != c.calls {
				t.Errorf("%d calls, want %d", res.Calls["work"], c.calls)
			}
			f := res.Failures[0]
			if f.Node != "work" || f.Phase != c.phase || !strings.Contains(f.Error(), c.message) {
				t.Errorf("failure %s (phase %s), want phase %s saying %q", f, f.Phase, c.phase, c.message)
			}
			if c.elapsed != 0 && res.Elapsed != c.elapsed {
				t.Errorf("elapsed %s on the virtual clock, want %s", res.Elapsed, c.elapsed)
			}
			for i, e := range events {
				if e.Seq != i+1 {
					t.Fatalf("event %d has seq %d", i, e.Seq)
				}
			}
		})
	}
}

// TestHungExecCanceledOnVirtualClock: canceling a run whose exec hangs, ignoring ctx,
// on a virtual clock ends the run canceled.
func TestHungExecCanceledOnVirtualClock(t *testing.T) {
	defer verifyNoLeaks(t)
	node := &escapingNode{hang: make(chan struct{}), entered: make(chan struct{})}
	defer close(node.hang)
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "escaping", Actions: []string{"success"}, New: func(NodeSpec) (Node, error) { return node, nil }}); err != nil {
		t.Fatal(err)
	}
	g, ds := Load("hung.yaml", []byte(`
version: 1
name: hung
start: work
nodes:
  work: {type: escaping, timeout: 1h}
`), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	ctx, cancel := context.WithCancel(context.Background())
	clock := NewVirtualClock(Epoch)
	go func() {
		<-node.entered // cancel once exec hangs
		cancel()
	}()
	res, err := g.Run(ctx, RunOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusCanceled {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
}
