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
	out, stderr, code := kgrun(t, "test", empty)
	if code != exitOK || !strings.Contains(stderr, empty+" declares no tests") ||
		out != "0 passed, 0 failed; 1 file declared no tests: "+empty+"\n" {
		t.Errorf("no tests: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}
