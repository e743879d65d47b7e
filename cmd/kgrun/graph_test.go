package main

import (
	"encoding/json"
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
