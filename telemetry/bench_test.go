package telemetry

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/kgrun/kgrun/engine"
)

type noopNode struct{}

func (noopNode) Prep(*engine.Visit) (any, error)                         { return nil, nil }
func (noopNode) Exec(context.Context, *engine.Attempt, any) (any, error) { return nil, nil }
func (noopNode) Post(*engine.Visit, any, any) (string, error)            { return "next", nil }

// loopGraph is the engine's Transition benchmark: two no-op nodes looping.
func loopGraph(b *testing.B) *engine.Graph {
	reg := engine.NewRegistry()
	if err := reg.Register(engine.NodeType{Name: "noop", Actions: []string{"next"}, New: func(engine.NodeSpec) (engine.Node, error) { return noopNode{}, nil }}); err != nil {
		b.Fatal(err)
	}
	g, ds := engine.Load("loop.yaml", []byte(`
version: 1
name: loop
start: a
nodes:
  a: {type: noop, on: {next: b}}
  b: {type: noop, on: {next: a}}
`), reg)
	if ds.HasErrors() {
		b.Fatal(ds)
	}
	return g
}

func runLoop(b *testing.B, g *engine.Graph, clock engine.Clock, tracer engine.Tracer) {
	b.ReportAllocs()
	b.ResetTimer()
	res, err := g.Run(context.Background(), engine.RunOptions{MaxSteps: b.N, Clock: clock, Tracer: tracer})
	if err != nil {
		b.Fatal(err)
	}
	if res.Steps() != b.N {
		b.Fatalf("ran %d steps", res.Steps())
	}
}

// BenchmarkTransitionUntraced is the baseline: no tracer, as kgrun runs without --otel.
func BenchmarkTransitionUntraced(b *testing.B) {
	runLoop(b, loopGraph(b), engine.NewVirtualClock(engine.Epoch), nil)
}

// BenchmarkTransitionTraced is the same loop exporting every visit and attempt as spans
// (sampled, ended, handed to an exporter that discards them) and recording metrics.
func BenchmarkTransitionTraced(b *testing.B) {
	g := loopGraph(b)
	clock := engine.NewVirtualClock(engine.Epoch)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tr, err := New(context.Background(), g, clock, tp, mp)
	if err != nil {
		b.Fatal(err)
	}
	runLoop(b, g, clock, tr)
}

// BenchmarkSDKTwoSpans is the SDK's floor for what a traced visit must do at least: start
// and end two nested spans, without attributes, timestamps or metrics.
func BenchmarkSDKTwoSpans(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	tr := tp.Tracer(ScopeName)
	ctx, root := tr.Start(context.Background(), "run")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vctx, visit := tr.Start(ctx, "visit")
		_, attempt := tr.Start(vctx, "attempt")
		attempt.End()
		visit.End()
	}
	root.End()
}
