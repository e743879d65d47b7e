package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeRuns are the run commands README.md gives, with the path the workflow's own
// tests state for each (the clean run is its seed-1 test).
var readmeRuns = []struct {
	name string
	args []string
	path string
}{
	{"clean", nil, "collect process deliver complete"},
	{"network", []string{"--simulate-failures", "--failure-type", "network", "--seed", "14", "--virtual-time"}, "collect fallback_data process deliver complete"},
	{"storage", []string{"--scenario", "storage", "--seed", "4", "--virtual-time"}, "collect process deliver alternate_delivery complete"},
}

// TestReadmeRunsInAnyOrder runs every ordered pair of the README's run commands through
// the binary on one store: each takes the path the workflow's tests state whatever ran
// before, since simulations neither read nor write what real runs carry over; a
// simulated command run twice prints the same bytes but for its run ID line.
func TestReadmeRunsInAnyOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildKgrun(t)
	runID := regexp.MustCompile(`(?m)^Run \d+ \(kgrun show \d+\)$`)
	for _, first := range readmeRuns {
		for _, second := range readmeRuns {
			t.Run(first.name+"_then_"+second.name, func(t *testing.T) {
				dir := t.TempDir()
				db := filepath.Join(dir, "state.db")
				var texts []string
				for _, r := range []struct {
					name string
					args []string
					path string
				}{first, second} {
					args := append([]string{"../../workflows/fault_tolerant.yaml"}, r.args...)
					args = append(args, "--state", db, "--set", "alternate_dir="+dir, "--no-color")
					out, errOut, code := runBin(t, bin, args...)
					if code != exitOK {
						t.Fatalf("%s: exit %d\n%s%s", r.name, code, out, errOut)
					}
					texts = append(texts, runID.ReplaceAllString(out, "Run N"))
					js, errOut, code := runBin(t, bin, "show", lastRunID(t, bin, db), "--state", db, "--format", "json")
					if code != exitOK {
						t.Fatalf("show: exit %d %s", code, errOut)
					}
					var shown struct{ Path []struct{ Node string } }
					if err := json.Unmarshal([]byte(js), &shown); err != nil {
						t.Fatal(err)
					}
					var nodes []string
					for _, s := range shown.Path {
						nodes = append(nodes, s.Node)
					}
					if got := strings.Join(nodes, " "); got != r.path {
						t.Errorf("%s after %s took %q, want %q as the workflow's test states", r.name, first.name, got, r.path)
					}
				}
				if first.name == second.name && first.args != nil && texts[0] != texts[1] {
					t.Errorf("%s twice printed different reports:\n%s\n---\n%s", first.name, texts[0], texts[1])
				}
			})
		}
	}
}

func lastRunID(t *testing.T, bin, db string) string {
	t.Helper()
	out, errOut, code := runBin(t, bin, "runs", "--state", db, "--limit", "1", "--format", "json")
	var rows []struct{ ID string }
	if code != exitOK || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 {
		t.Fatalf("runs: exit %d\n%s%s", code, out, errOut)
	}
	return rows[0].ID
}
