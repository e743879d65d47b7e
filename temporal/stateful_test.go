package temporal

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/kgrun/kgrun/engine/policy"
)

// updateResult collects an update's outcome in the test environment.
type updateResult struct {
	rep breakerReply
	err error
}

func (u *updateResult) Accept()          {}
func (u *updateResult) Reject(err error) { u.err = err }
func (u *updateResult) Complete(v any, err error) {
	if err != nil {
		u.err = err
		return
	}
	u.rep = v.(breakerReply)
}

// TestBreakerWorkflowContinuesAsNew drives a breaker workflow through updates until it
// continues as new, and checks the state it carries: counts, state and the generation
// that keeps a ticket handed out before the hand-over valid after it.
func TestBreakerWorkflowContinuesAsNew(t *testing.T) {
	old := historyLimit
	historyLimit = 6
	t.Cleanup(func() { historyLimit = old })
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quietLogger())
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(breakerWorkflow, workflow.RegisterOptions{Name: BreakerWorkflow})
	cfg := policy.BreakerConfig{Name: "api", FailureThreshold: 2, OpenTimeout: time.Minute, HalfOpenMaxCalls: 1}
	var results []*updateResult
	ask := func(update string, req sharedRequest) {
		r := &updateResult{}
		results = append(results, r)
		env.UpdateWorkflow(update, "", r, req)
	}
	env.RegisterDelayedCallback(func() {
		ask("allow", sharedRequest{}) // 1: admitted
		ask("record", sharedRequest{Ticket: results[0].rep.Ticket, Outcome: policy.Failure})
		ask("allow", sharedRequest{})                                                        // 3: admitted
		ask("record", sharedRequest{Ticket: results[2].rep.Ticket, Outcome: policy.Failure}) // opens
		ask("allow", sharedRequest{})                                                        // 5: rejected
		ask("snapshot", sharedRequest{})
	}, time.Second)
	env.ExecuteWorkflow(BreakerWorkflow, breakerStart{Config: cfg})
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("update %d: %v", i+1, r.err)
		}
	}
	if results[4].rep.OK {
		t.Error("the open breaker admitted a call")
	}
	snap := results[5].rep.Snapshot
	if snap.StateStr != "open" || snap.Counts.Failures != 2 || snap.Counts.Rejections != 1 {
		t.Errorf("snapshot %+v; want open with 2 failures and 1 rejection", snap)
	}
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("the workflow ended with %v; want a continue-as-new after %d updates", err, historyLimit)
	}
	var next breakerStart
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.State == nil || next.State.State != "open" || next.State.Counts != snap.Counts || next.State.Generation == 0 {
		t.Fatalf("carried state %+v; want the open breaker's, with its generation", next.State)
	}
	b := policy.NewBreaker(cfg)
	if err := b.Restore(*next.State); err != nil {
		t.Fatal(err)
	}
	if got := b.Export(); got.State != "open" || got.Counts != snap.Counts {
		t.Errorf("restored %+v", got)
	}
}
