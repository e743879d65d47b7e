package temporal

import (
	"slices"

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

// bulkheadStart is a bulkhead workflow's argument.
type bulkheadStart struct {
	Limit int `json:"limit"`
	// Holders carries the slots held across a continue-as-new.
	Holders []string `json:"holders,omitempty"`
}

// bulkheadWorkflow keeps one node's bulkhead for every worker and run: acquire waits on
// workflow time for a free slot, up to the caller's wait; release frees the caller's.
func bulkheadWorkflow(ctx workflow.Context, start bulkheadStart) error {
	limit := max(start.Limit, 1)
	held := map[string]bool{}
	for _, h := range start.Holders {
		held[h] = true
	}
	handled := 0
	err := workflow.SetUpdateHandler(ctx, "acquire", func(ctx workflow.Context, req sharedRequest) (bulkheadReply, error) {
		handled++
		if held[req.Holder] { // a retried request that already got its slot
			return bulkheadReply{Acquired: true, InUse: len(held)}, nil
		}
		free := func() bool { return len(held) < limit }
		if !free() {
			if req.Wait <= 0 {
				return bulkheadReply{InUse: len(held)}, nil
			}
			ok, err := workflow.AwaitWithTimeout(ctx, req.Wait, free)
			if err != nil || !ok {
				return bulkheadReply{InUse: len(held)}, err
			}
		}
		held[req.Holder] = true
		return bulkheadReply{Acquired: true, InUse: len(held)}, nil
	})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandler(ctx, "release", func(ctx workflow.Context, req sharedRequest) (bulkheadReply, error) {
		handled++
		if !held[req.Holder] {
			return bulkheadReply{InUse: len(held)}, nil // released already: a retried request
		}
		delete(held, req.Holder)
		return bulkheadReply{InUse: len(held)}, nil
	})
	if err != nil {
		return err
	}
	if err := untilTimeToContinue(ctx, &handled); err != nil {
		return err
	}
	next := bulkheadStart{Limit: limit}
	for h := range held {
		next.Holders = append(next.Holders, h)
	}
	slices.Sort(next.Holders) // map order is random; workflow code must not be
	return workflow.NewContinueAsNewError(ctx, BulkheadWorkflow, next)
}
