package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportShowsComputedParams: the report lists the values each visit's ${{ }} params
// computed, with the http type's secrets (Authorization, secret_headers, a URL's
// password) redacted, while the request itself carries them; the trace file never
// holds them either.
func TestReportShowsComputedParams(t *testing.T) {
	var gotAuth, gotKey string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotKey = r.Header.Get("Authorization"), r.Header.Get("X-Api-Key")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"n": 3}`)
	}))
	defer ts.Close()
	dir := t.TempDir()
	wf := filepath.Join(dir, "call.yaml")
	src := `version: 1
name: call
start: call
input:
  properties:
    url: {type: string}
    token: {type: string}
  required: [url, token]
output:
  n: shared.call.body.n
nodes:
  call:
    type: http
    params:
      url: "${{ input.url }}/items"
      headers:
        Authorization: "Bearer ${{ input.token }}"
        X-Api-Key: "${{ input.token }}-key"
        X-Trace: "run-${{ input.token == '' ? 'none' : 'one' }}"
      secret_headers: [x-api-key]
`
	if err := os.WriteFile(wf, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(dir, "trace.jsonl")
	url := strings.Replace(ts.URL, "http://", "http://user:pw@", 1)
	out, errText, code := kgrun(t, wf, "--state", "none", "--trace", trace, "--input-json", fmt.Sprintf(`{"url": %q, "token": "s3cret"}`, url))
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, errText)
	}
	if gotAuth != "Bearer s3cret" || gotKey != "s3cret-key" {
		t.Errorf("the server saw Authorization %q, X-Api-Key %q", gotAuth, gotKey)
	}
	want := `call#1  headers.Authorization="[redacted]" headers.X-Api-Key="[redacted]" headers.X-Trace="run-one" url="http://user:xxxxx@`
	if !strings.Contains(out, "Params computed\n  "+want) {
		t.Errorf("report does not show %q:\n%s", want, out)
	}
	tr, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{out, string(tr)} {
		if strings.Contains(text, "s3cret") || strings.Contains(text, ":pw@") {
			t.Errorf("a secret was printed:\n%s", text)
		}
	}
}
