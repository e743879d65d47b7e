package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const envCallWorkflow = `version: 1
name: env-call
start: call
env:
  - KGRUN_TEST_TOKEN
  - {name: KGRUN_TEST_REGION, default: eu, secret: false}
  - {name: KGRUN_TEST_URL, secret: false}
output:
  region: env.KGRUN_TEST_REGION
nodes:
  call:
    type: http
    params:
      url: "${{ env.KGRUN_TEST_URL }}/items"
      headers:
        Authorization: "Bearer ${{ env.KGRUN_TEST_TOKEN }}"
        X-Token-Digest: "${{ len(env.KGRUN_TEST_TOKEN) }}"
        X-Region: "${{ env.KGRUN_TEST_REGION }}"
`

// TestEnvTokenReachesServerOnly: a token given through the process environment reaches a
// real server's Authorization header, while the report, the trace file and the run's
// store never hold it; a variable not given falls back to its default.
func TestEnvTokenReachesServerOnly(t *testing.T) {
	var gotAuth, gotRegion string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotRegion = r.Header.Get("Authorization"), r.Header.Get("X-Region")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ts.Close()
	dir := t.TempDir()
	wf := filepath.Join(dir, "call.yaml")
	if err := os.WriteFile(wf, []byte(envCallWorkflow), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KGRUN_TEST_TOKEN", "tok-s3cret")
	t.Setenv("KGRUN_TEST_URL", ts.URL)
	trace, state := filepath.Join(dir, "trace.jsonl"), filepath.Join(dir, "state.db")
	out, errText, code := kgrun(t, wf, "--state", state, "--trace", trace)
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, errText)
	}
	if gotAuth != "Bearer tok-s3cret" || gotRegion != "eu" {
		t.Errorf("the server saw Authorization %q, X-Region %q", gotAuth, gotRegion)
	}
	want := `call#1  headers.Authorization="[redacted]" headers.X-Region="eu" headers.X-Token-Digest="[redacted]" url="` + ts.URL + `/items"`
	if !strings.Contains(out, "Params computed\n  "+want) {
		t.Errorf("report does not show %q:\n%s", want, out)
	}
	if !strings.Contains(out, "region") || !strings.Contains(out, "eu") {
		t.Errorf("report does not show the output:\n%s", out)
	}
	files := map[string]string{"report": out, "stderr": errText}
	stored, err := filepath.Glob(state + "*") // the store with its write-ahead log, if any
	if err != nil || len(stored) == 0 {
		t.Fatalf("no store files: %v", err)
	}
	for _, path := range append(stored, trace) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(path)] = string(b)
	}
	for name, text := range files {
		if strings.Contains(text, "s3cret") {
			t.Errorf("the %s holds the token", name)
		}
	}
}

// TestEnvUnsetRefusesRun: a listed variable that is unset and has no default stops the
// run before it starts, exit 2, naming the variable and where it is listed.
func TestEnvUnsetRefusesRun(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, "call.yaml")
	if err := os.WriteFile(wf, []byte(envCallWorkflow), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KGRUN_TEST_URL", "http://127.0.0.1:1")
	t.Setenv("KGRUN_TEST_TOKEN", "") // restores the variable after the test
	if err := os.Unsetenv("KGRUN_TEST_TOKEN"); err != nil {
		t.Fatal(err)
	}
	out, errText, code := kgrun(t, wf, "--state", "none")
	if code != exitUsage || !strings.Contains(errText, "call.yaml:5:5: KGRUN_TEST_TOKEN is not set; set it, or give it a default under env") {
		t.Errorf("exit %d:\n%s%s", code, out, errText)
	}
}
