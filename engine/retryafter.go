package engine

import (
	"time"

	"github.com/kgrun/kgrun/engine/policy"
)

// WithRetryAfter marks err so that, when it is retried, the wait before the next attempt
// is at least after: the backoff's wait is lengthened to it, still capped by the retry's
// max_delay, and max_duration still refuses a retry that would end past the window. The
// trace's retry_scheduled event records the request in retry_after. The rule itself is
// policy.Retry.HonourRetryAfter.
func WithRetryAfter(err error, after time.Duration) error {
	return policy.WithRetryAfter(err, after)
}

// RetryAfter returns the wait err asks for before the next attempt, if any.
func RetryAfter(err error) (time.Duration, bool) {
	return policy.RetryAfter(err)
}
