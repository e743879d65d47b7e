package telemetry

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/ionodes"
)

// recording is a Tracer whose spans and metrics stay in memory.
type recording struct {
	tracer *Tracer
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
}

func newRecording(t testing.TB, g *engine.Graph, clock engine.Clock) *recording {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tr, err := New(context.Background(), g, clock, tp, mp)
	if err != nil {
		t.Fatal(err)
	}
	return &recording{tracer: tr, spans: rec, reader: reader, tp: tp}
}

func registry() *engine.Registry {
	reg := builtin.Registry(builtin.Options{})
	if err := ionodes.Register(reg, ionodes.Options{}); err != nil {
		panic(err)
	}
	return reg
}

func load(t testing.TB, file string) *engine.Graph {
	t.Helper()
	g, ds := engine.LoadFile(file, registry())
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return g
}

func loadSource(t testing.TB, src string) *engine.Graph {
	t.Helper()
	g, ds := engine.Load("test.yaml", []byte(src), registry())
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return g
}

// spanTree renders ended spans as an indented tree, children in start order, with
// times as offsets from the root's start and the attributes and events that tell the
// run's story: what a golden file can hold.
func spanTree(spans []sdktrace.ReadOnlySpan) string {
	children := map[string][]sdktrace.ReadOnlySpan{}
	var roots []sdktrace.ReadOnlySpan
	ids := map[string]bool{}
	for _, s := range spans {
		ids[s.SpanContext().SpanID().String()] = true
	}
	for _, s := range spans {
		p := s.Parent().SpanID().String()
		if s.Parent().IsValid() && ids[p] {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	var b strings.Builder
	var walk func(s sdktrace.ReadOnlySpan, depth int, base time.Time)
	walk = func(s sdktrace.ReadOnlySpan, depth int, base time.Time) {
		ind := strings.Repeat("  ", depth)
		fmt.Fprintf(&b, "%s%s [%s..%s]%s%s\n", ind, s.Name(), s.StartTime().Sub(base), s.EndTime().Sub(base), attrText(s.Attributes()), statusText(s))
		for _, e := range s.Events() {
			fmt.Fprintf(&b, "%s  * %s @%s%s\n", ind, e.Name, e.Time.Sub(base), attrText(e.Attributes))
		}
		kids := children[s.SpanContext().SpanID().String()]
		// Start order; siblings starting at one instant (a map's items, a parallel
		// node's branches) by name and scope, so the text does not hang on end order.
		sort.SliceStable(kids, func(i, j int) bool {
			a, b := kids[i], kids[j]
			if !a.StartTime().Equal(b.StartTime()) {
				return a.StartTime().Before(b.StartTime())
			}
			if attr(a, AttrScope) != "" || attr(b, AttrScope) != "" {
				return a.Name()+attr(a, AttrScope) < b.Name()+attr(b, AttrScope)
			}
			return false
		})
		for _, k := range kids {
			walk(k, depth+1, base)
		}
	}
	for _, r := range roots {
		walk(r, 0, r.StartTime())
	}
	return b.String()
}

func attrText(attrs []attribute.KeyValue) string {
	var parts []string
	for _, a := range attrs {
		if a.Key == AttrWorkflow && len(attrs) > 1 {
			continue // the same on every span; the root shows it
		}
		parts = append(parts, fmt.Sprintf("%s=%s", a.Key, a.Value.Emit()))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}

func statusText(s sdktrace.ReadOnlySpan) string {
	if s.Status().Code.String() == "Error" {
		return " ERROR(" + s.Status().Description + ")"
	}
	return ""
}

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) string {
	return dpAttr(s.Attributes(), k)
}

func dpAttr(attrs []attribute.KeyValue, k attribute.Key) string {
	for _, a := range attrs {
		if a.Key == k {
			return a.Value.Emit()
		}
	}
	return ""
}

func hasEvent(s sdktrace.ReadOnlySpan, name string) bool {
	for _, e := range s.Events() {
		if e.Name == name {
			return true
		}
	}
	return false
}
