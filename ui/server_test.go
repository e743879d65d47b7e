package ui_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kgrun/kgrun/store"
	"github.com/kgrun/kgrun/ui"
)

// TestRunsPage: the list shows every run newest first with its status, filters by
// workflow, status, scenario and time, pages, and refuses a bad filter with a message.
func TestRunsPage(t *testing.T) {
	f := newFixture(t, nil, 2)
	degraded := f.record(flagship, "network", 14)
	f.record(flagship, "", 1)
	f.record(flagship, "network", 14)
	code, body := f.get("/runs")
	if code != http.StatusOK || rows(body) != 2 {
		t.Fatalf("GET /runs: %d with %d rows\n%s", code, rows(body), body)
	}
	mustContain(t, "the first page", body, `<a href="/runs/3">3</a>`, `status-degraded`, `rel="next"`, `data-live="true"`)
	_, body = f.get("/runs?page=2")
	if rows(body) != 1 || !strings.Contains(body, `<a href="/runs/`+degraded+`">`) || !strings.Contains(body, `rel="prev"`) {
		t.Errorf("page 2 has %d rows:\n%s", rows(body), body)
	}
	for _, c := range []struct {
		query string
		want  int
	}{
		{"status=degraded", 2},
		{"status=success", 1},
		{"scenario=-", 1},
		{"scenario=network&status=degraded", 2},
		{"workflow=fault-tolerant&status=failed", 0},
		{"workflow=other", 0},
		{"since=1h", 2},
		{"until=2000-01-01T00:00", 0},
	} {
		code, body := f.get("/runs?" + c.query)
		if code != http.StatusOK || rows(body) != min(c.want, 2) {
			t.Errorf("%s: %d with %d rows, want %d", c.query, code, rows(body), c.want)
		}
	}
	for query, want := range map[string]string{
		"status=sideways": "status takes success, degraded",
		"since=yesterday": "since: want an RFC 3339 time",
	} {
		code, body := f.get("/runs?" + query)
		if code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want 400 saying %q\n%s", query, code, want, body)
		}
	}
}

// TestRunPage: a degraded run's page draws its path on the graph (fallback_data visited,
// the fallback edge taken), lists the retries in its timeline, and shows its failures,
// values, report and output.
func TestRunPage(t *testing.T) {
	f := newFixture(t, nil, 0)
	id := f.record(flagship, "network", 14)
	code, body := f.get("/runs/" + id)
	if code != http.StatusOK {
		t.Fatalf("GET /runs/%s: %d\n%s", id, code, body)
	}
	mustContain(t, "the degraded run's page", body,
		`<span class="badge status-degraded" id="status">degraded</span>`,
		`<g class="node ok" data-node="fallback_data">`,
		`<g class="edge fallback taken" data-from="collect" data-to="fallback_data">`,
		`data-kind="retry_scheduled"`, `data-kind="breaker_state"`, `data-kind="fallback"`,
		`collect #1 · 3 attempts`, `connection reset by primary_api`,
		`report of run `+id+`: degraded &lt;b&gt;bold&lt;/b&gt;`,
		`id="shared"`, `data-live="false"`)
	mustNotContain(t, "a finished run's page", body, `id="resume"`)
	if code, body := f.get("/runs/999"); code != http.StatusNotFound || !strings.Contains(body, "kgrun runs lists the runs") {
		t.Errorf("GET /runs/999: %d\n%s", code, body)
	}
	if code, _ := f.get("/runs/x%3Cy"); code != http.StatusNotFound {
		t.Errorf("GET a malformed ID: %d", code)
	}
}

// TestRunPageNotes: when the run's workflow file changed since, or is gone, the page
// says so rather than drawing a graph that is not the run's.
func TestRunPageNotes(t *testing.T) {
	f := newFixture(t, nil, 0)
	src := "version: 1\nname: small\nstart: a\nnodes:\n  a: {type: transform, params: {values: {x: '1'}}, on: {success: b}}\n  b: {type: transform, params: {values: {y: '2'}}}\n"
	file := f.writeFile("small.yaml", src)
	id := f.record(file, "", 1)
	_, body := f.get("/runs/" + id)
	mustNotContain(t, "an unchanged file's run", body, `class="note">The workflow file`)
	f.writeFile("small.yaml", strings.Replace(src, "  b: {type: transform, params: {values: {y: '2'}}}\n",
		"  b: {type: transform, params: {values: {y: '2'}}, on: {success: c}}\n  c: {type: transform, params: {values: {z: '3'}}}\n", 1))
	_, body = f.get("/runs/" + id)
	mustContain(t, "a changed file's run", body, "has changed since this run")
	f.writeFile("small.yaml", "version: 1\nname: [")
	_, body = f.get("/runs/" + id)
	mustContain(t, "a broken file's run", body, "cannot be loaded now")
}

