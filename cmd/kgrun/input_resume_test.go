package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedriveUsesJournaledInput: a failed run redriven with kgrun resume reads the input
// journaled with its first visit; it is not given again. The failed visit is redone in
// place, so the path is the first visit kept and the second run again.
func TestRedriveUsesJournaledInput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	file := filepath.Join(dir, "io.yaml")
	src := `version: 1
name: io-resume
start: first
input:
  properties: {label: {type: string}, n: {type: integer, default: 4}}
  required: [label]
output:
  label: shared.first.label
  doubled: shared.second.doubled
nodes:
  first:
    type: transform
    params: {values: {label: "${{ input.label }}"}}
    on: {success: second}
  second:
    type: transform
    params: {values: {doubled: "${{ input.n * 2 }}"}}
scenarios:
  broken:
    faults:
      second: {rate: 1, kind: data, message: injected}
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errText, code := kgrun(t, file, "--scenario", "broken", "--virtual-time", "--state", db, "--input-json", `{"label": "journaled"}`)
	if code != exitFailed {
		t.Fatalf("exit %d: %s", code, errText)
	}
	out, errText, code := kgrun(t, "resume", "1", file, "--state", db, "--scenario", "none", "--format", "json")
	if code != exitOK {
		t.Fatalf("resume: exit %d: %s%s", code, out, errText)
	}
	var res struct {
		Output map[string]any `json:"output"`
		Path   []struct{ Node string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Output["label"] != "journaled" || res.Output["doubled"] != float64(8) {
		t.Errorf("output %v", res.Output)
	}
	var nodes []string
	for _, s := range res.Path {
		nodes = append(nodes, s.Node)
	}
	if got := strings.Join(nodes, " "); got != "first second" {
		t.Errorf("path %q", got)
	}
}
