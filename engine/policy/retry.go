package policy

import (
	"errors"
	"math"
	"math/rand/v2"
	"time"
)

// Retry is a node's retry schedule: how many attempts, how long to wait between them, and
// how long the whole retrying may take. It holds no state, so one value serves every run;
// package engine drives the attempts (it owns the clock, the trace and the error kinds a
// retry applies to) and asks Retry what to wait and whether the window allows it.
type Retry struct {
	// Attempts counts every attempt, the first included: 1 means no retry.
	Attempts int
	// Delay is the wait after the first failure.
	Delay time.Duration
	// Multiplier grows the wait after each further failure; values below 1 count as 1
	// (a fixed delay).
	Multiplier float64
	// MaxDelay caps every wait, the one a failed service asks for included; 0 means no cap.
	MaxDelay time.Duration
	// Jitter draws each wait uniformly from [0, capped backoff] ("full" jitter).
	Jitter bool
	// MaxDuration refuses a retry whose wait would end past this long after the first
	// attempt began; 0 means no window.
	MaxDuration time.Duration
}

// Backoff is the wait after the n-th failed attempt (n ≥ 1), before jitter:
// min(Delay × Multiplier^(n−1), MaxDelay), computed in floating point and clamped so that
// high attempt numbers cannot overflow.
func (p *Retry) Backoff(n int) time.Duration {
	d := float64(p.Delay) * math.Pow(max(p.Multiplier, 1), float64(n-1))
	if p.MaxDelay > 0 && d > float64(p.MaxDelay) {
		return p.MaxDelay
	}
	if d >= math.MaxInt64 || math.IsInf(d, 1) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(d)
}

// Wait is Backoff with full jitter applied after the cap: uniform in [0, Backoff(n)],
// drawn from r (the caller seeds it, so runs replay).
func (p *Retry) Wait(n int, r *rand.Rand) time.Duration {
	d := p.Backoff(n)
	if p.Jitter && d > 0 {
		if d == math.MaxInt64 {
			return time.Duration(r.Int64N(int64(d)))
		}
		return time.Duration(r.Int64N(int64(d) + 1))
	}
	return d
}

// HonourRetryAfter lengthens wait to what err asks for (see WithRetryAfter), capped by
// MaxDelay. It returns the wait and the asked-for delay (0 when err asks for none).
func (p *Retry) HonourRetryAfter(err error, wait time.Duration) (time.Duration, time.Duration) {
	after, ok := RetryAfter(err)
	if !ok {
		return wait, 0
	}
	if after > wait {
		wait = after
		if p.MaxDelay > 0 && wait > p.MaxDelay {
			wait = p.MaxDelay
		}
	}
	return wait, after
}

// Exceeds reports whether waiting next more, elapsed after the first attempt began,
// would end past MaxDuration, so the retry must not be scheduled.
func (p *Retry) Exceeds(elapsed, next time.Duration) bool {
	return p.MaxDuration > 0 && elapsed+next > p.MaxDuration
}

// retryAfterError carries the shortest wait the failed service asked for before the next
// attempt (an HTTP Retry-After header, say).
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// WithRetryAfter marks err so that, when it is retried, the wait before the next attempt
// is at least after (see HonourRetryAfter). A nil err or a wait ≤ 0 returns err unchanged.
func WithRetryAfter(err error, after time.Duration) error {
	if err == nil || after <= 0 {
		return err
	}
	return &retryAfterError{err: err, after: after}
}

// RetryAfter returns the wait err (or any error it wraps) asks for before the next
// attempt, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return ra.after, true
	}
	return 0, false
}
