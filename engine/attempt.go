package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/kgrun/kgrun/engine/policy"
	"github.com/kgrun/kgrun/schema"
)

// breakerCounts sets which error kinds the node's breaker counts as failures.
func (n *node) breakerCounts(b *schema.Breaker) {
	n.breakerKinds = defaultKinds
	if b != nil && len(b.Count) > 0 {
		n.breakerKinds = kindsOf(b.Count)
	}
}

// attempt is one attempt of a node's exec under the breaker, bulkhead, per-attempt
// timeout and fault injection, in that order from the outside in.
func (r *run) attempt(ctx context.Context, n *node, v *Visit, input any, number int) (any, error) {
	b := n.breaker
	if r.noBreakers {
		b = nil
	}
	var ticket policy.Ticket
	if b != nil {
		t, ok, tr := r.breakerAllow(ctx, b)
		r.breakerChanged(n, v, number, tr)
		if !ok {
			if r.tracer != nil {
				r.emit(Event{Kind: EventBreakerRejected, Node: n.name, Visit: v.number, Attempt: number, Breaker: b.Config().Name,
					ErrKind: CircuitOpen})
			}
			return nil, n.rejected
		}
		ticket = t
	}
	if r.tracer != nil {
		r.emit(Event{Kind: EventAttempt, Node: n.name, Visit: v.number, Attempt: number})
		if r.ctxTracer != nil {
			ctx = r.ctxTracer.AttemptContext(ctx)
		}
	}
	r.ticket = ticket
	out, err := r.bounded(ctx, n, v, input, number)
	err = containError(err)
	r.attemptEnded(n, v, number, b, ticket, err)
	return out, err
}

// attemptEnded records an attempt's outcome with the breaker, the trace and the log.
func (r *run) attemptEnded(n *node, v *Visit, number int, b *policy.Breaker, ticket policy.Ticket, err error) {
	if b != nil {
		tr := r.breakerRecord(b, ticket, n.breakerOutcome(err))
		r.breakerChanged(n, v, number, tr)
	}
	if err != nil {
		r.emit(Event{Kind: EventAttemptFailed, Node: n.name, Visit: v.number, Attempt: number, ErrKind: KindOf(err), Message: ShortMessage(err)})
		if r.debug {
			r.logger.Debug("attempt failed", "node", n.name, "visit", v.number, "attempt", number, "kind", KindOf(err), "error", err)
		}
	} else if r.debug {
		r.logger.Debug("attempt succeeded", "node", n.name, "visit", v.number, "attempt", number)
	}
}

func (r *run) breakerChanged(n *node, v *Visit, number int, tr policy.Transition) {
	if !tr.Changed {
		return
	}
	name := n.breaker.Config().Name
	r.emit(Event{Kind: EventBreakerState, Node: n.name, Visit: v.number, Attempt: number, Breaker: name,
		From: tr.From.String(), State: tr.To.String()})
	r.logger.Info("breaker state changed", "node", n.name, "breaker", name, "from", tr.From.String(), "to", tr.To.String())
}

// bounded runs the attempt inside the bulkhead and the per-attempt timeout.
func (r *run) bounded(ctx context.Context, n *node, v *Visit, input any, number int) (any, error) {
	if n.bulkhead != nil {
		var err error
		if bs := r.bulkheads(); bs != nil {
			err = r.acquireShared(ctx, bs, n)
		} else if r.task != nil {
			err = r.task.acquire(ctx, n.bulkhead, n.bulkWait)
		} else {
			err = n.bulkhead.Acquire(ctx, n.bulkWait, r.clock.After)
		}
		if err != nil {
			return nil, WithKind(KindOf(err), fmt.Errorf("bulkhead of node %q: %w", n.name, err))
		}
	}
	held := n.bulkhead != nil
	defer func() {
		if held {
			if bs := r.bulkheads(); bs != nil {
				bs.Release(ctx, r.prefix+r.g.path(n))
				if r.task != nil {
					r.releaseOwn(n)
				}
				return
			}
			n.bulkhead.Release()
			if r.task != nil {
				r.task.s.released(n.bulkhead)
			}
		}
	}()
	timeout := policy.Timeout(n.timeout)
	if !timeout.Set() {
		a := r.prepareAttempt(v, number)
		return r.callExec(ctx, n, a, input)
	}
	actx, cancel := r.clock.WithTimeout(ctx, n.timeout)
	defer cancel()
	var out any
	var err error
	switch {
	case r.task != nil || n.compose != nil || r.backend != nil:
		// A task of a virtual-time scheduler gives way to others while it sleeps, so
		// real time says nothing about a hang there; a composite node's exec ends when
		// its context does; a backend's dispatcher enforces the timeout itself.
		a := r.prepareAttempt(v, number)
		out, err = r.callExec(actx, n, a, input)
	case r.virtual:
		out, err = r.callExecWatched(actx, n, v, input, number, &held)
	default:
		out, err = r.callExecCut(ctx, actx, n, v, input, number)
	}
	// Past the deadline the attempt counts as timed out, whatever exec returned
	// (policy.Timeout.TimedOut). A backend's clock also counts the time its host took to
	// get back to the run (a lost worker's tasks moving to another), so there only a wait
	// that reached the deadline times the attempt out; the dispatcher enforces the timeout
	// of the exec itself.
	pastDeadline := deadlinePassed(actx, r.clock)
	if r.backend != nil {
		pastDeadline = errors.Is(err, context.DeadlineExceeded)
	}
	if timeout.TimedOut(ctx.Err() != nil, pastDeadline) {
		return nil, WithKind(Timeout, timeout.Err(number))
	}
	return out, err
}

func (r *run) prepareAttempt(v *Visit, number int) *Attempt {
	a := &r.att
	*a = Attempt{r: r, n: v.n, visit: v.number, number: number, rng: &r.execRNG, clock: r.clock, params: v.params}
	return a
}

// callExec counts the call, injects the scenario's faults and calls exec, turning a panic
// into an internal error of this node.
func (r *run) callExec(ctx context.Context, n *node, a *Attempt, input any) (any, error) {
	r.phase = phaseExec
	r.calls[n.index]++
	return r.callExecAt(ctx, n, a, input, r.calls[n.index])
}

func (r *run) callExecAt(ctx context.Context, n *node, a *Attempt, input any, call int) (out any, err error) {
	a.call = call
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, WithKind(Internal, &panicError{value: p})
			if r.debug {
				r.logger.Debug("node panicked", "node", n.name, "panic", p, "stack", string(debug.Stack()))
			}
		}
	}()
	if f := r.faultOf(n); f != nil {
		if err := a.inject(ctx, f, call); err != nil {
			return nil, err
		}
	}
	if r.backend != nil && r.backend.Dispatch != nil && n.compose == nil {
		return r.backend.Dispatch.Exec(ctx, r.execCall(n, a, input))
	}
	return n.impl.Exec(ctx, a, input)
}
