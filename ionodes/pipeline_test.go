package ionodes

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// scriptedServer answers each request with the next behaviour of its script, then with
// the report; it counts the requests it saw.
type scriptedServer struct {
	mu       sync.Mutex
	script   []string
	requests int
}

const report = `{"title":"daily","items":[1,2,3]}`

func (s *scriptedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	next := "ok"
	if len(s.script) > 0 {
		next, s.script = s.script[0], s.script[1:]
	}
	s.mu.Unlock()
	if failScripted(w, r, next, "no such report") {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, report)
}

// failScripted answers r with the scripted failure step ("reset", "503" with Retry-After,
// "slow" past a 500ms timeout, "500", "400" with refusal as its body), reporting false for
// any other step, which the caller answers as a success.
func failScripted(w http.ResponseWriter, r *http.Request, step, refusal string) bool {
	switch step {
	case "reset":
		resetConn(w)
	case "503":
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	case "slow":
		select { // past the node's 500ms timeout; the client gives up first
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
	case "400":
		http.Error(w, refusal, http.StatusBadRequest)
	default:
		return false
	}
	return true
}

func (s *scriptedServer) seen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// waits renders a run's retry waits: "attempt:delay" and "(asked retry_after)" when the
// server asked for one.
func waits(events []engine.Event) string {
	var parts []string
	for _, e := range eventsOf(events, engine.EventRetryScheduled) {
		s := fmt.Sprintf("%d:%s", e.Attempt, e.Delay)
		if e.RetryAfter > 0 {
			s += fmt.Sprintf("(asked %s)", e.RetryAfter)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func transitions(events []engine.Event) string {
	var parts []string
	for _, e := range eventsOf(events, engine.EventBreakerState) {
		parts = append(parts, e.From+"→"+e.State)
	}
	return strings.Join(parts, " ")
}

func loadPipeline(t *testing.T) *engine.Graph {
	t.Helper()
	g, ds := engine.LoadFile("../workflows/http_pipeline.yaml", testRegistry(t))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return g
}

// TestHTTPPipeline runs workflows/http_pipeline.yaml against a local server that fails
// in scripted ways, four runs in a row sharing the graph's breaker as a long-lived
// service would, and checks each run's path, attempts, waits, breaker transitions and
// the bytes written. (The reset comes on a fresh connection: on a reused keep-alive
// connection, net/http replays an idempotent request once by itself, since a pooled
// connection the server closed is not the service failing.)
func TestHTTPPipeline(t *testing.T) {
	srv := &scriptedServer{script: []string{"reset", "503", "ok", "slow", "400", "500", "500"}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	root := t.TempDir()
	params := map[string]any{"url": ts.URL + "/report.json", "root": root}
	g := loadPipeline(t)
	saved := filepath.Join(root, "report.json")
	want := "{\n  \"items\": [\n    1,\n    2,\n    3\n  ],\n  \"title\": \"daily\"\n}\n"

	cases := []struct {
		name        string
		status      engine.Status
		path        string
		attempts    int
		waits       string
		transitions string
		requests    int // the server's count after the run
	}{
		{"reset, 503 with Retry-After, then the report", engine.StatusSuccess, "fetch save", 3,
			"2:50ms 3:300ms(asked 1s)", "", 3},
		{"slow past the timeout, then 400: the last copy", engine.StatusDegraded, "fetch last_copy", 2,
			"2:50ms", "", 5},
		{"two 500s open the breaker: the last copy", engine.StatusDegraded, "fetch last_copy", 3,
			"2:50ms 3:100ms", "closed→open", 7},
		{"the open breaker spares the server", engine.StatusDegraded, "fetch last_copy", 1,
			"", "", 7},
	}
	for i, c := range cases {
		res, events := runReal(t, g, engine.RunOptions{Params: params})
		what := fmt.Sprintf("run %d (%s)", i+1, c.name)
		if res.Status != c.status || strings.Join(res.PathNodes(), " ") != c.path {
			t.Fatalf("%s: %s along %v, want %s along %s; failures %v", what, res.Status, res.PathNodes(), c.status, c.path, res.Failures)
		}
		if got := res.Path[0].Attempts; got != c.attempts {
			t.Errorf("%s: %d attempts of fetch, want %d", what, got, c.attempts)
		}
		if got := waits(events); got != c.waits {
			t.Errorf("%s: waits %q, want %q", what, got, c.waits)
		}
		if got := transitions(events); got != c.transitions {
			t.Errorf("%s: breaker %q, want %q", what, got, c.transitions)
		}
		if got := srv.seen(); got != c.requests {
			t.Errorf("%s: the server saw %d requests in all, want %d", what, got, c.requests)
		}
		b, err := os.ReadFile(saved)
		if err != nil || string(b) != want {
			t.Errorf("%s: saved %q (%v), want %q", what, b, err, want)
		}
		if i > 0 {
			got := res.Shared["last_copy"].(*FileResult).Content.(map[string]any)["title"]
			if got != "daily" {
				t.Errorf("%s: the last copy reads title %v", what, got)
			}
		}
	}
	snap, _ := g.Breaker("report_api")
	if snap.State.String() != "open" {
		t.Errorf("breaker %s at the end, want open", snap.State)
	}
}

// TestScenarioRehearsesOutage runs the pipeline's outage scenario against a real server:
// the injected faults sit innermost, so retries, the breaker and the fallback behave as
// in a real outage while the server sees no request at all.
func TestScenarioRehearsesOutage(t *testing.T) {
	srv := &scriptedServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "report.json"), []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	g := loadPipeline(t)
	res, events := runReal(t, g, engine.RunOptions{Scenario: "outage", Params: map[string]any{"url": ts.URL, "root": root}})
	if res.Status != engine.StatusDegraded || strings.Join(res.PathNodes(), " ") != "fetch last_copy" {
		t.Fatalf("%s along %v: %v", res.Status, res.PathNodes(), res.Failures)
	}
	if got := len(eventsOf(events, engine.EventFaultInjected)); got != 3 {
		t.Errorf("%d faults injected, want 3 (the breaker opens after three and rejects the fourth)", got)
	}
	if got := transitions(events); got != "closed→open" {
		t.Errorf("breaker %q", got)
	}
	if n := srv.seen(); n != 0 {
		t.Errorf("the server saw %d requests during a rehearsed outage", n)
	}
}
