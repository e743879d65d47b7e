package engine

import (
	"errors"
	"time"
)

// retryAfterError carries the shortest wait the failed service asked for before the next
// attempt (an HTTP Retry-After header, say).
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// WithRetryAfter marks err so that, when it is retried, the wait before the next attempt
// is at least after: the backoff's wait is lengthened to it, still capped by the retry's
// max_delay, and max_duration still refuses a retry that would end past the window. The
// trace's retry_scheduled event records the request in retry_after.
func WithRetryAfter(err error, after time.Duration) error {
	if err == nil || after <= 0 {
		return err
	}
	return &retryAfterError{err: err, after: after}
}

// RetryAfter returns the wait err asks for before the next attempt, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var ra *retryAfterError
	if errors.As(err, &ra) {
		return ra.after, true
	}
	return 0, false
}

// honourRetryAfter lengthens the wait before the next attempt to what err asks for,
// capped by max_delay. It returns the wait and the asked-for delay (0 when none).
func (p *retryPolicy) honourRetryAfter(err error, wait time.Duration) (time.Duration, time.Duration) {
	after, ok := RetryAfter(err)
	if !ok {
		return wait, 0
	}
	if after > wait {
		wait = after
		if p.maxDelay > 0 && wait > p.maxDelay {
			wait = p.maxDelay
		}
	}
	return wait, after
}
