package engine

// The run loop: visits from the start node until one ends the run, each visit's step
// record, routing of a failed visit, a canceled run's interruption and the run's end.

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// loop visits nodes until one ends the run.
func (r *run) loop(ctx context.Context) {
	r.setStart(r.clock.Now())
	cur := r.g.start
	var failure *NodeError
	if r.resume != nil {
		var err error
		if cur, failure, err = r.resumeFrom(r.resume); err != nil {
			r.finish(StatusFailed, &NodeError{Node: r.resume.Next, Kind: Internal, Phase: "resume", Err: err})
			return
		}
		// Time never goes back on resume: a virtual clock behind the last committed
		// reading moves up to it.
		if vc, ok := r.clock.(advancer); ok && !r.resume.Clock.IsZero() {
			vc.Advance(r.resume.Clock.Sub(vc.Now()))
		}
		r.setStart(r.clock.Now().Add(-time.Duration(r.resume.Elapsed)))
		r.emit(Event{Kind: EventRunResumed, Node: cur.name, Visit: r.res.steps, Message: r.scenarioName})
	} else {
		r.emit(Event{Kind: EventRunStart, Node: cur.name, Message: r.scenarioName})
	}
	r.walk(ctx, cur, failure)
}

// walk visits nodes from cur until one ends the run.
func (r *run) walk(ctx context.Context, cur *node, failure *NodeError) {
	if cur != nil && ctx.Err() != nil {
		r.interrupted(ctx, cur)
		return
	}
	// Between visits cancellation is checked by afterStep, right after each visit.
	for steps := r.res.steps; cur != nil; steps++ {
		if steps >= r.maxSteps {
			err := &NodeError{Node: cur.name, Kind: Internal, Phase: "route",
				Err: fmt.Errorf("%w: %d visits without reaching an end; raise max_steps or check the cycle through %q", ErrMaxSteps, r.maxSteps, cur.name)}
			r.addFailure(err)
			r.finish(StatusFailed, err)
			return
		}
		at := cur
		cur, failure = r.step(ctx, cur, failure)
		r.phase = phaseNone
		if r.debug {
			r.logVisit()
		}
		if r.afterStep(ctx, at, cur, failure) {
			return
		}
	}
	switch {
	case r.res.Err != nil || r.failed:
		r.finish(StatusFailed, r.res.Err)
	case r.degraded || r.handled:
		r.finish(StatusDegraded, nil)
	default:
		r.finish(StatusSuccess, nil)
	}
}

// logVisit writes the debug line of the visit just completed.
func (r *run) logVisit() {
	st := &r.st
	args := []any{"node", st.Node, "visit", st.Visit, "action", st.Action, "route", st.Route, "attempts", st.Attempts}
	if st.To != "" {
		args = append(args, "to", st.To)
	}
	if st.Failure != nil {
		args = append(args, "kind", st.Failure.Kind, "phase", st.Failure.Phase, "error", st.Failure.Message)
	}
	r.logger.Debug("visit", args...)
}

// afterStep counts the visit to at just completed and commits it; it reports true when
// the run ended there (a failed commit, a cancellation).
func (r *run) afterStep(ctx context.Context, at, next *node, failure *NodeError) bool {
	r.res.steps++
	if r.journal != nil && r.last.Route != "canceled" {
		if err := r.commit(at, next, failure); err != nil {
			nerr := &NodeError{Node: at.name, Kind: Internal, Phase: "journal", Err: err}
			r.addFailure(nerr)
			r.finish(StatusFailed, nerr)
			return true
		}
	}
	if ctx.Err() != nil {
		r.interrupted(ctx, at)
		return true
	}
	return false
}

// interrupted ends a canceled run at a safe point (between visits, or after the visit
// that saw the cancellation): the workflow's error handler runs once, on a context that
// is no longer canceled, so it can classify and clean up; then the run ends canceled.
func (r *run) interrupted(ctx context.Context, at *node) {
	nerr := &NodeError{Node: at.name, Kind: Canceled, Phase: "route",
		Err: WithKind(Canceled, fmt.Errorf("run interrupted at node %q: %w", at.name, context.Cause(ctx)))}
	r.addFailure(nerr)
	if h := r.g.errorHandler; h != nil && at != h {
		r.emit(Event{Kind: EventFallback, Node: at.name, To: h.name, ErrKind: Canceled, Message: "error_handler"})
		r.interrupting = true
		r.step(context.WithoutCancel(ctx), h, nerr)
		r.res.steps++
	}
	r.finish(StatusCanceled, nerr)
}

