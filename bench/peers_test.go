package bench

import (
	"context"
	"errors"
	"time"

	"github.com/avast/retry-go/v4"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/bulkhead"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/failsafe-go/failsafe-go/timeout"
	"github.com/sony/gobreaker/v2"
)

// The policy settings every side uses: three attempts with no delay, a breaker opening
// after five consecutive failures and staying open 30 s, a bulkhead of four with a 1 s
// wait, and a 1 s timeout per attempt.
const (
	attempts         = 3
	failureThreshold = 5
	openTimeout      = 30 * time.Second
	maxConcurrent    = 4
	maxWait          = time.Second
	attemptTimeout   = time.Second
)

// failsafeStack is failsafe-go's executor with the four policies, outermost first as
// kgrun orders them: retry, breaker, bulkhead, per-attempt timeout.
func failsafeStack() failsafe.Executor[any] {
	return failsafe.With[any](
		retrypolicy.NewBuilder[any]().WithMaxAttempts(attempts).Build(),
		failsafeBreaker(),
		bulkhead.NewBuilder[any](maxConcurrent).WithMaxWaitTime(maxWait).Build(),
		timeout.New[any](attemptTimeout),
	)
}

func failsafeBreaker() circuitbreaker.CircuitBreaker[any] {
	return circuitbreaker.NewBuilder[any]().WithFailureThreshold(failureThreshold).WithDelay(openTimeout).Build()
}

func failsafeRetry() failsafe.Executor[any] {
	return failsafe.With[any](retrypolicy.NewBuilder[any]().WithMaxAttempts(attempts).Build())
}

func newGobreaker() *gobreaker.CircuitBreaker[any] {
	return gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        "svc",
		Timeout:     openTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failureThreshold },
	})
}

// retryOptions make retry-go try three times with no delay and no jitter, keeping only
// the last error (its default builds a list of all of them).
var retryOptions = []retry.Option{
	retry.Attempts(attempts),
	retry.Delay(0),
	retry.MaxJitter(0),
	retry.DelayType(retry.FixedDelay),
	retry.LastErrorOnly(true),
}

// composed is the four policies as a user would assemble them from the single-purpose
// libraries: retry-go around gobreaker around a semaphore with a bounded wait, around a
// per-attempt context timeout.
type composed struct {
	breaker *gobreaker.CircuitBreaker[any]
	slots   chan struct{}
	work    func() (any, error)
	attempt func() (any, error)
	guarded func() (any, error)
}

var errBulkheadFull = errors.New("bulkhead full")

func newComposed(work func() (any, error)) *composed {
	c := &composed{breaker: newGobreaker(), slots: make(chan struct{}, maxConcurrent), work: work}
	c.guarded = c.bounded
	c.attempt = func() (any, error) { return c.breaker.Execute(c.guarded) }
	return c
}

func (c *composed) bounded() (any, error) {
	select {
	case c.slots <- struct{}{}:
	default:
		t := time.NewTimer(maxWait)
		defer t.Stop()
		select {
		case c.slots <- struct{}{}:
		case <-t.C:
			return nil, errBulkheadFull
		}
	}
	defer func() { <-c.slots }()
	ctx, cancel := context.WithTimeout(context.Background(), attemptTimeout)
	defer cancel()
	out, err := c.work()
	if err == nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return out, err
}

func (c *composed) call() (any, error) { return retry.DoWithData(c.attempt, retryOptions...) }

// handBreaker is the hand-written baseline breaker: a consecutive-failure count, no
// lock, no clock, no half-open state.
type handBreaker struct{ failures int }

func (h *handBreaker) call(work func() (any, error)) (any, error) {
	if h.failures >= failureThreshold {
		return nil, errOpen
	}
	out, err := work()
	if err != nil {
		h.failures++
	} else {
		h.failures = 0
	}
	return out, err
}
