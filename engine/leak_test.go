package engine

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// hangNode's exec never returns on its own: it waits for its context to end.
type hangNode struct{ echoNode }

func (hangNode) Exec(ctx context.Context, _ *Attempt, _ any) (any, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestTimeoutLeaksNoGoroutine: on the real clock, an exec that would never return is cut
// by its per-attempt timeout, retried, cut again, and routed on; afterwards no goroutine
// of the run is left behind.
func TestTimeoutLeaksNoGoroutine(t *testing.T) {
	defer verifyNoLeaks(t)
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "hang", Actions: []string{"success"}, New: func(NodeSpec) (Node, error) { return &hangNode{echoNode{action: "success"}}, nil }}); err != nil {
		t.Fatal(err)
	}
	g, ds := Load("hang.yaml", []byte(`
version: 1
name: hang
start: work
nodes:
  work:
    type: hang
    timeout: 10ms
    retry: {attempts: 3}
    on: {retry_exhausted: done}
  done: {type: echo}
`), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	res, err := g.Run(context.Background(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pathString(res) != "work(retry_exhausted) → done(success) = degraded" || res.Calls["work"] != 3 {
		t.Fatalf("%s after %d calls", pathString(res), res.Calls["work"])
	}
}

// verifyNoLeaks fails t if a goroutine other than an idle driver (driver.go: kept on
// purpose between runs, a bounded number) is still running.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	goleak.VerifyNone(t, goleak.IgnoreTopFunction("github.com/kgrun/kgrun/engine.(*driver).loop"))
}

// TestIdleDriversAreBounded: however many runs went before, at most maxIdleDrivers
// goroutines wait between runs, and a run reuses one rather than starting another.
func TestIdleDriversAreBounded(t *testing.T) {
	g := mustLoad(t, "version: 1\nname: one\nstart: a\nnodes:\n  a: {type: echo}\n")
	var wg sync.WaitGroup
	for range 4 * maxIdleDrivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(idleDrivers); n > maxIdleDrivers {
		t.Fatalf("%d idle drivers, more than %d", n, maxIdleDrivers)
	}
	before := runtime.NumGoroutine()
	for range 100 {
		if _, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch)}); err != nil {
			t.Fatal(err)
		}
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("100 runs one after another left %d goroutines where there were %d", after, before)
	}
}
