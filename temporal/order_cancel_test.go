package temporal

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/kgrun/kgrun/engine"
)

// TestExactOrderCanceled cancels a run in exact order while its map's items wait and
// work: the items waiting for their turn do not run at once, the run ends canceled, and
// nothing is left hanging.
func TestExactOrderCanceled(t *testing.T) {
	for _, order := range []string{OrderExact, OrderParallel} {
		t.Run(order, func(t *testing.T) {
			g, ds := engine.LoadFile("../workflows/fan_out.yaml", newRegistry())
			if g == nil {
				t.Fatal(ds.Error())
			}
			req := NewRunRequest(g, engine.RunOptions{Scenario: "outage", Seed: 6, Params: map[string]any{"alternate_dir": t.TempDir()}})
			req.SharedState, req.Order = SharedRun, order
			var ts testsuite.WorkflowTestSuite
			ts.SetLogger(quietLogger())
			env := ts.NewTestWorkflowEnvironment()
			env.SetStartTime(engine.Epoch)
			NewWorker(newRegistry, nil, Options{}).Register(env)
			env.RegisterDelayedCallback(env.CancelWorkflow, 250*time.Millisecond)
			env.ExecuteWorkflow(RunWorkflow, req)
			if !env.IsWorkflowCompleted() {
				t.Fatal("the run workflow did not complete")
			}
			var reply RunReply
			if err := env.GetWorkflowResult(&reply); err != nil {
				t.Fatalf("the canceled run: %v", err)
			}
			res, _, err := reply.Restore()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %v", res.Status, res.PathNodes())
			if res.Status != engine.StatusCanceled {
				t.Errorf("status %s %v; want canceled", res.Status, res.PathNodes())
			}
		})
	}
}
