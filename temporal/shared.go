package temporal

import (
	"context"
	"fmt"
	"time"

	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

// runBreakers keeps a run's breakers in the run itself: fresh ones, from the graph's
// configuration, on workflow time. Coroutines of a workflow run one at a time, so no
// lock is needed beyond the breaker's own.
type runBreakers map[string]*policy.Breaker

func newRunBreakers(g *engine.Graph) runBreakers {
	bs := runBreakers{}
	for _, cfg := range g.BreakerConfigs() {
		bs[cfg.Name] = policy.NewBreaker(cfg)
	}
	return bs
}

func (bs runBreakers) Allow(_ context.Context, name string, now time.Time) (policy.Ticket, bool, policy.Transition) {
	return bs[name].Allow(now)
}

func (bs runBreakers) Record(_ context.Context, name string, t policy.Ticket, now time.Time, o policy.Outcome) policy.Transition {
	return bs[name].Record(t, now, o)
}

func (bs runBreakers) Snapshot(_ context.Context, name string) policy.Snapshot {
	return bs[name].Snapshot()
}

// runBulkheads keeps a run's bulkheads in the run: slots counted per node path, waits
// on workflow time.
type runBulkheads struct {
	inUse map[string]int
}

func (b *runBulkheads) Acquire(ctx context.Context, node string, limit int, wait time.Duration) error {
	free := func() bool { return b.inUse[node] < max(limit, 1) || ctx.Err() != nil }
	if !free() {
		if wait <= 0 {
			return engine.WithKind(engine.Resource, policy.ErrBulkheadFull)
		}
		ok, err := workflow.AwaitWithTimeout(workflowOf(ctx), wait, free)
		switch {
		case err != nil:
			return engine.WithKind(engine.Canceled, errWorkflowCanceled)
		case !ok:
			return engine.WithKind(engine.Resource, policy.ErrBulkheadFull)
		}
	}
	if ctx.Err() != nil {
		return engine.WithKind(engine.Canceled, causeOf(ctx))
	}
	b.inUse[node]++
	return nil
}

func (b *runBulkheads) Release(_ context.Context, node string) { b.inUse[node]-- }

// The cluster's breakers and bulkheads are workflows of their own, one per breaker (or
// bulkhead), started on first use and asked through updates by a local activity of the
// run (a workflow cannot send updates itself). The answer is recorded in the run's
// history as the local activity's result, so replay takes the same decisions.

// Names of the shared-state workflows, activities and updates.
const (
	BreakerWorkflow  = "kgrun.breaker"
	BulkheadWorkflow = "kgrun.bulkhead"
	sharedActivity   = "kgrun.shared"
)

// sharedRequest is one question to a breaker or bulkhead workflow.
type sharedRequest struct {
	WorkflowID string `json:"workflow_id"`
	Update     string `json:"update"`
	// Start is the workflow and argument to start when it does not run yet.
	Start   string               `json:"start"`
	Breaker policy.BreakerConfig `json:"breaker,omitempty"`
	Limit   int                  `json:"limit,omitempty"`
	Ticket  policy.Ticket        `json:"ticket"`
	Outcome policy.Outcome       `json:"outcome,omitempty"`
	Holder  string               `json:"holder,omitempty"`
	// Lease is how long an acquired bulkhead slot is held without a renewal (0: until
	// released; see bulkhead.go).
	Lease time.Duration `json:"lease,omitempty"`
	// UpdateID names the question, so that asking again (the local activity retried
	// after a lost worker) gets the first answer instead of counting twice.
	UpdateID  string        `json:"update_id"`
	Wait      time.Duration `json:"wait,omitempty"`
	TaskQueue string        `json:"task_queue,omitempty"`
}

// breakerReply is a breaker workflow's answer.
type breakerReply struct {
	Ticket     policy.Ticket     `json:"ticket"`
	OK         bool              `json:"ok"`
	Transition policy.Transition `json:"transition"`
	Snapshot   policy.Snapshot   `json:"snapshot"`
}

// bulkheadReply is a bulkhead workflow's answer to acquire.
type bulkheadReply struct {
	Acquired bool `json:"acquired"`
	InUse    int  `json:"in_use"`
}

// ask runs the shared-state local activity from the coroutine of ctx and decodes its
// reply into out.
func ask(ctx context.Context, req sharedRequest, timeout time.Duration, out any) error {
	wctx := workflow.WithLocalActivityOptions(workflowOf(ctx), workflow.LocalActivityOptions{
		StartToCloseTimeout: timeout,
		RetryPolicy:         &sdktemporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumInterval: 2 * time.Second},
	})
	return workflow.ExecuteLocalActivity(wctx, sharedActivity, req).Get(wctx, out)
}

