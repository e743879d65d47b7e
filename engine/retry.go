package engine

import (
	"context"
	"math/rand/v2"
	"time"

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

// execOutcome is how a visit's exec ended.
type execOutcome struct {
	out       any
	attempts  int
	err       error
	exhausted bool // every allowed attempt failed with a retryable error, or max_duration ran out
}

// execute runs exec under the node's retry policy and everything inside it (attempt.go).
// The loop itself, its attempt counting, waits and outcome, is policy.DoRetry's.
func (r *run) execute(ctx context.Context, n *node, v *Visit, input any) execOutcome {
	if n.retry == nil {
		// No retry: the one attempt is called directly, not through the generic loop.
		out, err := r.attempt(ctx, n, v, input, 1)
		return execOutcome{out: out, attempts: 1, err: err}
	}
	o := policy.DoRetry(ctx, &n.retry.Retry, retryCall{r: r, n: n, v: v, input: input})
	return execOutcome{out: o.Out, attempts: o.Attempts, err: o.Err, exhausted: o.Exhausted}
}

// retryCall is one visit's exec as the retry loop sees it: the run supplies the clock,
// the error kinds the node retries, the seeded jitter stream and the retry events. It is
// passed by value, so the success path allocates nothing for it.
type retryCall struct {
	r     *run
	n     *node
	v     *Visit
	input any
}

func (c retryCall) Now() time.Time { return c.r.clock.Now() }

func (c retryCall) Sleep(ctx context.Context, d time.Duration) error { return c.r.clock.Sleep(ctx, d) }

func (c retryCall) Attempt(ctx context.Context, number int) (any, error) {
	return c.r.attempt(ctx, c.n, c.v, c.input, number)
}

func (c retryCall) Retryable(err error) bool { return c.n.retry.on.has(KindOf(err)) }

func (c retryCall) Jitter(number int) *rand.Rand {
	return c.r.jitter.at(c.r.seed, c.n.hash, c.v.number, number, streamJitter)
}

func (c retryCall) Scheduled(s policy.Scheduled) {
	c.r.emit(Event{Kind: EventRetryScheduled, Node: c.n.name, Visit: c.v.number, Attempt: s.Next,
		Delay: Duration(s.Wait), RetryAfter: Duration(s.Asked), ErrKind: KindOf(s.Err)})
}

func (c retryCall) Canceled(err error) error { return WithKind(Canceled, err) }

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