func (r *run) finish(s Status, err error) {
	s, err = r.computeOutput(s, err)
	r.res.Status = s
	if err != nil {
		r.res.Err = err
	}
	if r.compose == nil {
		// A child's counts are its parent's business only through its outcome; its
		// breakers are the workflow's, reported by the top-level run.
		r.res.Calls = make(map[string]int, len(r.g.nodes))
		for i, n := range r.g.nodes {
			if r.calls[i] > 0 {
				r.res.Calls[n.name] = r.calls[i]
			}
		}
		r.res.Breakers = r.breakerSnapshots()
	}
	r.res.Elapsed = Duration(r.clock.Now().Sub(r.start))
	msg := ""
	if err != nil {
		msg = ShortMessage(err)
	}
	r.emit(Event{Kind: EventRunEnd, Status: s, Message: msg})
}

// step visits n and returns the next node (nil to end) and the failure that leads there.
func (r *run) step(ctx context.Context, n *node, arrivedBy *NodeError) (*node, *NodeError) {
	r.visits[n.index]++
	v := &r.visit
	v.n, v.number, v.failure = n, r.visits[n.index], arrivedBy
	r.st = Step{Node: n.name, Visit: v.number, At: r.since()}
	st := &r.st
	if r.tracer != nil {
		r.emit(Event{Kind: EventNodeStart, Node: n.name, Visit: v.number})
	}

	act, out, attempts, nerr := r.visitNode(ctx, n, v)
	r.phase = phaseRoute
	st.Attempts = attempts
	if nerr != nil {
		return r.failVisit(ctx, n, out, nerr)
	}
	action := act.name
	if r.tracer != nil {
		r.emit(Event{Kind: EventNodeEnd, Node: n.name, Visit: v.number, Action: action})
	}
	e, rerr := r.chooseOf(n, act, action, out, nil, attempts)
	switch {
	case rerr != nil:
		return r.failVisit(ctx, n, out, &NodeError{Node: n.name, Kind: KindOf(rerr), Phase: "route", Attempts: attempts, Err: rerr})
	case e == nil:
		st.Action, st.Route = action, "end"
		r.record(st)
		if slices.Contains(n.typ.Failures, action) {
			// Validation refuses an unrouted failure action; a run ending on one anyway
			// (every guard of a routed one false is a route failure, not this) is failed.
			r.fail(n.name, fmt.Sprintf("the run ended on failure action %q", action))
		}
		return nil, nil
	}
	st.Action, st.To, st.Route = action, e.to.name, "edge"
	if e.guard != nil {
		st.Guard = e.guard.src
	}
	r.record(st)
	if r.tracer != nil {
		r.emit(Event{Kind: EventTransition, Node: n.name, Visit: v.number, Action: st.Action, To: e.to.name, Guard: st.Guard})
	}
	return e.to, nil
}

// failVisit ends the current visit to n with nerr: it routes the failure and returns
// where it leads (nil when it ends the run).
func (r *run) failVisit(ctx context.Context, n *node, out any, nerr *NodeError) (*node, *NodeError) {
	v, st := &r.visit, &r.st
	r.phase = phaseRoute
	if nerr == n.rejection {
		st.Failure = n.rejectionStep
	} else {
		st.Failure = &StepFail{Kind: nerr.Kind, Phase: nerr.Phase, Message: ShortMessage(nerr.Err)}
	}
	if ctx.Err() != nil {
		// The cancellation caused this failure: loop's interruption handles it.
		st.Route = "canceled"
		r.record(st)
		return nil, nil
	}
	r.addFailure(nerr)
	fa := failureAction(nerr)
	if r.tracer != nil {
		r.emit(Event{Kind: EventNodeEnd, Node: n.name, Visit: v.number, Action: fa, ErrKind: nerr.Kind, Message: ShortMessage(nerr.Err)})
	}
	next, fa, route, guard := r.routeFailure(n, v, out, nerr, fa)
	st.Action, st.Route, st.Guard = fa, route, guard
	if next == nil {
		r.record(st)
		if nerr == n.rejection {
			// The node's rejection is shared by its visits: this one gets its own.
			own := *nerr
			r.replaceFailure(nerr, &own)
			nerr = &own
		}
		nerr.Err = fmt.Errorf("%w: %w", ErrUnrouted, nerr.Err)
		r.res.Err = nerr
		return nil, nil
	}
	st.To = next.name
	r.handled = true
	r.record(st)
	if r.tracer != nil {
		r.emit(Event{Kind: EventTransition, Node: n.name, Visit: v.number, Action: st.Action, To: next.name, Guard: st.Guard})
	}
	return next, nerr
}

// failureAction names a failed visit's action: circuit_open when a breaker refused,
// retry_exhausted when every allowed attempt failed with a retryable error, timeout for a
// timed-out attempt, error otherwise.
func failureAction(e *NodeError) string {
	switch {
	case e.action != "":
		return e.action
	case e.Kind == CircuitOpen:
		return "circuit_open"
	case e.Phase == "exec" && e.exhausted:
		return "retry_exhausted"
	case e.Kind == Timeout:
		return "timeout"
	}
	return "error"
}
