package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestRunOTel: kgrun run --otel exports the run's spans to the OTLP endpoint the standard
// variable names (a receiver on loopback) and flushes them before it exits.
func TestRunOTel(t *testing.T) {
	var mu sync.Mutex
	var spans []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" {
			var req colltrace.ExportTraceServiceRequest
			if err := proto.Unmarshal(body, &req); err != nil {
				t.Errorf("decoding the export: %v", err)
			}
			mu.Lock()
			for _, rs := range req.ResourceSpans {
				for _, ss := range rs.ScopeSpans {
					for _, s := range ss.Spans {
						spans = append(spans, s.Name)
					}
				}
			}
			mu.Unlock()
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	out, stderr, code := kgrun(t, "workflows/fault_tolerant.yaml", "--scenario", "network", "--seed", "14", "--virtual-time",
		"--state", "none", "--otel", "--set", "alternate_dir="+t.TempDir())
	if code != exitOK || !strings.Contains(out, "DEGRADED") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(spans, ",")
	for _, want := range []string{"run fault-tolerant", "visit collect", "attempt collect", "visit fallback_data"} {
		if !strings.Contains(got, want) {
			t.Errorf("exported spans %s lack %q", got, want)
		}
	}
}

// TestRunOTelConcurrent: one tracer cannot follow concurrent runs, and says so.
func TestRunOTelConcurrent(t *testing.T) {
	_, stderr, code := kgrun(t, "workflows/fault_tolerant.yaml", "--virtual-time", "--otel", "--runs", "2", "--concurrency", "2")
	if code != exitUsage || !strings.Contains(stderr, "--concurrency 1") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}