// TestEscaping: markup and terminal escapes in a failing service's message reach the
// page as text, never as markup.
func TestEscaping(t *testing.T) {
	f := newFixture(t, nil, 0)
	file := f.writeFile("evil.yaml", "version: 1\nname: evil\ndescription: '<img src=x onerror=alert(1)>'\nstart: a\nnodes:\n  a: {type: evil}\n")
	id := f.record(file, "", 1)
	for _, path := range []string{"/runs/" + id, "/runs", "/workflows/evil"} {
		code, body := f.get(path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, code, body)
		}
		mustNotContain(t, path, body, `<script>alert`, "\x1b[31m", `<img src=x`)
	}
	_, body := f.get("/runs/" + id)
	mustContain(t, "the run page", body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`)
	_, body = f.get("/workflows/evil")
	mustContain(t, "the workflow page", body, `&lt;img src=x onerror=alert(1)&gt;`)
}

// TestWorkflowPage: a workflow's page shows its graph, diagnostics, scenarios, tests
// and recent runs; an unknown workflow is a 404 that says why.
func TestWorkflowPage(t *testing.T) {
	f := newFixture(t, nil, 0)
	f.record(flagship, "network", 14)
	code, body := f.get("/workflows/fault-tolerant")
	if code != http.StatusOK {
		t.Fatalf("%d\n%s", code, body)
	}
	mustContain(t, "the flagship's page", body, `data-node="fallback_data"`, "The file validates without a diagnostic",
		"<td>network</td>", "<td>storage</td>", `fault_tolerant.yaml:`, `<a href="/runs/1">1</a>`)
	src := "version: 1\nname: later\nstart: a\nnodes:\n  a: {type: transform, params: {values: {x: '1'}}}\n"
	later := f.writeFile("later.yaml", src)
	f.record(later, "", 1)
	f.writeFile("later.yaml", src+"  b: {type: transform, params: {values: {x: '1'}}}\n")
	_, body = f.get("/workflows/later")
	mustContain(t, "a workflow whose file gained an unreachable node", body, `later.yaml:6:3</code> error: node &#34;b&#34; is unreachable`)
	if code, body := f.get("/workflows/nothing"); code != http.StatusNotFound || !strings.Contains(body, "holds no run of workflow nothing") {
		t.Errorf("unknown workflow: %d\n%s", code, body)
	}
}

// TestActionsNeedTokenAndOrigin: state changes are refused on a read-only server, and
// on an action server without this server's token or from another origin; with both,
// prune runs and the list says what it removed.
func TestActionsNeedTokenAndOrigin(t *testing.T) {
	readOnly := newFixture(t, nil, 0)
	pruned := 0
	f := newFixture(t, &ui.Actions{Prune: func(keep int) (string, error) {
		pruned = keep
		return "Removed 2 runs.", nil
	}}, 0)
	f.record(flagship, "", 1)
	_, page := f.get("/runs")
	i := strings.Index(page, `name="csrf" value="`)
	if i < 0 {
		t.Fatalf("the action server's list offers no prune form:\n%s", page)
	}
	token := page[i+len(`name="csrf" value="`):]
	token = token[:strings.IndexByte(token, '"')]
	wrong := "0" + token[1:] // the token with its first digit changed
	if token[0] == '0' {
		wrong = "1" + token[1:]
	}
	post := func(srv http.Handler, origin, tok string) *httptest.ResponseRecorder {
		form := url.Values{"csrf": {tok}, "keep": {"3"}}
		req := httptest.NewRequest(http.MethodPost, "http://example.test/prune", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	for _, c := range []struct {
		name          string
		srv           http.Handler
		origin, token string
		code          int
	}{
		{"read-only server", readOnly.srv, "http://example.test", token, http.StatusForbidden},
		{"no token", f.srv, "http://example.test", "", http.StatusForbidden},
		{"wrong token", f.srv, "http://example.test", wrong, http.StatusForbidden},
		{"other origin", f.srv, "http://evil.test", token, http.StatusForbidden},
		{"no origin", f.srv, "", token, http.StatusForbidden},
		{"same origin with token", f.srv, "http://example.test", token, http.StatusSeeOther},
	} {
		rec := post(c.srv, c.origin, c.token)
		if rec.Code != c.code {
			t.Errorf("%s: %d, want %d\n%s", c.name, rec.Code, c.code, rec.Body)
		}
		if c.code == http.StatusForbidden && pruned != 0 {
			t.Fatalf("%s: prune ran", c.name)
		}
	}
	if pruned != 3 {
		t.Errorf("prune ran with keep %d, want 3", pruned)
	}
	if _, body := readOnly.get("/runs"); strings.Contains(body, `name="csrf"`) {
		t.Error("the read-only server offers a form that changes state")
	}
}

// TestEventsFollowTheStore: a page's event stream receives a change when another
// handle (as another kgrun process) commits a run.
func TestEventsFollowTheStore(t *testing.T) {
	f := newFixture(t, nil, 0)
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.srv.Watch(ctx)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitFor := func(want string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before %q", want)
				}
				if l == want {
					return
				}
			case <-deadline:
				t.Fatalf("no %q within 10s", want)
			}
		}
	}
	waitFor(": connected")
	other, err := store.Open(f.db.Path(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.CreateRun(&store.RunMeta{RunInfo: store.RunInfo{Workflow: "w", Started: time.Now()}, RunProgress: store.RunProgress{Status: "success"}}); err != nil {
		t.Fatal(err)
	}
	waitFor("event: change")
}

// TestHeadersAndLoopback: pages forbid other origins' scripts and framing, and the
// loopback check accepts only loopback addresses.
func TestHeadersAndLoopback(t *testing.T) {
	f := newFixture(t, nil, 0)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/runs", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	mustContain(t, "the CSP", csp, "default-src 'self'", "frame-ancestors 'none'", "script-src 'self'")
	for addr, want := range map[string]bool{"127.0.0.1:7878": true, "[::1]:0": true, "localhost:80": true, "0.0.0.0:7878": false, ":7878": false, "192.168.1.2:7878": false, "bad": false} {
		if got := ui.IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
	if code, body := f.get("/static/app.js"); code != http.StatusOK || !strings.Contains(body, "EventSource") {
		t.Errorf("app.js: %d", code)
	}
}
