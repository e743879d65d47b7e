package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGraphSVGRun: kgrun graph --format svg --run ID draws the stored run's path; html
// wraps the same picture in a page; the wrong workflow's run is refused by name.
func TestGraphSVGRun(t *testing.T) {
	state := filepath.Join(t.TempDir(), "kgrun.db")
	out, stderr, code := kgrun(t, "workflows/fault_tolerant.yaml", "--scenario", "network", "--seed", "14", "--virtual-time",
		"--state", state, "--format", "json", "--set", "alternate_dir="+t.TempDir())
	if code != exitOK {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	var res struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.RunID == "" {
		t.Fatalf("no run id in %s (%v)", out, err)
	}
	svg, stderr, code := kgrun(t, "graph", "workflows/fault_tolerant.yaml", "--format", "svg", "--run", res.RunID, "--state", state)
	if code != exitOK {
		t.Fatalf("graph: exit %d: %s", code, stderr)
	}
	for _, want := range []string{`<g class="node handled-failure" data-node="collect">`, `<g class="edge fallback taken" data-from="collect" data-to="fallback_data">`} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %s", want)
		}
	}
	page, _, code := kgrun(t, "graph", "workflows/fault_tolerant.yaml", "--format", "html", "--run", res.RunID, "--state", state)
	if code != exitOK || !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.Contains(page, strings.TrimSpace(svg)) {
		t.Errorf("html page (exit %d) does not hold the svg", code)
	}
	_, stderr, code = kgrun(t, "graph", "workflows/http_pipeline.yaml", "--format", "svg", "--run", res.RunID, "--state", state)
	if code != exitUsage || !strings.Contains(stderr, `is of workflow "fault-tolerant"`) {
		t.Errorf("wrong workflow: exit %d: %s", code, stderr)
	}
	_, stderr, code = kgrun(t, "graph", "workflows/fault_tolerant.yaml", "--format", "dot", "--run", res.RunID)
	if code != exitUsage || !strings.Contains(stderr, "--run draws") {
		t.Errorf("--run with dot: exit %d: %s", code, stderr)
	}
}

// TestGraphIDsDoNotClash: a node in a body whose mermaid id would be a top-level node's
// name (fan/double and fan_double), and a body whose id would be another's, get ids of
// their own; dot names body nodes by path, which no top-level name can be.
func TestGraphIDsDoNotClash(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clash.yaml")
	src := `version: 1
name: clash
start: fan
nodes:
  fan:
    type: map
    items: [1]
    body:
      start: double
      nodes:
        double: {type: transform, params: {values: {n: 1}}}
    on: {success: fan_double}
  fan_double: {type: transform, params: {values: {n: 2}}, on: {success: fan_body}}
  fan_body: {type: transform, params: {values: {n: 3}}}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := kgrun(t, "graph", file)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`    fan_double["fan_double<br/><small>transform</small>"]`,
		`    subgraph fan_body_2 ["fan: body"]`,
		`        fan_double_2["double<br/><small>transform</small>"]`,
		`    fan ==>|each item| fan_double_2`,
		`    fan -->|success| fan_double`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("mermaid lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = kgrun(t, "graph", file, "--format", "dot")
	for _, want := range []string{`"fan/double" [label="double\ntransform", style=bold];`, `"fan" -> "fan/double" [label="each item", style=bold];`} {
		if !strings.Contains(out, want) {
			t.Errorf("dot lacks %s:\n%s", want, out)
		}
	}
}
