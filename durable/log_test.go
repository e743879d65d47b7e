package durable_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/engine"
)

// TestLogLinesNameTheRun: every line a journaled run logs carries its run ID beside the
// workflow and node the engine adds, so runs sharing one log can be told apart.
func TestLogLinesNameTheRun(t *testing.T) {
	db := openStore(t)
	var buf bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Debug, DisableTime: true})
	runner := &durable.Runner{Store: db}
	for _, want := range []string{"run_id=1", "run_id=2"} {
		buf.Reset()
		if _, err := runner.Start(context.Background(), callGraph(t), engine.RunOptions{Logger: logger}, durable.Spec{File: "call.yaml", VirtualTime: true}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) < 3 {
			t.Fatalf("only %d log lines at debug level:\n%s", len(lines), buf.String())
		}
		for _, l := range lines {
			if !strings.Contains(l, want) || !strings.Contains(l, "workflow=call") {
				t.Errorf("a line without %s and workflow=call: %s", want, l)
			}
		}
		if !strings.Contains(buf.String(), "node=call") {
			t.Errorf("no line names the node:\n%s", buf.String())
		}
	}
}
