package temporal

import (
	"go.temporal.io/sdk/workflow"

	"github.com/kgrun/kgrun/engine/policy"
)

// historyLimit is how many updates a breaker or bulkhead workflow handles before it
// continues as new (sooner when the server suggests it), so its history stays short.
var historyLimit = 2000

// untilTimeToContinue waits until the workflow has handled historyLimit updates (or the
// server suggests continuing as new) and every handler has finished, so the state
// carried over is final.
func untilTimeToContinue(ctx workflow.Context, handled *int) error {
	if err := workflow.Await(ctx, func() bool {
		return *handled >= historyLimit || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// breakerStart is a breaker workflow's argument: its configuration and, after a
// continue-as-new, the state it carries.
type breakerStart struct {
	Config policy.BreakerConfig `json:"config"`
	State  *policy.BreakerState `json:"state,omitempty"`
}

// breakerWorkflow keeps one named breaker for every worker and run. Its decisions take
// its own workflow time; allow, record and snapshot are updates, answered in the order
// the server accepts them.
func breakerWorkflow(ctx workflow.Context, start breakerStart) error {
	b := policy.NewBreaker(start.Config)
	if start.State != nil {
		if err := b.Restore(*start.State); err != nil {
			return err
		}
	}
	handled := 0
	reply := func(rep breakerReply) breakerReply {
		handled++
		rep.Snapshot = b.Snapshot()
		return rep
	}
	handlers := map[string]func(workflow.Context, sharedRequest) (breakerReply, error){
		"allow": func(ctx workflow.Context, _ sharedRequest) (breakerReply, error) {
			t, ok, tr := b.Allow(workflow.Now(ctx))
			return reply(breakerReply{Ticket: t, OK: ok, Transition: tr}), nil
		},
		"record": func(ctx workflow.Context, req sharedRequest) (breakerReply, error) {
			tr := b.Record(req.Ticket, workflow.Now(ctx), req.Outcome)
			return reply(breakerReply{Transition: tr}), nil
		},
		"snapshot": func(workflow.Context, sharedRequest) (breakerReply, error) {
			return reply(breakerReply{}), nil
		},
	}
	for name, h := range handlers {
		if err := workflow.SetUpdateHandler(ctx, name, h); err != nil {
			return err
		}
	}
	if err := untilTimeToContinue(ctx, &handled); err != nil {
		return err
	}
	st := b.Carry()
	return workflow.NewContinueAsNewError(ctx, BreakerWorkflow, breakerStart{Config: start.Config, State: &st})
}
