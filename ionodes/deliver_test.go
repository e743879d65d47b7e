package ionodes

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// endpoints serves /records and /ingest, each answering with the next behaviour of its
// own script (then normally), and keeps the bodies /ingest accepted.
type endpoints struct {
	mu        sync.Mutex
	scripts   map[string][]string
	requests  map[string]int
	delivered []string
}

const records = `{"records":[{"id":"a","score":90},{"id":"b","score":20},{"id":"c","score":75}]}`

func (e *endpoints) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.requests[r.URL.Path]++
	next := "ok"
	if s := e.scripts[r.URL.Path]; len(s) > 0 {
		next, e.scripts[r.URL.Path] = s[0], s[1:]
	}
	if next == "ok" && r.URL.Path == "/ingest" {
		e.delivered = append(e.delivered, string(body))
	}
	e.mu.Unlock()
	if failScripted(w, r, next, "batch refused") {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/records" {
		fmt.Fprint(w, records)
	} else {
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"accepted":true}`)
	}
}

func (e *endpoints) counts() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fmt.Sprintf("records=%d ingest=%d", e.requests["/records"], e.requests["/ingest"])
}

// TestCollectDeliver runs workflows/collect_deliver.yaml end to end against local
// endpoints that fail in scripted ways: the input names them, transform keeps the
// records scoring at least min_score, and the output says where they went. Three runs
// share the graph (and so the sink's breaker), as a long-lived service would.
func TestCollectDeliver(t *testing.T) {
	ep := &endpoints{requests: map[string]int{}, scripts: map[string][]string{
		"/records": {"reset", "503"},
		"/ingest":  {"slow", "400", "503", "503"},
	}}
	ts := httptest.NewServer(ep)
	defer ts.Close()
	spool := t.TempDir()
	g, ds := engine.LoadFile("../workflows/collect_deliver.yaml", testRegistry(t))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	input := map[string]any{"source": ts.URL + "/records", "sink": ts.URL + "/ingest", "spool": spool}
	batch := `{"count":2,"ids":["a","c"]}`
	spooled := "{\n  \"count\": 2,\n  \"ids\": [\n    \"a\",\n    \"c\"\n  ]\n}\n"
	cases := []struct {
		name        string
		status      engine.Status
		path        string
		attempts    string // per visit
		waits       string
		transitions string
		output      string
		counts      string
		spooled     bool
	}{
		{"collect survives a reset and a 503; the sink times out, then refuses: spooled",
			engine.StatusDegraded, "collect shape deliver spool", "3 1 2 1", "2:50ms 3:300ms(asked 1s) 2:50ms", "",
			`{"delivered_to":"spool","ids":["a","c"],"kept":2,"sink_status":null}`, "records=3 ingest=2", true},
		{"two 503s open the sink's breaker (the timeout counted too): the third attempt never calls; spooled again",
			engine.StatusDegraded, "collect shape deliver spool", "1 1 3 1", "2:300ms(asked 1s) 3:300ms(asked 1s)", "closed→open",
			`{"delivered_to":"spool","ids":["a","c"],"kept":2,"sink_status":null}`, "records=4 ingest=4", true},
	}
	for i, c := range cases {
		os.Remove(filepath.Join(spool, "batch.json"))
		rec := &engine.Recorder{}
		res, err := g.Run(t.Context(), engine.RunOptions{Input: input, Tracer: rec})
		if err != nil {
			t.Fatal(err)
		}
		events := rec.Events()
		what := fmt.Sprintf("run %d (%s)", i+1, c.name)
		if res.Status != c.status || strings.Join(res.PathNodes(), " ") != c.path {
			t.Fatalf("%s: %s along %v, want %s along %s; failures %v", what, res.Status, res.PathNodes(), c.status, c.path, res.Failures)
		}
		var attempts []string
		for _, s := range res.Path {
			attempts = append(attempts, fmt.Sprint(max(s.Attempts, 1)))
		}
		if got := strings.Join(attempts, " "); got != c.attempts {
			t.Errorf("%s: attempts %q, want %q", what, got, c.attempts)
		}
		if got := waits(events); got != c.waits {
			t.Errorf("%s: waits %q, want %q", what, got, c.waits)
		}
		if got := transitions(events); got != c.transitions {
			t.Errorf("%s: breaker %q, want %q", what, got, c.transitions)
		}
		if b, _ := json.Marshal(res.Output); string(b) != c.output {
			t.Errorf("%s: output %s, want %s", what, b, c.output)
		}
		if got := ep.counts(); got != c.counts {
			t.Errorf("%s: requests %s, want %s", what, got, c.counts)
		}
		b, err := os.ReadFile(filepath.Join(spool, "batch.json"))
		if c.spooled && (err != nil || string(b) != spooled) {
			t.Errorf("%s: spooled %q (%v), want %q", what, b, err, spooled)
		}
	}
	if len(ep.delivered) != 0 {
		t.Errorf("the sink accepted %q while failing", ep.delivered)
	}

	// A fresh graph (its breaker closed) delivers to the sink, now answering.
	g, _ = engine.LoadFile("../workflows/collect_deliver.yaml", testRegistry(t))
	os.Remove(filepath.Join(spool, "batch.json"))
	res, err := g.Run(t.Context(), engine.RunOptions{Input: input})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusSuccess || strings.Join(res.PathNodes(), " ") != "collect shape deliver" {
		t.Fatalf("%s along %v: %v", res.Status, res.PathNodes(), res.Failures)
	}
	if b, _ := json.Marshal(res.Output); string(b) != `{"delivered_to":"sink","ids":["a","c"],"kept":2,"sink_status":202}` {
		t.Errorf("output %s", b)
	}
	if len(ep.delivered) != 1 || ep.delivered[0] != batch {
		t.Errorf("the sink received %q, want one %s", ep.delivered, batch)
	}
	if _, err := os.Stat(filepath.Join(spool, "batch.json")); !os.IsNotExist(err) {
		t.Errorf("a delivered batch was spooled too (%v)", err)
	}
}
