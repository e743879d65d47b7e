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
