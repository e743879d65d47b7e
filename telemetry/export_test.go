package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collmetric "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/kgrun/kgrun/engine"
)

// receiver is an OTLP/HTTP receiver on loopback that decodes what it is sent.
type receiver struct {
	mu      sync.Mutex
	traces  []*colltrace.ExportTraceServiceRequest
	metrics []*collmetric.ExportMetricsServiceRequest
	errs    []string
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		rv.errs = append(rv.errs, r.URL.Path+": bad request "+r.Header.Get("Content-Type"))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var msg proto.Message
	switch r.URL.Path {
	case "/v1/traces":
		req := &colltrace.ExportTraceServiceRequest{}
		rv.traces, msg = append(rv.traces, req), req
	case "/v1/metrics":
		req := &collmetric.ExportMetricsServiceRequest{}
		rv.metrics, msg = append(rv.metrics, req), req
	default:
		rv.errs = append(rv.errs, "unexpected path "+r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err := proto.Unmarshal(body, msg); err != nil {
		rv.errs = append(rv.errs, r.URL.Path+": "+err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// TestOTLPRoundTrip exports a degraded flagship run with Start's exporters, configured
// by the standard variables, to a receiver on loopback, and checks the decoded request:
// the service name, the span names and their parent links, and the runs metric.
func TestOTLPRoundTrip(t *testing.T) {
	rv := &receiver{}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_SERVICE_NAME", "")
	prev := otel.GetTextMapPropagator()
	defer otel.SetTextMapPropagator(prev)
	if !EnvEnabled() {
		t.Fatal("EnvEnabled is false with OTEL_EXPORTER_OTLP_ENDPOINT set")
	}
	ctx := context.Background()
	x, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g := load(t, "../workflows/fault_tolerant.yaml")
	clock := engine.NewVirtualClock(engine.Epoch)
	tr, err := New(ctx, g, clock, x.Traces, x.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Run(ctx, engine.RunOptions{Scenario: "network", Seed: 14, Clock: clock, Tracer: tr, Params: map[string]any{"alternate_dir": t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if len(rv.errs) > 0 {
		t.Fatal(rv.errs)
	}
	ids := map[string]string{} // span id -> name
	parents := map[string]string{}
	service := ""
	for _, req := range rv.traces {
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					service = a.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					ids[string(s.SpanId)] = s.Name
					parents[s.Name+"#"+string(s.SpanId)] = string(s.ParentSpanId)
				}
			}
		}
	}
	if service != "kgrun" {
		t.Errorf("service.name %q, want kgrun", service)
	}
	var names []string
	for key, parent := range parents {
		name := key[:strings.Index(key, "#")]
		names = append(names, name)
		switch {
		case strings.HasPrefix(name, "visit "):
			if ids[parent] != "run fault-tolerant" {
				t.Errorf("%s's parent is %q", name, ids[parent])
			}
		case strings.HasPrefix(name, "attempt "):
			if ids[parent] != "visit "+strings.TrimPrefix(name, "attempt ") {
				t.Errorf("%s's parent is %q", name, ids[parent])
			}
		}
	}
	visits := 0
	for _, n := range names {
		if strings.HasPrefix(n, "visit ") {
			visits++
		}
	}
	if visits != len(res.Path) || !contains(names, "run fault-tolerant") || !contains(names, "visit fallback_data") {
		t.Errorf("received spans %v, want the run, and a visit per step (%d)", names, len(res.Path))
	}
	runs := false
	for _, req := range rv.metrics {
		for _, rm := range req.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					if m.Name == MetricRuns && len(m.GetSum().GetDataPoints()) == 1 && m.GetSum().DataPoints[0].GetAsInt() == 1 {
						runs = true
					}
				}
			}
		}
	}
	if !runs {
		t.Errorf("no %s metric with one run among %d metric requests", MetricRuns, len(rv.metrics))
	}
}

// TestStartRefusesGRPC: only http/protobuf is exported; asking for gRPC is an error
// that says what to set.
func TestStartRefusesGRPC(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	_, err := Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "http/protobuf") {
		t.Fatalf("err = %v, want one naming http/protobuf", err)
	}
}

// TestHTTPNodeTraceparent runs an http node against a loopback server and checks the
// request carried a W3C traceparent naming the attempt's span.
func TestHTTPNodeTraceparent(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Traceparent"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{})
	defer otel.SetTextMapPropagator(prev)

	g := loadSource(t, `
version: 1
name: fetch
start: fetch
nodes:
  fetch:
    type: http
    params: {method: GET, url: "`+srv.URL+`/report"}
`)
	rec := newRecording(t, g, nil)
	res, err := g.Run(context.Background(), engine.RunOptions{Tracer: engine.Tee{&engine.Recorder{}, rec.tracer}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusSuccess {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	var attempt sdktrace.ReadOnlySpan
	for _, s := range rec.spans.Ended() {
		if s.Name() == "attempt fetch" {
			attempt = s
		}
	}
	if attempt == nil {
		t.Fatal("no attempt span")
	}
	sc := attempt.SpanContext()
	want := "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-01"
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != want {
		t.Fatalf("server saw traceparent %q, want %q", seen, want)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
