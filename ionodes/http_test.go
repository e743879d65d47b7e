package ionodes

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// resetConn answers a request by resetting the connection (RST, not FIN).
func resetConn(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// oneNode is a workflow whose only node calls url with the given extra params and policy.
func oneNode(url, params, policy string) string {
	return fmt.Sprintf(`
version: 1
name: http-one
start: call
params: {url: %q}
nodes:
  call:
    type: http
    params: {%s}
    %s
`, url, params, policy)
}

func TestHTTPClassification(t *testing.T) {
	var hangs atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Token", "server-secret")
		fmt.Fprintf(w, `{"method": %q, "query": %q, "auth": %q}`, r.Method, r.URL.RawQuery, r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "plain") })
	mux.HandleFunc("/reset", func(w http.ResponseWriter, r *http.Request) { resetConn(w) })
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/slowdown", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) })
	mux.HandleFunc("/boom", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "bad token %s", r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2048)) })
	mux.HandleFunc("/badjson", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "{nope")
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		hangs.Add(1)
		<-r.Context().Done() // the client's timeout closes the connection
		hangs.Add(-1)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	refused := httptest.NewServer(mux)
	refusedURL := refused.URL
	refused.Close()

	cases := []struct {
		name, url, params string
		kind              engine.Kind
		message           string // a fragment of the failure, or of the body on success
	}{
		{"json decoded", srv.URL + "/ok", `method: POST, query: {q: "a b"}, headers: {Authorization: "Bearer tok-123"}`, "", `"method":"POST","query":"q=a+b"`},
		{"text kept", srv.URL + "/text", "", "", `"body":"plain"`},
		{"expected 404", srv.URL + "/missing", `expect_status: [404]`, "", `"status":404`},
		{"reset", srv.URL + "/reset", "", engine.Network, "connection reset"},
		{"refused", refusedURL, "", engine.Network, "refused"},
		{"503", srv.URL + "/busy", "", engine.Resource, "Retry-After 7s"},
		{"429", srv.URL + "/slowdown", "", engine.Resource, "429 Too Many Requests"},
		{"500", srv.URL + "/boom", "", engine.Network, "500 Internal Server Error"},
		{"400", srv.URL + "/bad", `headers: {Authorization: "Bearer tok-123"}`, engine.Data, "400 Bad Request: bad token [redacted]"},
		{"404 unexpected", srv.URL + "/missing", `expect_status: ["2xx", 201]`, engine.Data, "404 Not Found"},
		{"body over limit", srv.URL + "/big", `max_response_bytes: 1024`, engine.Data, "longer than max_response_bytes (1024)"},
		{"JSON that is not", srv.URL + "/badjson", "", engine.Data, "does not decode"},
		{"hang cut by timeout", srv.URL + "/hang", "", engine.Timeout, "timeout"},
		{"bad url", "ftp://user:pw@host/x", "", engine.Data, `not "ftp://user:xxxxx@host/x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := load(t, oneNode(c.url, c.params, "timeout: 1s"))
			res, _ := runReal(t, g, engine.RunOptions{})
			if c.kind == "" {
				if res.Status != engine.StatusSuccess {
					t.Fatalf("status %s: %v", res.Status, res.Failures)
				}
				out, _ := json.Marshal(res.Shared["call"])
				if !strings.Contains(string(out), c.message) {
					t.Errorf("result %s, want it to hold %s", out, c.message)
				}
				if c.name == "json decoded" && !strings.Contains(string(out), `"auth":"Bearer tok-123"`) {
					t.Errorf("the Authorization header did not reach the server: %s", out)
				}
				return
			}
			if res.Status != engine.StatusFailed || len(res.Failures) != 1 {
				t.Fatalf("status %s, failures %v", res.Status, res.Failures)
			}
			f := res.Failures[0]
			if f.Kind != c.kind || !strings.Contains(f.Error(), c.message) {
				t.Errorf("failure %s %q, want %s containing %q", f.Kind, f.Error(), c.kind, c.message)
			}
			if strings.Contains(f.Error(), "tok-123") || strings.Contains(f.Error(), ":pw@") {
				t.Errorf("a secret leaked into the failure: %s", f.Error())
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for hangs.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := hangs.Load(); n != 0 {
		t.Errorf("%d requests to the hanging handler are still open after the timeout", n)
	}
}

func TestHTTPRedactsSecretResponseHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Api-Key", "key-456")
		w.Header().Set("Set-Cookie", "session=abc")
		w.Header().Set("X-Plain", "shown")
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	g := load(t, oneNode(srv.URL, `secret_headers: [x-api-key]`, ""))
	res, _ := runReal(t, g, engine.RunOptions{})
	h := res.Shared["call"].(*HTTPResult).Headers
	if h["X-Api-Key"] != Redacted || h["Set-Cookie"] != Redacted || h["X-Plain"] != "shown" {
		t.Errorf("headers %v", h)
	}
}

func TestHTTPSendsBody(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s ", r.Header.Get("Content-Type"), r.Header.Get("X-Run"))
		buf := make([]byte, 512)
		n, _ := r.Body.Read(buf)
		b.Write(buf[:n])
		got.Store(b.String())
	}))
	defer srv.Close()
	for params, want := range map[string]string{
		`method: PUT, body: "raw text", headers: {X-Run: 7}`: "text/plain; charset=utf-8 7 raw text",
		`method: POST, body: {a: [1, 2]}`:                    `application/json  {"a":[1,2]}`,
	} {
		res, _ := runReal(t, load(t, oneNode(srv.URL, params, "")), engine.RunOptions{})
		if res.Status != engine.StatusSuccess || got.Load() != want {
			t.Errorf("%s: status %s, server saw %q, want %q", params, res.Status, got.Load(), want)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"99999999999", maxRetryAfter, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, false},
	}
	for _, c := range cases {
		got, ok := retryAfter(c.v, now)
		if got != c.want || ok != c.ok {
			t.Errorf("retryAfter(%q) = %s, %v; want %s, %v", c.v, got, ok, c.want, c.ok)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "Wed, 21 Oct 2015 07:28:00 GMT", "-3", "1e9", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := retryAfter(v, now)
		if d < 0 || d > maxRetryAfter || (!ok && d != 0) {
			t.Fatalf("retryAfter(%q) = %s, %v", v, d, ok)
		}
	})
}

// TestHTTPDNSFailureIsNetwork resolves the host through a resolver whose DNS server (on
// loopback) refuses connections: the lookup fails, and the failure is of kind network.
func TestHTTPDNSFailureIsNetwork(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	dnsAddr := closed.Listener.Addr().String()
	closed.Close()
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", dnsAddr)
	}}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Resolver: resolver}).DialContext
	reg := engine.NewRegistry()
	if err := Register(reg, Options{HTTPClient: &http.Client{Transport: tr}}); err != nil {
		t.Fatal(err)
	}
	g, ds := engine.Load("dns.yaml", []byte(oneNode("http://report.kgrun-test.example/x", "", "")), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	res, _ := runReal(t, g, engine.RunOptions{})
	if len(res.Failures) != 1 || res.Failures[0].Kind != engine.Network || !strings.Contains(res.Failures[0].Error(), "lookup report.kgrun-test.example") {
		t.Errorf("failures %v, want one network failure of the lookup", res.Failures)
	}
}
