package engine

import (
	"context"
	"fmt"
)

// The run loop runs on a goroutine of its own, which the caller of Run waits for. Node
// code that ends that goroutine (runtime.Goexit) or holds it forever (a hung exec under
// a timeout on a virtual clock, see hang.go) then ends or holds only that goroutine: the
// run goes on, on a fresh one, owned by it from then on.

// drive runs the loop on a goroutine of its own and waits for it, so that node code
// which ends its goroutine with runtime.Goexit ends only that goroutine: the run goes on,
// on a fresh one, with the visit failed (see afterGoexit). A panic that escapes the loop
// (a Tracer's or Journal's) still reaches the caller.
func (r *run) drive(ctx context.Context) {
	if r.backend != nil {
		// The backend's host schedules the run's goroutines: the loop runs on the
		// caller's (see Backend).
		r.ctx = ctx
		if r.task != nil && r.task.ctx == nil {
			r.task.ctx = ctx // the root task of a host's scheduler: its carrier is the caller
		}
		r.loop(ctx)
		return
	}
	r.ctx = ctx
	if r.done == nil {
		r.done = make(chan any, 1)
	}
	// The watch serves the hang watchdog, which never guards a task of a virtual-time
	// scheduler (see bounded).
	if r.virtual && r.task == nil && ctx.Done() != nil {
		stop := r.watchCancel(ctx)
		defer func() {
			if !stop() {
				r.leaked = true // the watch may be running: it reads the run
			}
		}()
	}
	first := r.owner.Add(1)
	if r.driveLoop == nil {
		r.driveLoop = func() { r.guard(r.ctx, r.done, (*run).loop, r.owner.Load()) }
	}
	goDriven(r.driveLoop)
	p := <-r.done
	if g := r.hang.Load(); g != nil {
		g.mu.Lock()
		if !r.watchdog.Stop() && g.armed {
			r.leaked = true // the watchdog is firing: it reads the run
		}
		g.armed = false
		g.mu.Unlock()
	}
	if r.owner.Load() != first {
		// Node code ended the loop's goroutine, or the watchdog took the run over from
		// a hung exec that may still return: a goroutine other than the caller's can
		// still reach the run.
		r.leaked = true
	}
	if p != nil {
		panic(p)
	}
}

// guard runs f as the run's goroutine, identified by owner. It reports to done when f
// returns or panics. When node code ends the goroutine with runtime.Goexit, the run goes
// on on a fresh goroutine; when the goroutine is no longer the run's owner (the watchdog
// took the run over from a hung exec), it ends silently.
func (r *run) guard(ctx context.Context, done chan<- any, f func(*run, context.Context), owner uint64) {
	returned := false
	defer func() {
		if returned {
			done <- nil
			return
		}
		p := recover()
		g := r.hang.Load()
		if r.owner.Load() != owner {
			return // superseded: the run is no longer this goroutine's
		}
		if g != nil {
			// Node code ended a guarded exec: the watchdog must not take over as well.
			g.mu.Lock()
			abandoned := g.state == hangAbandoned
			if g.state == hangRunning {
				g.state = hangIdle
			}
			g.mu.Unlock()
			if abandoned {
				return
			}
		}
		if p != nil {
			done <- p
			return
		}
		next := r.owner.Add(1) // runtime.Goexit: recover sees no panic
		go r.guard(ctx, done, (*run).afterGoexit, next)
	}()
	f(r, ctx)
	returned = true
}

// afterGoexit carries on a run whose goroutine node code ended with runtime.Goexit: in a
// node's phase, the visit fails with an internal error that is routed like any other;
// anywhere else (routing, the error handler of an interrupted run, a Tracer or Journal
// between visits) the run ends failed.
func (r *run) afterGoexit(ctx context.Context) {
	n := r.visit.n
	phase := r.phase.String()
	name := ""
	if n != nil {
		name = n.name
	}
	nerr := &NodeError{Node: name, Kind: Internal, Phase: phase, Err: &goexitErr{node: name, phase: phase}}
	switch phase {
	case "before_prep", "prep", "exec", "after_exec", "post":
		if !r.interrupting {
			nerr.Err = WithKind(Internal, nerr.Err)
			if phase == "exec" {
				nerr.Attempts = r.att.number
			}
			next, failure := r.failVisit(ctx, n, nil, nerr)
			r.phase = phaseNone
			if !r.afterStep(ctx, n, next, failure) {
				r.walk(ctx, next, failure)
			}
			return
		}
	case "route":
	default:
		nerr.Phase = "run"
		nerr.Err = WithKind(Internal, fmt.Errorf("runtime.Goexit outside any node's phase (a Tracer or Journal?): %w", nerr.Err))
	}
	nerr.Err = WithKind(Internal, nerr.Err)
	r.addFailure(nerr)
	status := StatusFailed
	if r.interrupting {
		status = StatusCanceled
	}
	r.finish(status, nerr)
}
