package telemetry

import (
	"context"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

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
// and recording metrics, on the providers kgrun --otel installs (telemetry.Start): spans
// go through a batch span processor, here to an exporter that counts and discards them
// (the OTLP encoding and the network are the exporter's, off the run's goroutine), and
// measurements into a reader the way the periodic one collects them. It reports spans
// exported per visit (2 when the batch queue dropped none).
func BenchmarkTransitionTraced(b *testing.B) {
	exp := &countingExporter{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	benchTraced(b, tp, exp)
}

// BenchmarkTransitionTracedSync is the same with the spans handed synchronously, one by
// one, to an exporter that discards them: the setup this benchmark had before it
// followed kgrun's, kept so the figures can be compared.
func BenchmarkTransitionTracedSync(b *testing.B) {
	exp := &countingExporter{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	benchTraced(b, tp, exp)
}

func benchTraced(b *testing.B, tp *sdktrace.TracerProvider, exp *countingExporter) {
	g := loopGraph(b)
	clock := engine.NewVirtualClock(engine.Epoch)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tr, err := New(context.Background(), g, clock, tp, mp)
	if err != nil {
		b.Fatal(err)
	}
	runLoop(b, g, clock, tr)
	b.StopTimer()
	if err := tp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(exp.spans.Load()-1)/float64(b.N), "spans/visit") // less the run's span
}

// BenchmarkSDKTwoSpans is the SDK's floor for what a traced visit must do at least, on
// kgrun's batch span processor: start and end two nested spans, without attributes,
// timestamps or metrics.
func BenchmarkSDKTwoSpans(b *testing.B) {
	benchTwoSpans(b, sdktrace.WithBatcher(&countingExporter{}))
}

// BenchmarkSDKTwoSpansSync is that floor with the synchronous exporter the benchmarks
// used before.
func BenchmarkSDKTwoSpansSync(b *testing.B) {
	benchTwoSpans(b, sdktrace.WithSyncer(&countingExporter{}))
}

func benchTwoSpans(b *testing.B, processor sdktrace.TracerProviderOption) {
	tp := sdktrace.NewTracerProvider(processor)
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
	b.StopTimer()
	if err := tp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSDKVisit is the SDK's floor for the span model itself: the SDK calls a traced
// visit of the loop above cannot do without, made from a plain loop on the same batch
// span processor and metric reader. A visit span and an attempt span with the run's
// timestamp and their attributes (5 on the attempt, 6 on the visit), the attempt's span
// put into a context for the node, and one attempt-latency measurement with a prebuilt
// attribute set. TransitionTraced less TransitionUntraced less this is kgrun's own cost.
func BenchmarkSDKVisit(b *testing.B) {
	exp := &countingExporter{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	inst, err := newInstruments(mp.Meter(ScopeName))
	if err != nil {
		b.Fatal(err)
	}
	tr := tp.Tracer(ScopeName)
	ts := trace.WithTimestamp(engine.Epoch)
	ctx, root := tr.Start(context.Background(), "run loop", ts)
	nodes := [2]*nodeAttrs{newNodeAttrs("loop", "a", "a", "noop"), newNodeAttrs("loop", "b", "b", "noop")}
	attrs := make([]attribute.KeyValue, 0, 10)
	start, end := []trace.SpanStartOption{ts}, []trace.SpanEndOption{ts} // built once, as kgrun does
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := nodes[i&1]
		vctx, visit := tr.Start(ctx, n.visit, start...)
		_, attempt := tr.Start(vctx, n.attempt, start...)
		_ = trace.ContextWithSpan(context.Background(), attempt)
		attempt.SetAttributes(append(append(attrs[:0], n.span...), AttrVisit.Int(i/2+1), AttrAttempt.Int(1))...)
		attempt.End(end...)
		inst.attempt.Record(context.Background(), 0, n.ok...)
		visit.SetAttributes(append(append(attrs[:0], n.span...), AttrVisit.Int(i/2+1), AttrAction.String("next"), AttrTo.String(nodes[(i+1)&1].node))...)
		visit.End(end...)
	}
	root.End(ts)
	b.StopTimer()
	if err := tp.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(exp.spans.Load()-1)/float64(b.N), "spans/visit")
}

// countingExporter discards spans, counting them.
type countingExporter struct{ spans atomic.Int64 }

func (e *countingExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.spans.Add(int64(len(spans)))
	return nil
}

func (e *countingExporter) Shutdown(context.Context) error { return nil }
