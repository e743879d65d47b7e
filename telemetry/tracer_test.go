package telemetry

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/internal/golden"
)

// TestDegradedFlagshipSpans traces the flagship's network scenario at the seed whose run
// degrades through fallback_data, on the virtual clock, and checks the span tree (a
// golden file) and what it must show: the collector's failed attempts, its retries and
// waits, the fallback, and the run's status; and the metrics beside it.
func TestDegradedFlagshipSpans(t *testing.T) {
	g := load(t, "../workflows/fault_tolerant.yaml")
	clock := engine.NewVirtualClock(engine.Epoch)
	rec := newRecording(t, g, clock)
	res, err := g.Run(context.Background(), engine.RunOptions{Scenario: "network", Seed: 14, Clock: clock, Tracer: rec.tracer,
		Params: map[string]any{"alternate_dir": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusDegraded {
		t.Fatalf("status %s, want degraded", res.Status)
	}
	spans := rec.spans.Ended()
	golden.Check(t, "testdata/flagship_network.txt", spanTree(spans))

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = append(byName[s.Name()], s)
	}
	runs := byName["run fault-tolerant"]
	if len(runs) != 1 {
		t.Fatalf("%d run spans, want 1", len(runs))
	}
	run := runs[0]
	if got := attr(run, AttrStatus); got != "degraded" {
		t.Errorf("run status attribute %q", got)
	}
	if !run.StartTime().Equal(engine.Epoch) || !run.EndTime().Equal(engine.Epoch.Add(time.Duration(res.Elapsed))) {
		t.Errorf("run span %s..%s, want the virtual clock's %s..+%s", run.StartTime(), run.EndTime(), engine.Epoch, res.Elapsed)
	}
	visits := 0
	for _, s := range spans {
		if len(s.Name()) > 6 && s.Name()[:6] == "visit " {
			visits++
			if s.Parent().SpanID() != run.SpanContext().SpanID() {
				t.Errorf("%s is not a child of the run", s.Name())
			}
		}
	}
	if visits != len(res.Path) {
		t.Errorf("%d visit spans, want one per step (%d)", visits, len(res.Path))
	}
	if len(byName["visit fallback_data"]) != 1 {
		t.Errorf("want one fallback_data visit, got %d", len(byName["visit fallback_data"]))
	}
	collect := byName["visit collect"][0]
	if !hasEvent(collect, "fallback") || !hasEvent(collect, "retry") || !hasEvent(collect, "wait") {
		t.Errorf("collect's visit lacks fallback/retry/wait events: %v", collect.Events())
	}
	failed := 0
	for _, a := range byName["attempt collect"] {
		if a.Parent().SpanID() != collect.SpanContext().SpanID() {
			t.Errorf("attempt %s is not under collect's visit", attr(a, AttrAttempt))
		}
		if attr(a, AttrErrorKind) != "" {
			failed++
		}
	}
	if failed == 0 {
		t.Error("no failed collect attempt carries error.kind")
	}

	var rm metricdata.ResourceMetrics
	if err := rec.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	m := metricsByName(rm)
	runsMetric, ok := m[MetricRuns].(metricdata.Sum[int64])
	if !ok || len(runsMetric.DataPoints) != 1 || runsMetric.DataPoints[0].Value != 1 || dpAttr(runsMetric.DataPoints[0].Attributes.ToSlice(), AttrStatus) != "degraded" {
		t.Errorf("kgrun.runs = %+v, want one degraded run", m[MetricRuns])
	}
	attempts := 0
	for _, s := range spans {
		if len(s.Name()) > 8 && s.Name()[:8] == "attempt " {
			attempts++
		}
	}
	hist, ok := m[MetricAttempt].(metricdata.Histogram[float64])
	var count uint64
	for _, dp := range hist.DataPoints {
		count += dp.Count
	}
	if !ok || count != uint64(attempts) {
		t.Errorf("attempt histogram counts %d, want one per attempt span (%d)", count, attempts)
	}
	retries, ok := m[MetricRetries].(metricdata.Sum[int64])
	var nretry int64
	for _, dp := range retries.DataPoints {
		nretry += dp.Value
	}
	wantRetries := 0
	for _, s := range spans {
		for _, e := range s.Events() {
			if e.Name == "retry" {
				wantRetries++
			}
		}
	}
	if !ok || nretry != int64(wantRetries) || nretry == 0 {
		t.Errorf("kgrun.retries = %d, want the %d retry events", nretry, wantRetries)
	}
}

// TestBreakerStateMetric opens the flagship's breaker (the network scenario fails every
// collect) and checks the gauge reads open.
func TestBreakerStateMetric(t *testing.T) {
	g := loadSource(t, `
version: 1
name: breaker
start: call
breakers:
  api: {failure_threshold: 2, open_timeout: 30s, count: [network]}
nodes:
  call:
    type: data_collector
    params: {source: api}
    breaker: api
    retry: {attempts: 3, delay: 1s, on: [network]}
    fallback: done
  done: {type: completion}
scenarios:
  down:
    faults:
      call: {kind: network, rate: 1}
`)
	clock := engine.NewVirtualClock(engine.Epoch)
	rec := newRecording(t, g, clock)
	if _, err := g.Run(context.Background(), engine.RunOptions{Scenario: "down", Clock: clock, Tracer: rec.tracer}); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := rec.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	gauge, ok := metricsByName(rm)[MetricBreaker].(metricdata.Gauge[int64])
	if !ok || len(gauge.DataPoints) != 1 || gauge.DataPoints[0].Value != 2 || dpAttr(gauge.DataPoints[0].Attributes.ToSlice(), AttrBreaker) != "api" {
		t.Fatalf("breaker gauge %+v, want api at 2 (open)", gauge)
	}
	found := false
	for _, s := range rec.spans.Ended() {
		for _, e := range s.Events() {
			if e.Name == "breaker_transition" {
				found = true
			}
		}
	}
	if !found {
		t.Error("no breaker_transition span event")
	}
}

func metricsByName(rm metricdata.ResourceMetrics) map[string]metricdata.Aggregation {
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}
