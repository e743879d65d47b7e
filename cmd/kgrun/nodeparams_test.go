package main

import (
	"strings"
	"testing"
)

// TestSetCheckedAgainstNodeTypes gives --set a value the node reading it cannot use: the
// run is refused before it starts, naming the param, the node and its type.
func TestSetCheckedAgainstNodeTypes(t *testing.T) {
	_, stderr, code := kgrun(t, "workflows/fault_tolerant.yaml", "--virtual-time", "--state", t.TempDir()+"/s.db",
		"--set", "record_failure_rate=high")
	want := `param record_failure_rate (read by node "process", type processor) must be a number, not "high" (a string)`
	if code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, want)
	}
}

// TestSchemaCarriesIOTypes checks that kgrun schema covers the I/O types registered into
// the command line's registry, param by param.
func TestSchemaCarriesIOTypes(t *testing.T) {
	out, _, code := kgrun(t, "schema")
	for _, want := range []string{`"const": "http"`, `"const": "command"`, `"const": "file"`, `"max_response_bytes"`, `"kill_grace"`, `"batch_size"`} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("kgrun schema (exit %d) lacks %s", code, want)
		}
	}
}
