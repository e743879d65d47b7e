package engine

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/kgrun/kgrun/engine/policy"
)

// On a virtual clock, where computation takes no time, a timed attempt runs exec on the
// run's own goroutine, as an untimed one does: what happens around its deadline stays
// deterministic, and the success path costs a timer reset rather than two goroutine
// handoffs. A watchdog on the real clock catches the exec that never returns (it ignores
// ctx and blocks): once the attempt has taken its timeout in real time (at least
// VirtualHangAfter; the watchdog looks once per that period, so it notices within two),
// or VirtualHangAfter after the run was canceled, the watchdog takes
// the run over on a fresh goroutine. Virtual time moves to the attempt's deadline, the
// attempt fails with a timeout and its visit fails with it (the retries it had left are
// not made: the retry loop was on the goroutine exec holds), routed like any failure.
//
// From then on the hung goroutine belongs to no run: exec's trace events are dropped,
// its sleeps on the clock fail without moving it, and should exec ever return, the
// goroutine ends at once (runtime.Goexit) without touching the run.

// hangGuard is the state shared between a timed attempt on a virtual clock and the
// watchdog. mu orders exec's writes to the run (events, sleeps) against a takeover.
type hangGuard struct {
	mu    sync.Mutex
	state hangState
	bound time.Duration
	// attempt counts the guarded attempts; seen is the one the watchdog last saw
	// running. Still running at the next fire, it has run for at least bound.
	attempt, seen uint64
	canceled      bool // the run was canceled while the attempt ran
	n             *node
	visit         int
	number        int
	ticket        policy.Ticket
	deadline      time.Time // virtual
	bulkhead      bool      // the attempt holds a bulkhead slot
	clock         Clock     // the run's clock as the guarded exec sees it (a guardClock)
	runClock      Clock     // the run's own clock
	armed         bool      // the watchdog is set to fire
	// att is the guarded exec's Attempt, its own so that a run which moved on never
	// shares one with a hung exec.
	att Attempt
}

type hangState uint8

const (
	hangIdle hangState = iota
	hangRunning
	hangAbandoned
)

// guardClock is the run's virtual clock as a guarded exec sees it: a sleep (which takes
// no real time) holds the guard, so it happens entirely before a takeover or not at all.
type guardClock struct{ g *hangGuard }

func (c guardClock) Sleep(ctx context.Context, d time.Duration) error {
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	if c.g.state == hangAbandoned {
		return ErrAttemptAbandoned
	}
	return c.g.runClock.Sleep(ctx, d)
}

func (c guardClock) Now() time.Time { return c.g.runClock.Now() }

func (c guardClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return c.g.runClock.WithTimeout(ctx, d)
}

func (c guardClock) After(d time.Duration) <-chan time.Time { return c.g.runClock.After(d) }

// callExecWatched runs a timed attempt's exec on a virtual clock under the watchdog. If
// the watchdog takes the run over meanwhile, it never returns: the goroutine ends when
// exec does, after clearing *held so that the bulkhead slot, which the takeover gave
// back, is not given back twice.
func (r *run) callExecWatched(actx context.Context, n *node, v *Visit, input any, number int, held *bool) (any, error) {
	g := r.hang.Load()
	if g == nil {
		g = &hangGuard{}
		g.clock = guardClock{g: g}
		g.att.rng = newStream()
		r.hang.Store(g)
	}
	g.runClock = r.clock // a reused run's guard may have served another clock
	// Everything the run loop writes for this attempt is written before the guard is
	// taken, so a takeover sees it.
	r.phase = phaseExec
	r.calls[n.index]++
	call := r.calls[n.index]
	a := &g.att
	*a = Attempt{r: r, n: n, visit: v.number, number: number, call: call, rng: a.rng, clock: g.clock, hang: g, params: v.params}
	bound := max(n.timeout, VirtualHangAfter)
	var dl time.Time
	if vc, ok := actx.(*virtualDeadlineCtx); ok {
		dl = vc.deadline
	}
	g.mu.Lock()
	g.state, g.bound, g.canceled = hangRunning, bound, false
	g.attempt++
	g.n, g.visit, g.number, g.ticket, g.deadline, g.bulkhead = n, v.number, number, r.ticket, dl, *held
	// The watchdog is armed once and left running: when it fires early for this
	// attempt it re-arms itself for the rest, so quick attempts cost no timer work.
	switch {
	case r.watchdog == nil:
		r.watchdog = time.AfterFunc(bound, r.onHang)
		g.armed = true
	case !g.armed:
		r.watchdog.Reset(bound)
		g.armed = true
	}
	g.mu.Unlock()
	out, err := r.callExecAt(actx, n, a, input, call)
	g.mu.Lock()
	if g.state == hangAbandoned {
		g.mu.Unlock()
		*held = false
		runtime.Goexit() // the run has moved on without this goroutine
	}
	g.state = hangIdle
	g.mu.Unlock()
	return out, err
}

// watchCancel makes a cancellation of the run reach a hung exec on a virtual clock:
// the watchdog then fires VirtualHangAfter later.
func (r *run) watchCancel(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		g := r.hang.Load()
		if g == nil {
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.state == hangRunning {
			g.canceled = true
			r.watchdog.Reset(VirtualHangAfter)
		}
	})
}

// onHang runs when the watchdog fires: if the attempt is still running past its bound,
// the run goes on without it.
func (r *run) onHang() {
	g := r.hang.Load()
	if g == nil {
		return
	}
	g.mu.Lock()
	if g.state != hangRunning {
		g.armed = false
		g.mu.Unlock()
		return
	}
	if !g.canceled && g.seen != g.attempt {
		// Not yet a full period: look again one bound later.
		g.seen = g.attempt
		r.watchdog.Reset(g.bound)
		g.mu.Unlock()
		return
	}
	g.state = hangAbandoned
	r.hang.Store(nil) // the next timed attempt gets a fresh guard
	owner := r.owner.Add(1)
	g.mu.Unlock()
	r.guard(r.ctx, r.done, afterHang(g), owner)
}

// afterHang continues the run after the watchdog abandoned g's attempt.
func afterHang(g *hangGuard) func(*run, context.Context) {
	return func(r *run, ctx context.Context) {
		n := g.n
		if vc, ok := r.clock.(advancer); ok && !g.deadline.IsZero() {
			vc.Advance(g.deadline.Sub(vc.Now()))
		}
		err := WithKind(Timeout, fmt.Errorf("attempt %d exceeded the %s timeout: exec did not return (it ran for %s of real time on a virtual clock, ignoring its context)",
			g.number, n.timeout, g.bound))
		if g.canceled {
			err = WithKind(Canceled, fmt.Errorf("run canceled while exec hung: %w", context.Cause(ctx)))
		}
		b := n.breaker
		if r.noBreakers {
			b = nil
		}
		r.attemptEnded(n, &r.visit, g.number, b, g.ticket, err)
		if g.bulkhead {
			n.bulkhead.Release()
		}
		nerr := &NodeError{Node: n.name, Kind: KindOf(err), Phase: "exec", Attempts: g.number, Err: err}
		next, failure := r.failVisit(ctx, n, nil, nerr)
		r.phase = phaseNone
		if r.debug {
			r.logVisit()
		}
		if !r.afterStep(ctx, n, next, failure) {
			r.walk(ctx, next, failure)
		}
	}
}
