package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/avast/retry-go/v4"

	"github.com/kgrun/kgrun/engine/policy"
	"github.com/kgrun/kgrun/schema"
)

// kindSet is a set of error kinds, one bit each.
type kindSet uint16

func (s kindSet) has(k Kind) bool {
	for i, kk := range Kinds {
		if kk == k {
			return s&(1<<i) != 0
		}
	}
	return false
}

func kindsOf(ids []schema.Ident) kindSet {
	var s kindSet
	for _, id := range ids {
		for i, k := range Kinds {
			if string(k) == id.Name {
				s |= 1 << i
			}
		}
	}
	return s
}

// defaultKinds is what retries retry and breakers count unless a workflow says otherwise:
// every kind except data (retrying bad input cannot help), canceled (the caller gave up)
// and circuit_open (a rejection is not a failure, and retrying it would hammer the breaker).
var defaultKinds = func() kindSet {
	var s kindSet
	for i, k := range Kinds {
		if k != Data && k != Canceled && k != CircuitOpen {
			s |= 1 << i
		}
	}
	return s
}()

// retryPolicy is a node's compiled retry: the schedule (policy.Retry, where the delay
// formula, jitter, retry-after bounding and the max_duration window live) and the error
// kinds it retries, which only the engine knows.
type retryPolicy struct {
	policy.Retry
	on kindSet
}

func newRetryPolicy(r *schema.Retry) *retryPolicy {
	p := &retryPolicy{Retry: policy.Retry{
		Attempts: r.Attempts, Delay: r.Delay, Multiplier: r.Multiplier, MaxDelay: r.MaxDelay,
		Jitter: r.Jitter == "full", MaxDuration: r.MaxDuration,
	}, on: kindsOf(r.On)}
	if len(r.On) == 0 {
		p.on = defaultKinds
	}
	return p
}

// fired is a closed channel: a timer that has already gone off.
var fired = func() chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

// clockTimer lets retry-go wait on the run's clock: After sleeps on the clock (which on a
// virtual clock only moves it) and returns a channel that has fired. When ctx ends first
// it returns a channel that never fires, so retry-go sees ctx.Done instead.
type clockTimer struct {
	ctx   context.Context
	clock Clock
}

func (t clockTimer) After(d time.Duration) <-chan time.Time {
	if t.clock.Sleep(t.ctx, d) != nil {
		return nil
	}
	return fired
}

// execOutcome is how a visit's exec ended.
type execOutcome struct {
	out       any
	attempts  int
	err       error
	exhausted bool // every allowed attempt failed with a retryable error, or max_duration ran out
}

// execute runs exec under the node's retry policy and everything inside it. The first
// attempt is made directly, so the success path costs nothing for retry; retry-go takes
// over after a retryable failure, for attempts 2 and on.
func (r *run) execute(ctx context.Context, n *node, v *Visit, input any) execOutcome {
	p := n.retry
	var start time.Time
	if p != nil && p.MaxDuration > 0 {
		start = r.clock.Now()
	}
	out, err := r.attempt(ctx, n, v, input, 1)
	if err == nil || p == nil || p.Attempts == 1 || !p.on.has(KindOf(err)) {
		return execOutcome{out: out, attempts: 1, err: err}
	}
	return r.retry(ctx, n, v, input, err, start)
}

// retry continues after a first attempt failed with a retryable error.
func (r *run) retry(ctx context.Context, n *node, v *Visit, input any, firstErr error, start time.Time) execOutcome {
	p := n.retry
	var (
		attempts = 1
		lastErr  = firstErr
		next     time.Duration
		stopped  bool
	)
	// schedule computes the wait after the attempts made so far, refusing a retry that
	// would run past max_duration.
	schedule := func(err error) bool {
		next = p.Wait(attempts, r.jitter.at(r.seed, n.hash, v.number, attempts, streamJitter))
		var asked time.Duration
		next, asked = p.HonourRetryAfter(err, next)
		if p.Exceeds(r.clock.Now().Sub(start), next) {
			stopped = true
			return false
		}
		r.emit(Event{Kind: EventRetryScheduled, Node: n.name, Visit: v.number, Attempt: attempts + 1,
			Delay: Duration(next), RetryAfter: Duration(asked), ErrKind: KindOf(err)})
		return true
	}
	if !schedule(firstErr) {
		return r.retryOutcome(ctx, p, attempts, firstErr, firstErr, stopped)
	}
	if err := r.clock.Sleep(ctx, next); err != nil {
		return r.retryOutcome(ctx, p, attempts, err, lastErr, stopped)
	}
	out, err := retry.DoWithData(
		func() (any, error) {
			attempts++
			out, err := r.attempt(ctx, n, v, input, attempts)
			if err != nil {
				lastErr = err
				if !p.on.has(KindOf(err)) {
					return nil, retry.Unrecoverable(err)
				}
			}
			return out, err
		},
		retry.Attempts(uint(p.Attempts-1)),
		retry.Context(ctx),
		retry.LastErrorOnly(true),
		retry.WithTimer(clockTimer{ctx: ctx, clock: r.clock}),
		retry.RetryIf(func(err error) bool {
			if !retry.IsRecoverable(err) {
				return false
			}
			if attempts >= p.Attempts {
				return true // retry-go stops here by itself; the attempts are exhausted
			}
			return schedule(err)
		}),
		retry.DelayType(func(uint, error, *retry.Config) time.Duration { return next }),
	)
	if err == nil {
		return execOutcome{out: out, attempts: attempts}
	}
	return r.retryOutcome(ctx, p, attempts, err, lastErr, stopped)
}

// retryOutcome reports how retrying ended: the last real error (not the context's, when
// the run was canceled during a wait), and whether the attempts were exhausted.
func (r *run) retryOutcome(ctx context.Context, p *retryPolicy, attempts int, err, lastErr error, stopped bool) execOutcome {
	if lastErr != nil && ctx.Err() != nil && !errors.Is(lastErr, context.Canceled) {
		// Canceled while waiting: report the cancellation, keeping the real last error.
		err = WithKind(Canceled, fmt.Errorf("%w (last attempt: %v)", context.Cause(ctx), lastErr))
	} else if lastErr != nil {
		err = lastErr
	}
	exhausted := p.on.has(KindOf(err)) && (attempts >= p.Attempts || stopped)
	if stopped {
		err = fmt.Errorf("%w (retry window max_duration %s would be exceeded)", err, p.MaxDuration)
	}
	return execOutcome{attempts: attempts, err: err, exhausted: exhausted}
}

// breakerOutcome classifies an attempt's result for the node's breaker.
func (n *node) breakerOutcome(err error) policy.Outcome {
	switch {
	case err == nil:
		return policy.Success
	case n.breakerKinds.has(KindOf(err)):
		return policy.Failure
	}
	return policy.Ignored
}
