package ionodes

import (
	"context"
	"testing"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/schema"
)

// testRegistry holds only the I/O types.
func testRegistry(t testing.TB) *engine.Registry {
	t.Helper()
	reg := engine.NewRegistry()
	if err := Register(reg, Options{}); err != nil {
		t.Fatal(err)
	}
	return reg
}

func load(t testing.TB, src string) *engine.Graph {
	t.Helper()
	g, ds := engine.Load("test.yaml", []byte(src), testRegistry(t))
	if ds.HasErrors() {
		t.Fatalf("load: %v", ds)
	}
	return g
}

func loadDiags(t testing.TB, src string) schema.Diagnostics {
	t.Helper()
	_, ds := engine.Load("test.yaml", []byte(src), testRegistry(t))
	return ds
}

// runReal runs g on the real clock and returns the result and its trace.
func runReal(t testing.TB, g *engine.Graph, opts engine.RunOptions) (*engine.Result, []engine.Event) {
	t.Helper()
	rec := &engine.Recorder{}
	opts.Tracer = rec
	res, err := g.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res, rec.Events()
}

func eventsOf(events []engine.Event, kind engine.EventKind) []engine.Event {
	var out []engine.Event
	for _, e := range events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}
