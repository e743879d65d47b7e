package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// An attempt under a per-attempt timeout runs exec on a goroutine of its own, so that the
// timeout cuts it even when exec ignores ctx, never returns, or ends its goroutine with
// runtime.Goexit. The run loop waits for the first of: exec's result, the deadline, the
// run's cancellation, and (on a virtual clock) the hang watchdog.
//
// Exec's goroutine never writes run state. What it would write (trace events from fault
// injection, sleeps on a virtual clock) goes through its Attempt to an attemptRelay: the
// run loop takes the events over, in order, whenever they arrive and once more when the
// attempt ends, so each event is numbered and delivered by the run loop alone. When the
// run abandons the attempt at its deadline the relay is closed: a late exec's events are
// dropped and its sleeps on the run's clock fail at once without moving the clock.

// ErrAttemptAbandoned is what a late exec's sleeps return once its attempt has been cut.
var ErrAttemptAbandoned = errors.New("attempt abandoned: its timeout passed or the run was canceled")

// VirtualHangAfter is how much real time an attempt under a timeout may take on a
// virtual clock, where computation takes no virtual time, before it counts as hung: the
// attempt is then cut at its virtual deadline, as the real clock would have cut it. The
// bound is the node's timeout, but never less than this, so that real work which is
// merely slow (a loaded machine, a loopback call) is not mistaken for a hang.
const VirtualHangAfter = 100 * time.Millisecond

// attemptRelay carries what exec's goroutine emits to the run loop.
type attemptRelay struct {
	mu        sync.Mutex
	pending   []Event
	abandoned bool
	// notify has room for one signal: "events are pending".
	notify chan struct{}
}

// push queues e for the run loop, or drops it when the attempt was abandoned.
func (rl *attemptRelay) push(e Event) {
	rl.mu.Lock()
	if !rl.abandoned {
		rl.pending = append(rl.pending, e)
	}
	rl.mu.Unlock()
	select {
	case rl.notify <- struct{}{}:
	default:
	}
}

// take hands the pending events to the run loop; abandon also closes the relay.
func (rl *attemptRelay) take(abandon bool) []Event {
	rl.mu.Lock()
	evs := rl.pending
	rl.pending = nil
	if abandon {
		rl.abandoned = true
	}
	rl.mu.Unlock()
	return evs
}

// relayClock is the run's clock as a cut attempt sees it: sleeps stop moving the clock
// once the attempt is abandoned. On a virtual clock the sleep (which takes no real time)
// holds the relay's lock, so it either completes before the run loop abandons the
// attempt or does not happen at all.
type relayClock struct {
	Clock
	relay   *attemptRelay
	virtual bool
}

func (c relayClock) Sleep(ctx context.Context, d time.Duration) error {
	if !c.virtual {
		if c.relay.closed() {
			return ErrAttemptAbandoned
		}
		return c.Clock.Sleep(ctx, d)
	}
	c.relay.mu.Lock()
	defer c.relay.mu.Unlock()
	if c.relay.abandoned {
		return ErrAttemptAbandoned
	}
	return c.Clock.Sleep(ctx, d)
}

func (rl *attemptRelay) closed() bool {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.abandoned
}

// emit sends an event of exec's goroutine: straight to the run when exec runs on the
// run loop, through the relay when it runs on its own goroutine.
func (a *Attempt) emit(e Event) {
	r := a.r
	if r.tracer == nil {
		return
	}
	if a.relay == nil {
		r.emit(e)
		return
	}
	e.At = Duration(a.clock.Now().Sub(r.start))
	a.relay.push(e)
}

// execResult is how exec's goroutine ended.
type execResult struct {
	out any
	err error
}

// callExecCut runs one attempt's exec on its own goroutine under actx, the attempt's
// timeout context (ctx is the run's). It returns exec's result, or the deadline's or the
// cancellation's error when those come first; the goroutine then ends whenever exec
// returns, and nothing it does afterwards reaches the run.
func (r *run) callExecCut(ctx, actx context.Context, n *node, v *Visit, input any, number int) (any, error) {
	relay := &attemptRelay{notify: make(chan struct{}, 1)}
	a := &Attempt{r: r, n: n, visit: v.number, number: number, rng: newStream(), relay: relay,
		clock: relayClock{Clock: r.clock, relay: relay, virtual: r.virtual}}
	done := make(chan execResult, 1)
	r.calls[n.index]++
	call := r.calls[n.index]
	go func() {
		returned := false
		defer func() {
			if !returned { // exec called runtime.Goexit: recover sees no panic
				done <- execResult{err: goexitError(n, "exec")}
			}
		}()
		out, err := r.callExecAt(actx, n, a, input, call)
		returned = true
		done <- execResult{out, err}
	}()
	// On a virtual clock the deadline does not end the wait: exec's own sleeps stop at
	// it and exec returns, which keeps what happens around the deadline deterministic.
	// Only an exec that takes real time without returning is cut, by the watchdog.
	deadline, canceled := actx.Done(), ctx.Done()
	var hang <-chan time.Time
	if r.virtual {
		deadline = nil
		t := time.NewTimer(max(n.timeout, VirtualHangAfter))
		defer t.Stop()
		hang = t.C
	}
	for {
		select {
		case res := <-done:
			r.deliver(relay.take(false))
			return res.out, res.err
		case <-relay.notify:
			r.deliver(relay.take(false))
		case <-deadline:
			r.deliver(relay.take(true))
			return nil, context.Cause(actx)
		case <-canceled:
			if r.virtual {
				// Give exec, which sees ctx end too, a moment to return its own error.
				canceled = nil
				t := time.NewTimer(VirtualHangAfter)
				defer t.Stop()
				hang = t.C
				continue
			}
			r.deliver(relay.take(true))
			return nil, context.Cause(ctx)
		case <-hang:
			r.deliver(relay.take(true))
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			// Hung on a virtual clock: virtual time reaches the deadline, which cuts it.
			if dl, ok := actx.Value(virtualDeadlineKey{}).(time.Time); ok {
				if vc, ok := r.clock.(*VirtualClock); ok {
					vc.Advance(dl.Sub(vc.Now()))
				}
			}
			return nil, WithKind(Timeout, fmt.Errorf("exec of node %q did not return (hung for %s of real time on a virtual clock): %w",
				n.name, max(n.timeout, VirtualHangAfter), context.DeadlineExceeded))
		}
	}
}

// deliver numbers and sends events that exec's goroutine emitted.
func (r *run) deliver(evs []Event) {
	for _, e := range evs {
		r.seq++
		e.Seq = r.seq
		r.tracer.Event(e)
	}
}

// goexitError is what a node's phase that ended its goroutine with runtime.Goexit becomes.
func goexitError(n *node, phase string) error {
	return Errorf(Internal, "node %q: %s called runtime.Goexit, which ends the goroutine running it; return an error instead", n.name, phase)
}
