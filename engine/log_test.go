package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestLoggingThroughHclog(t *testing.T) {
	const src = `
version: 1
name: logs
start: work
breakers:
  api: {failure_threshold: 1, open_timeout: 1m}
nodes:
  work:
    type: echo
    breaker: api
    on: {error: done}
  done: {type: echo}
scenarios:
  down: {faults: {work: {rate: 1, kind: network}}}
`
	for _, c := range []struct {
		level      hclog.Level
		wantDebug  bool
		wantBreakr bool
	}{{hclog.Debug, true, true}, {hclog.Info, false, true}, {hclog.Warn, false, false}} {
		g := mustLoad(t, src) // a fresh breaker for each level
		var buf bytes.Buffer
		logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: c.level, JSONFormat: true})
		if _, err := g.Run(context.Background(), RunOptions{Scenario: "down", Logger: logger, Clock: NewVirtualClock(Epoch)}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if got := strings.Contains(out, `"attempt failed"`); got != c.wantDebug {
			t.Errorf("level %s: debug line present=%v", c.level, got)
		}
		if got := strings.Contains(out, `"breaker state changed"`); got != c.wantBreakr {
			t.Errorf("level %s: breaker line present=%v", c.level, got)
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line != "" && !json.Valid([]byte(line)) {
				t.Errorf("level %s: not JSON: %s", c.level, line)
			}
		}
	}
}

// TestLogLinesNameRunWorkflowAndNode: the caller's With fields (a run id) and the
// workflow reach every line; at debug level there is one line per visit and one per
// attempt, each naming its node; at info level none of them.
func TestLogLinesNameRunWorkflowAndNode(t *testing.T) {
	const src = `
version: 1
name: logged
start: work
nodes:
  work:
    type: echo
    retry: {attempts: 3, delay: 1s}
    on: {success: done}
  done: {type: echo}
scenarios:
  flaky: {faults: {work: {script: [{calls: 1, fail: network}]}}}
`
	for _, level := range []hclog.Level{hclog.Debug, hclog.Info} {
		var buf bytes.Buffer
		logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: level, JSONFormat: true}).With("run_id", "r-42")
		res, err := mustLoad(t, src).Run(context.Background(), RunOptions{Scenario: "flaky", Logger: logger, Clock: NewVirtualClock(Epoch)})
		if err != nil {
			t.Fatal(err)
		}
		if pathString(res) != "work(success) → done(success) = success" {
			t.Fatalf("path %s", pathString(res))
		}
		count := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("not JSON: %s", line)
			}
			if m["run_id"] != "r-42" || m["workflow"] != "logged" {
				t.Errorf("line without run_id or workflow: %s", line)
			}
			msg, _ := m["@message"].(string)
			if node, _ := m["node"].(string); node == "" {
				t.Errorf("line without node: %s", line)
			}
			count[msg]++
		}
		want := map[string]int{"visit": 2, "attempt failed": 1, "attempt succeeded": 2}
		if level != hclog.Debug {
			want = map[string]int{}
		}
		for msg, n := range want {
			if count[msg] != n {
				t.Errorf("level %s: %d %q lines, want %d", level, count[msg], msg, n)
			}
		}
		if level != hclog.Debug && len(count) != 0 {
			t.Errorf("level %s: lines %v", level, count)
		}
	}
}
