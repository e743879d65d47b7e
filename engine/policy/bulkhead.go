package policy

import (
	"context"
	"errors"
	"time"
)

// ErrBulkheadFull is returned when no slot became free within the bulkhead's wait.
var ErrBulkheadFull = errors.New("bulkhead full")

// Bulkhead limits how many calls run at once. A call that finds it full waits up to a
// bounded time for a slot and is then rejected; a full bulkhead is a rejection, never a
// crash or an unbounded queue. A Bulkhead is safe for concurrent use.
type Bulkhead struct {
	slots chan struct{}
}

// NewBulkhead returns a bulkhead with maxConcurrent slots (at least 1).
func NewBulkhead(maxConcurrent int) *Bulkhead {
	return &Bulkhead{slots: make(chan struct{}, max(maxConcurrent, 1))}
}

// Acquire takes a slot. When none is free it waits until one frees, ctx ends, or the
// channel returned by after(wait) fires (after is the caller's clock, so waits can run on
// virtual time); wait 0 means do not wait at all.
func (b *Bulkhead) Acquire(ctx context.Context, wait time.Duration, after func(time.Duration) <-chan time.Time) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	default:
	}
	if wait <= 0 {
		return ErrBulkheadFull
	}
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-after(wait):
		return ErrBulkheadFull
	}
}

// TryAcquire takes a slot if one is free, without waiting.
func (b *Bulkhead) TryAcquire() bool {
	select {
	case b.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release frees a slot taken by Acquire or TryAcquire.
func (b *Bulkhead) Release() { <-b.slots }

// InUse returns the number of slots taken.
func (b *Bulkhead) InUse() int { return len(b.slots) }
