package temporal

import (
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// A bulkhead slot on the cluster is a lease: a holder takes it for leaseTerm and renews
// it while it holds it (every leaseTerm/3, from a coroutine of its run), and a slot whose
// lease runs out is free again. A run that is terminated (and so never releases) or whose
// workflow tasks stop running gives its slots back at most leaseTerm after its last
// renewal; a run that is only slow keeps them. What this does not give: a holder that
// lost its lease (its run made no progress for leaseTerm) goes on with its attempt, so
// for that long the bulkhead may admit one more than its limit.

// leaseTerm is how long a slot of a cluster bulkhead is held without a renewal.
var leaseTerm = time.Minute

// leaseVersion marks the bulkhead and run workflows that hold slots as leases.
const leaseVersion = "kgrun.bulkhead.lease"

// bulkheadStart is a bulkhead workflow's argument.
type bulkheadStart struct {
	Limit int `json:"limit"`
	// Holders carries the slots held across a continue-as-new by a workflow without
	// leases: they are held until released.
	Holders []string `json:"holders,omitempty"`
	// Leases carries the slots held across a continue-as-new and when their leases end.
	Leases []bulkheadLease `json:"leases,omitempty"`
}

// bulkheadLease is one holder's slot and the end of its lease (zero: until released).
type bulkheadLease struct {
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// bulkheadWorkflow keeps one node's bulkhead for every worker and run: acquire waits on
// workflow time for a free slot, up to the caller's wait, and renews the caller's lease
// when it holds one already; release frees the caller's slot.
func bulkheadWorkflow(ctx workflow.Context, start bulkheadStart) error {
	leases := workflow.GetVersion(ctx, leaseVersion, workflow.DefaultVersion, 1) >= 1
	limit := max(start.Limit, 1)
	held := map[string]time.Time{}
	for _, h := range start.Holders {
		held[h] = time.Time{}
	}
	for _, l := range start.Leases {
		held[l.Holder] = l.Until
	}
	// expire frees the slots whose leases have ended, and returns when the next ends
	// (zero when none will).
	expire := func() time.Time {
		now := workflow.Now(ctx)
		var next time.Time
		for h, until := range held {
			switch {
			case until.IsZero():
			case !now.Before(until):
				delete(held, h)
			case next.IsZero() || until.Before(next):
				next = until
			}
		}
		return next
	}
	leaseOf := func(req sharedRequest) time.Time {
		if !leases || req.Lease <= 0 {
			return time.Time{} // a run from before leases: held until released
		}
		return workflow.Now(ctx).Add(req.Lease)
	}
	handled := 0
	err := workflow.SetUpdateHandler(ctx, "acquire", func(ctx workflow.Context, req sharedRequest) (bulkheadReply, error) {
		handled++
		if _, ok := held[req.Holder]; ok { // a renewal, or a retried request that already got its slot
			if until := leaseOf(req); !until.IsZero() {
				held[req.Holder] = until
			}
			return bulkheadReply{Acquired: true, InUse: len(held)}, nil
		}
		free := func() bool { return len(held) < limit }
		if leases {
			expire()
		}
		if !free() {
			if req.Wait <= 0 {
				return bulkheadReply{InUse: len(held)}, nil
			}
			if !leases {
				ok, err := workflow.AwaitWithTimeout(ctx, req.Wait, free)
				if err != nil || !ok {
					return bulkheadReply{InUse: len(held)}, err
				}
			} else if ok, err := awaitSlot(ctx, req.Wait, free, expire); err != nil || !ok {
				return bulkheadReply{InUse: len(held)}, err
			}
		}
		held[req.Holder] = leaseOf(req)
		return bulkheadReply{Acquired: true, InUse: len(held)}, nil
	})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandler(ctx, "release", func(ctx workflow.Context, req sharedRequest) (bulkheadReply, error) {
		handled++
		if _, ok := held[req.Holder]; !ok {
			return bulkheadReply{InUse: len(held)}, nil // released already (a retried request), or its lease ran out
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
	for h, until := range held {
		if leases {
			next.Leases = append(next.Leases, bulkheadLease{Holder: h, Until: until})
		} else {
			next.Holders = append(next.Holders, h)
		}
	}
	// Map order is random; workflow code must not be.
	slices.Sort(next.Holders)
	slices.SortFunc(next.Leases, func(a, b bulkheadLease) int { return strings.Compare(a.Holder, b.Holder) })
	return workflow.NewContinueAsNewError(ctx, BulkheadWorkflow, next)
}

// awaitSlot waits up to wait for free, waking when a lease ends to let expire free its
// slot. It reports whether a slot is free.
func awaitSlot(ctx workflow.Context, wait time.Duration, free func() bool, expire func() time.Time) (bool, error) {
	deadline := workflow.Now(ctx).Add(wait)
	for {
		next := expire()
		if free() {
			return true, nil
		}
		left := deadline.Sub(workflow.Now(ctx))
		if left <= 0 {
			return false, nil
		}
		if !next.IsZero() {
			left = min(left, next.Sub(workflow.Now(ctx)))
		}
		if ok, err := workflow.AwaitWithTimeout(ctx, left, free); err != nil || ok {
			return ok, err
		}
	}
}
