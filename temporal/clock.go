package temporal

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"
)

// The engine passes Go contexts; workflow code needs the workflow.Context of the
// coroutine it runs on. Each Go context the engine sees carries that workflow context
// as a value: the run's root coroutine's at the start, a fan-out worker's own in the
// worker (see group).

type workflowKey struct{}

func withWorkflow(ctx context.Context, wctx workflow.Context) context.Context {
	return context.WithValue(ctx, workflowKey{}, wctx)
}

// workflowOf returns the workflow context ctx carries. When the workflow itself was
// canceled but ctx is not (the error handler of an interrupted run runs on a context
// that is no longer canceled), it returns a disconnected context, so the handler's
// timers and activities still run.
func workflowOf(ctx context.Context) workflow.Context {
	wctx := ctx.Value(workflowKey{}).(workflow.Context)
	if wctx.Err() != nil && ctx.Err() == nil {
		dctx, _ := workflow.NewDisconnectedContext(wctx)
		return dctx
	}
	return wctx
}

// errWorkflowCanceled is the cause of a run whose Temporal workflow was canceled.
var errWorkflowCanceled = errors.New("the run's Temporal workflow was canceled")

// runContext returns the Go context of a run on the workflow wctx: it carries wctx and is
// canceled, on a coroutine of the workflow, when the workflow is. Cancellation reaches
// the engine deterministically: at the point of the workflow's history where the cancel
// request is.
func runContext(wctx workflow.Context) (context.Context, context.CancelCauseFunc) {
	ctx, cancel := context.WithCancelCause(withWorkflow(context.Background(), wctx))
	workflow.Go(wctx, func(c workflow.Context) {
		c.Done().Receive(c, nil)
		cancel(errWorkflowCanceled)
	})
	return ctx, cancel
}

// workflowClock is the engine's Clock on workflow time. Sleeps are workflow timers that
// also end when the Go context does (the condition is evaluated on every workflow state
// change, so a sibling's cancellation wakes a sleeper at once); timeouts are deadlines on
// workflow time carried in the context.
type workflowClock struct {
	root workflow.Context
}

// Now is workflow.Now: the time of the workflow task being processed, the same on
// replay.
func (c workflowClock) Now() time.Time { return workflow.Now(c.root) }

// Sleep waits d on a workflow timer, up to the context's deadline (then returning
// context.DeadlineExceeded) and no longer than the context lives.
func (c workflowClock) Sleep(ctx context.Context, d time.Duration) error {
	if ctx.Err() != nil {
		return causeOf(ctx)
	}
	var deadlineErr error
	if dl, ok := deadlineOf(ctx); ok {
		if left := dl.Sub(c.Now()); left < d {
			d, deadlineErr = left, context.DeadlineExceeded
		}
	}
	if d > 0 {
		done, err := workflow.AwaitWithTimeout(workflowOf(ctx), d, func() bool { return ctx.Err() != nil })
		switch {
		case err != nil:
			return context.Canceled
		case done:
			return causeOf(ctx)
		}
	}
	return deadlineErr
}

// WithTimeout returns a context whose deadline is d from now on workflow time (or the
// earlier one it already has).
func (c workflowClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	dl := c.Now().Add(d)
	if old, ok := deadlineOf(ctx); ok && old.Before(dl) {
		dl = old
	}
	inner, cancel := context.WithCancel(ctx)
	return &deadlineCtx{Context: inner, deadline: dl, clock: c}, cancel
}

// After fires once d has passed on workflow time. It sleeps on the run's root
// coroutine, so only that coroutine may call it; a run on this backend waits for
// bulkheads through a BulkheadSet, not through After.
func (c workflowClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	_ = workflow.Sleep(c.root, d)
	ch <- c.Now()
	return ch
}

// causeOf is why ctx ended: its cause, or its error when it ended at a deadline on
// workflow time (which has none).
func causeOf(ctx context.Context) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return ctx.Err()
}

type deadlineKey struct{}

func deadlineOf(ctx context.Context) (time.Time, bool) {
	dl, ok := ctx.Value(deadlineKey{}).(time.Time)
	return dl, ok
}

// deadlineCtx carries a deadline on workflow time: Err is context.DeadlineExceeded once
// workflow time reaches it. Nothing waits on its Done channel for the deadline: on this
// backend the engine sleeps through the clock and execs run as activities, whose
// timeouts the dispatcher derives from the deadline.
type deadlineCtx struct {
	context.Context
	deadline time.Time
	clock    workflowClock
}

func (c *deadlineCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !c.clock.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *deadlineCtx) Value(key any) any {
	if key == (deadlineKey{}) {
		return c.deadline
	}
	return c.Context.Value(key)
}
