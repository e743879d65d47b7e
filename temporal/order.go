package temporal

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kgrun/kgrun/engine"
)

// The order in which a run's concurrent children (map items, parallel branches) go on.
//
// In OrderParallel each child is a workflow coroutine of its own and their execs run at
// once; where children share state whose answer depends on order (a breaker counting
// failures, a hedged join), the order is the one in which the cluster completes their
// activities. In OrderExact the run is the root task of the engine's own discrete-event
// scheduler (engine/sim.go), whose tasks are carried by workflow coroutines: one task
// holds the run between waits, a wait is a workflow timer that gives way, and ties go in
// queue order, so the children reach breakers, bulkheads and routing in the order they
// do on the local engine on virtual time, and the outcome is the local one for the same
// seed. The run's clock is then virtual time that moves only by its waits (each also a
// workflow timer of that length): the time an activity takes is not counted, as on the
// local engine, where an exec takes no virtual time.
const (
	OrderParallel = "parallel"
	OrderExact    = "exact"
)

// applyOrder sets up the backend and the run's options for the request's order.
func applyOrder(wctx workflow.Context, order string, backend *engine.Backend, opts *engine.RunOptions) error {
	switch order {
	case OrderParallel, "":
		backend.Group = group
	case OrderExact:
		backend.Tasks = workflowTasks{}
		opts.Clock = engine.NewVirtualClock(workflow.Now(wctx))
	default:
		return fmt.Errorf("order %q: want %q or %q", order, OrderParallel, OrderExact)
	}
	return nil
}

// workflowTasks carries the tasks of a run's scheduler on workflow coroutines.
type workflowTasks struct{}

// Go starts f on a new coroutine, with the Go context carrying that coroutine's
// workflow context.
func (workflowTasks) Go(ctx context.Context, f func(ctx context.Context)) {
	workflow.Go(workflowOf(ctx), func(c workflow.Context) { f(withWorkflow(ctx, c)) })
}

// Await parks the coroutine until cond holds. It waits on a disconnected context: a
// task waiting for its turn must not run because the workflow was canceled (the task
// holding the turn sees the cancellation and ends the run's work).
func (workflowTasks) Await(ctx context.Context, cond func() bool) {
	dctx, _ := workflow.NewDisconnectedContext(workflowOf(ctx))
	_ = workflow.Await(dctx, cond)
}

// Sleep waits d on a workflow timer. A canceled workflow ends it at once: what is left
// of the run's work then runs without waiting.
func (workflowTasks) Sleep(ctx context.Context, d time.Duration) {
	_ = workflow.Sleep(workflowOf(ctx), d)
}
