package temporal

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/kgrun/kgrun/engine"
)

// TestExactOrderCanceled cancels a run in exact order while its map's items wait and
// work: the items waiting for their turn do not run at once, the run ends canceled, and
// nothing is left hanging. In parallel order the run may end on its own first (see
// below); either way the workflow completes.
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
			if order == OrderParallel && res.Status != engine.StatusCanceled {
				// In parallel order the items reach the shared breaker in the order their
				// activities complete, and in some orders three quick failures open it and
				// fail the map before 250ms of workflow time: the run then ends on its own,
				// as it must, before the cancellation arrives.
				if res.Status != engine.StatusFailed && res.Status != engine.StatusDegraded {
					t.Errorf("status %s %v; want canceled, or an end of its own before the cancellation", res.Status, res.PathNodes())
				}
				t.Logf("parallel order: the run ended %s before the cancellation reached it", res.Status)
				return
			}
			if res.Status != engine.StatusCanceled {
				t.Errorf("status %s %v; want canceled", res.Status, res.PathNodes())
			}
		})
	}
}
