package engine

import (
	"context"
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
	defer goleak.VerifyNone(t)
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