// clusterBreakers asks the breaker workflows of the workflow named wf.
type clusterBreakers struct {
	wf        string
	holder    string
	seq       int
	taskQueue string
	configs   map[string]policy.BreakerConfig
	// failed keeps the first failure to reach a breaker workflow: the attempt is then
	// refused (a breaker that cannot be asked does not admit calls) and the run reports it.
	failed error
}

func breakerID(wf, name string) string { return "kgrun-breaker/" + wf + "/" + name }

// ask asks from the coroutine that ctx carries: a map item's or a branch's own.
func (c *clusterBreakers) ask(ctx context.Context, name, update string, t policy.Ticket, o policy.Outcome) breakerReply {
	var rep breakerReply
	c.seq++
	req := sharedRequest{WorkflowID: breakerID(c.wf, name), Update: update, Start: BreakerWorkflow,
		Breaker: c.configs[name], Ticket: t, Outcome: o, TaskQueue: c.taskQueue, UpdateID: fmt.Sprintf("%s/b%d", c.holder, c.seq)}
	if err := ask(ctx, req, 30*time.Second, &rep); err != nil {
		if c.failed == nil {
			c.failed = fmt.Errorf("breaker %q: %w", name, err)
		}
		return breakerReply{Snapshot: policy.Snapshot{Name: name, StateStr: "unknown"}}
	}
	rep.Snapshot.State, _ = policy.ParseState(rep.Snapshot.StateStr)
	return rep
}

func (c *clusterBreakers) Allow(ctx context.Context, name string, _ time.Time) (policy.Ticket, bool, policy.Transition) {
	rep := c.ask(ctx, name, "allow", policy.Ticket{}, 0)
	return rep.Ticket, rep.OK, rep.Transition
}

func (c *clusterBreakers) Record(ctx context.Context, name string, t policy.Ticket, _ time.Time, o policy.Outcome) policy.Transition {
	return c.ask(ctx, name, "record", t, o).Transition
}

func (c *clusterBreakers) Snapshot(ctx context.Context, name string) policy.Snapshot {
	return c.ask(ctx, name, "snapshot", policy.Ticket{}, 0).Snapshot
}

// clusterBulkheads asks the bulkhead workflows of the workflow named wf. Slots are held
// by the run's workflow, not by a worker process: a worker lost mid-exec leaves the slot
// to the run, which releases it when its attempt ends on another worker. A slot is a
// lease that a coroutine of the run renews until the release (see bulkhead.go), so the
// slots of a run that is terminated come free.
type clusterBulkheads struct {
	wf        string
	holder    string
	taskQueue string
	seq       int
	held      map[string][]*heldSlot
}

// heldSlot is a slot the run holds; released stops the renewal of its lease.
type heldSlot struct {
	holder   string
	released bool
}

func bulkheadID(wf, node string) string { return "kgrun-bulkhead/" + wf + "/" + node }

