package policy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/avast/retry-go/v4"
)

// Sleeper is the clock the retry loop reads and waits on: a real clock sleeps, a virtual
// one only moves.
type Sleeper interface {
	Now() time.Time
	// Sleep waits for d, returning early with ctx's error when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

// RetryCall is the work a Retry repeats, with what the loop needs from its caller, which
// owns the clock, the error kinds, the seeded random streams and the trace.
type RetryCall interface {
	Sleeper
	// Attempt makes attempt n, counting from 1.
	Attempt(ctx context.Context, n int) (any, error)
	// Retryable reports whether err is of a kind the retry applies to.
	Retryable(err error) bool
	// Jitter returns the seeded random source for the wait after failed attempt n.
	Jitter(n int) *rand.Rand
	// Scheduled is told of each retry the loop commits to, before it waits.
	Scheduled(s Scheduled)
	// Canceled marks err, the caller's cancellation noticed while retrying, as the
	// caller's kind of cancellation error.
	Canceled(err error) error
}

// Scheduled describes a retry about to wait: attempt Next begins after Wait. Asked is the
// wait the failed service asked for (see WithRetryAfter), 0 when it asked for none; Err is
// the failure being retried.
type Scheduled struct {
	Next  int
	Wait  time.Duration
	Asked time.Duration
	Err   error
}

// RetryOutcome is how the attempts under a Retry ended.
type RetryOutcome struct {
	Out      any
	Attempts int
	Err      error
	// Exhausted: every allowed attempt failed with a retryable error, or the max_duration
	// window refused the next one.
	Exhausted bool
}

// DoRetry makes c's attempts under p (nil: a single attempt). The first attempt is made
// directly, so a success costs nothing for retry; retry-go takes over after a retryable
// failure, for attempts 2 and on, waiting on c's clock. A non-retryable error ends the
// loop at once. When ctx ends during a wait, the outcome is the cancellation with the last
// attempt's error kept in its message.
//
// DoRetry is generic so that a caller passing its RetryCall by value pays no allocation
// on the success path.
func DoRetry[C RetryCall](ctx context.Context, p *Retry, c C) RetryOutcome {
	var start time.Time
	if p != nil && p.MaxDuration > 0 {
		start = c.Now()
	}
	out, err := c.Attempt(ctx, 1)
	if err == nil || p == nil || p.Attempts == 1 || !c.Retryable(err) {
		return RetryOutcome{Out: out, Attempts: 1, Err: err}
	}
	// Past the first failure the loop takes c as an interface: one allocation, where
	// a generic loop made retry-go's options allocate one each.
	return retryAfter(ctx, p, RetryCall(c), err, start)
}

// retryAfter continues after a first attempt, begun at start, failed with the retryable
// firstErr.
func retryAfter(ctx context.Context, p *Retry, c RetryCall, firstErr error, start time.Time) RetryOutcome {
	var (
		attempts = 1
		lastErr  = firstErr
		next     time.Duration
		stopped  bool
	)
	// schedule computes the wait after the attempts made so far, refusing a retry that
	// would run past max_duration.
	schedule := func(err error) bool {
		next = p.Wait(attempts, c.Jitter(attempts))
		var asked time.Duration
		next, asked = p.HonourRetryAfter(err, next)
		if p.Exceeds(c.Now().Sub(start), next) {
			stopped = true
			return false
		}
		c.Scheduled(Scheduled{Next: attempts + 1, Wait: next, Asked: asked, Err: err})
		return true
	}
	if !schedule(firstErr) {
		return retryOutcome(ctx, p, c, attempts, firstErr, firstErr, stopped)
	}
	if err := c.Sleep(ctx, next); err != nil {
		return retryOutcome(ctx, p, c, attempts, err, lastErr, stopped)
	}
	out, err := retry.DoWithData(
		func() (any, error) {
			attempts++
			out, err := c.Attempt(ctx, attempts)
			if err != nil {
				lastErr = err
				if !c.Retryable(err) {
					return nil, retry.Unrecoverable(err)
				}
			}
			return out, err
		},
		retry.Attempts(uint(p.Attempts-1)),
		retry.Context(ctx),
		retry.LastErrorOnly(true),
		retry.WithTimer(clockTimer[RetryCall]{ctx: ctx, clock: c}),
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
		return RetryOutcome{Out: out, Attempts: attempts}
	}
	return retryOutcome(ctx, p, c, attempts, err, lastErr, stopped)
}

// retryOutcome reports how retrying ended: the last real error (not the context's, when
// ctx ended during a wait), and whether the attempts were exhausted.
func retryOutcome[C RetryCall](ctx context.Context, p *Retry, c C, attempts int, err, lastErr error, stopped bool) RetryOutcome {
	if lastErr != nil && ctx.Err() != nil && !errors.Is(lastErr, context.Canceled) {
		// Canceled while waiting: report the cancellation, keeping the real last error.
		err = c.Canceled(fmt.Errorf("%w (last attempt: %v)", context.Cause(ctx), lastErr))
	} else if lastErr != nil {
		err = lastErr
	}
	exhausted := c.Retryable(err) && (attempts >= p.Attempts || stopped)
	if stopped {
		err = fmt.Errorf("%w (retry window max_duration %s would be exceeded)", err, p.MaxDuration)
	}
	return RetryOutcome{Attempts: attempts, Err: err, Exhausted: exhausted}
}

// fired is a closed channel: a timer that has already gone off.
var fired = func() chan time.Time {
	c := make(chan time.Time)
	close(c)
	return c
}()

// clockTimer lets retry-go wait on the caller's clock: After sleeps on the clock (which on
// a virtual clock only moves it) and returns a channel that has fired. When ctx ends
// first it returns a channel that never fires, so retry-go sees ctx.Done instead.
type clockTimer[S Sleeper] struct {
	ctx   context.Context
	clock S
}

func (t clockTimer[S]) After(d time.Duration) <-chan time.Time {
	if t.clock.Sleep(t.ctx, d) != nil {
		return nil
	}
	return fired
}
