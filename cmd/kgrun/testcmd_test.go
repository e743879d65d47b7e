package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeWorkflow writes src into a temporary file and returns its path.
func writeWorkflow(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTestCompilesBeforeCountingTests(t *testing.T) {
	broken := writeWorkflow(t, "broken.yaml", `version: 1
name: broken
start: a
nodes:
  a: {type: no_such_type}
`)
	for _, args := range [][]string{{"test", broken}, {broken, "--test-recovery"}, {"test", "--format", "json", broken}} {
		out, stderr, code := kgrun(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d; stdout %q", args, code, exitUsage, out)
		}
		if !strings.Contains(stderr, broken+":5:") || !strings.Contains(stderr, "no_such_type") {
			t.Errorf("%v: stderr %q does not name the unknown type with its position", args, stderr)
		}
	}
	empty := writeWorkflow(t, "empty.yaml", `version: 1
name: empty
start: a
nodes:
  a: {type: completion}
`)
	if out, _, code := kgrun(t, "test", "--format", "json", empty); code != exitOK || out != "[]\n" {
		t.Errorf("no tests, JSON: exit %d, stdout %q", code, out)
	}
	out, stderr, code := kgrun(t, "test", empty)
	if code != exitOK || !strings.Contains(stderr, empty+" declares no tests") ||
		out != "0 passed, 0 failed; 1 file declared no tests: "+empty+"\n" {
		t.Errorf("no tests: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

// TestSetIsTypedByTheParam refuses a --set value that cannot be what the param is, with
// exit 2 before the run starts (nothing is recorded), naming the param, its type and
// the value.
func TestSetIsTypedByTheParam(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	cases := []struct {
		set, want string
	}{
		{"batch_size=[1,2]", "kgrun run: --set batch_size=[1,2]: param batch_size must be an int, not a list ([1,2]) (declared at workflows/fault_tolerant.yaml:20:3 as int, inferred from its default 50)\n"},
		{"batch_size=abc", `param batch_size must be an int, not the string "abc"`},
		{"batch_size=2.5", "param batch_size must be an int, not a fractional number (2.5)"},
	}
	for _, c := range cases {
		out, stderr, code := kgrun(t, "workflows/fault_tolerant.yaml", "--virtual-time", "--state", state, "--set", c.set)
		if code != exitUsage || out != "" || !strings.Contains(stderr, c.want) {
			t.Errorf("--set %s: exit %d, stdout %q, stderr %q; want exit 2 saying %q", c.set, code, out, stderr, c.want)
		}
	}
	if out, _, _ := kgrun(t, "runs", "--state", state); strings.Contains(out, "fault-tolerant") {
		t.Errorf("a refused --set still recorded a run:\n%s", out)
	}
	out, stderr, code := kgrun(t, "workflows/fault_tolerant.yaml", "--virtual-time", "--state", "none", "--set", "batch_size=30.0",
		"--set", "alternate_dir="+t.TempDir())
	if code != exitOK || !strings.Contains(out, "data        30 records from primary_api") {
		t.Errorf("--set batch_size=30.0: exit %d, %s\n%s", code, stderr, out)
	}
}

// TestTestParamsAreTypedAtLoad refuses a test's param of the wrong type when the file
// loads, with its file:line:col, before any test runs.
func TestTestParamsAreTypedAtLoad(t *testing.T) {
	file := writeWorkflow(t, "typed.yaml", `version: 1
name: typed
start: a
params: {batch_size: 5}
nodes:
  a: {type: completion}
tests:
  - name: bad
    params: {batch_size: [1, 2]}
    expect: {status: success}
`)
	out, stderr, code := kgrun(t, "test", file)
	if code != exitUsage || !strings.Contains(stderr, file+`:9:26: error: test "bad": param batch_size must be an int, not a list ([1,2])`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}