func (c *clusterBulkheads) Acquire(ctx context.Context, node string, limit int, wait time.Duration) error {
	c.seq++
	holder := fmt.Sprintf("%s#%d", c.holder, c.seq)
	var rep bulkheadReply
	req := sharedRequest{WorkflowID: bulkheadID(c.wf, node), Update: "acquire", Start: BulkheadWorkflow,
		Limit: limit, Holder: holder, Wait: wait, TaskQueue: c.taskQueue, UpdateID: holder + "/acquire"}
	leases := workflow.GetVersion(workflowOf(ctx), leaseVersion, workflow.DefaultVersion, 1) >= 1
	if leases {
		req.Lease = leaseTerm
	}
	if err := ask(ctx, req, wait+30*time.Second, &rep); err != nil {
		return engine.WithKind(engine.Resource, fmt.Errorf("asking the bulkhead of node %q: %w", node, err))
	}
	if !rep.Acquired {
		return engine.WithKind(engine.Resource, policy.ErrBulkheadFull)
	}
	slot := &heldSlot{holder: holder}
	c.held[node] = append(c.held[node], slot)
	if leases {
		renewLease(ctx, req, slot)
	}
	return nil
}

// renewLease renews the slot's lease every third of its term until it is released, on
// a coroutine of its own that the run's cancellation does not end (the release, which
// comes after, stops it).
func renewLease(ctx context.Context, req sharedRequest, slot *heldSlot) {
	dctx, _ := workflow.NewDisconnectedContext(workflowOf(ctx))
	workflow.Go(dctx, func(wctx workflow.Context) {
		for n := 1; ; n++ {
			released, err := workflow.AwaitWithTimeout(wctx, req.Lease/3, func() bool { return slot.released })
			if released || err != nil {
				return
			}
			renew := req
			renew.Wait, renew.UpdateID = 0, fmt.Sprintf("%s/renew%d", slot.holder, n)
			var rep bulkheadReply
			// A renewal that fails is tried again at the next; the lease lasts three.
			_ = ask(withWorkflow(context.Background(), wctx), renew, 30*time.Second, &rep)
		}
	})
}

func (c *clusterBulkheads) Release(ctx context.Context, node string) {
	hs := c.held[node]
	if len(hs) == 0 {
		return
	}
	slot := hs[len(hs)-1]
	c.held[node] = hs[:len(hs)-1]
	slot.released = true
	var rep bulkheadReply
	req := sharedRequest{WorkflowID: bulkheadID(c.wf, node), Update: "release", Start: BulkheadWorkflow,
		Holder: slot.holder, TaskQueue: c.taskQueue, UpdateID: slot.holder + "/release"}
	// A release runs even when the run is being canceled, so that the slot is freed.
	_ = ask(withWorkflow(context.WithoutCancel(ctx), workflowOf(ctx)), req, 30*time.Second, &rep)
}

// sharedActivities is the worker side of the shared-state local activity.
type sharedActivities struct {
	c client.Client
}

// ask sends the request's update to its workflow, starting the workflow if needed.
func (s *sharedActivities) ask(ctx context.Context, req sharedRequest) (any, error) {
	if s.c == nil {
		return nil, sdktemporal.NewNonRetryableApplicationError(
			"this worker has no client for the cluster's breakers and bulkheads; run with shared state kept in the run", "kgrun.no_client", nil)
	}
	var arg any
	switch req.Start {
	case BreakerWorkflow:
		arg = breakerStart{Config: req.Breaker}
	default:
		arg = bulkheadStart{Limit: req.Limit}
	}
	start := s.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: req.WorkflowID, TaskQueue: req.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, req.Start, arg)
	h, err := s.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID: req.UpdateID, WorkflowID: req.WorkflowID, UpdateName: req.Update, Args: []any{req},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return nil, err
	}
	if req.Start == BreakerWorkflow {
		var rep breakerReply
		err = h.Get(ctx, &rep)
		return rep, err
	}
	var rep bulkheadReply
	err = h.Get(ctx, &rep)
	return rep, err
}
