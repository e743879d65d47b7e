package engine

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Clock is the only source of time for a run: every retry delay, breaker timer, timeout,
// bulkhead wait and injected latency goes through it, so a run on a VirtualClock never
// sleeps and is reproducible to the nanosecond.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d, returning early with the context's error when ctx ends or its
	// deadline (on this clock) passes first.
	Sleep(ctx context.Context, d time.Duration) error
	// WithTimeout returns a context whose deadline is d from now on this clock.
	WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc)
	// After returns a channel that receives once d has passed on this clock. Unlike
	// Sleep it does not make time pass: on a virtual clock it fires when some other
	// work advances the clock that far.
	After(d time.Duration) <-chan time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits on a timer or ctx, whichever ends first.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// WithTimeout is context.WithTimeout.
func (RealClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// After is time.After.
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// VirtualClock is a clock that moves only when work sleeps on it: Sleep advances it
// instead of waiting. Timeouts are deadlines on this clock carried in the context, and a
// Sleep that would pass one stops exactly at it with context.DeadlineExceeded.
//
// A VirtualClock is safe for concurrent use. Runs that share one (several runs at once
// under --virtual-time) see their sleeps add up on a single timeline; results are
// race-free, but which run's sleep comes first depends on scheduling, so only
// single-run or sequential use is byte-for-byte reproducible.
type VirtualClock struct {
	mu  sync.Mutex
	now time.Time
	// base and elapsed mirror now (base + elapsed) so that Now, which every visit
	// calls for its step's timestamp, reads one atomic word instead of taking mu.
	base    time.Time
	elapsed atomic.Int64
	timers  []virtualTimer
	// deadlines are the timeout contexts waiting for the clock to reach them.
	deadlines map[*virtualDeadlineCtx]struct{}
}

type virtualTimer struct {
	at time.Time
	c  chan time.Time
}

// Epoch is where virtual clocks start when not told otherwise: a fixed, recognisable
// moment, so that timestamps in golden files never depend on the day they were made.
var Epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// NewVirtualClock returns a virtual clock reading start (Epoch when zero).
func NewVirtualClock(start time.Time) *VirtualClock {
	if start.IsZero() {
		start = Epoch
	}
	return &VirtualClock{now: start, base: start}
}

// Now returns the clock's current reading.
func (c *VirtualClock) Now() time.Time {
	return c.base.Add(time.Duration(c.elapsed.Load()))
}

// virtualReader is a clock that reads a VirtualClock: a run then takes its steps'
// times from the clock's elapsed offset.
type virtualReader interface{ virtual() *VirtualClock }

func (c *VirtualClock) virtual() *VirtualClock { return c }

// setNow moves the clock to t; c.mu is held.
func (c *VirtualClock) setNow(t time.Time) {
	c.now = t
	c.elapsed.Store(int64(t.Sub(c.base)))
}

// Advance moves the clock forward by d and fires the timers that are due.
func (c *VirtualClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.setNow(c.now.Add(d))
	due := c.fireLocked()
	c.mu.Unlock()
	expire(due)
}

// fireLocked fires the After channels that are due and returns the deadline contexts
// that are, for the caller to cancel once it has released the lock.
func (c *VirtualClock) fireLocked() []*virtualDeadlineCtx {
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
	var due []*virtualDeadlineCtx
	for d := range c.deadlines {
		if !d.deadline.After(c.now) {
			due = append(due, d)
			delete(c.deadlines, d)
		}
	}
	return due
}

func expire(due []*virtualDeadlineCtx) {
	for _, d := range due {
		d.expire(context.DeadlineExceeded)
	}
}

type virtualDeadlineKey struct{}

// Sleep advances the clock by d, or only up to the context's virtual deadline when that
// comes first, in which case it returns context.DeadlineExceeded.
func (c *VirtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		return err
	}
	c.mu.Lock()
	target := c.now.Add(max(d, 0))
	var err error
	if dl, ok := ctx.Value(virtualDeadlineKey{}).(time.Time); ok && target.After(dl) {
		target, err = dl, context.DeadlineExceeded
	}
	var due []*virtualDeadlineCtx
	if target.After(c.now) {
		c.setNow(target)
		due = c.fireLocked()
	}
	c.mu.Unlock()
	expire(due)
	return err
}

// WithTimeout returns a context carrying a deadline d from now on this clock (or the
// earlier deadline it already carries). Sleep honours it, and the context is done once
// the clock reaches the deadline, so exec code that waits on ctx.Done() ends there too;
// work that neither sleeps on the clock nor waits on ctx is not interrupted by virtual
// time, since none passes during it.
func (c *VirtualClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	dl := c.Now().Add(d)
	if old, ok := ctx.Value(virtualDeadlineKey{}).(time.Time); ok && old.Before(dl) {
		dl = old
	}
	vc := &virtualDeadlineCtx{parent: ctx, deadline: dl, clock: c}
	return vc, vc.cancel
}

// virtualDeadlineCtx carries a deadline on a virtual clock. It is done when its parent
// is, when the clock reaches the deadline (Err is then context.DeadlineExceeded), or when
// its cancel function is called. It joins the clock's watch list only when its Done
// channel is asked for: the many attempts whose exec never waits on ctx cost the clock
// nothing.
type virtualDeadlineCtx struct {
	parent   context.Context
	deadline time.Time
	clock    *VirtualClock

	mu      sync.Mutex
	err     error
	done    chan struct{}
	watched bool        // in clock.deadlines
	stop    func() bool // stops the watch on the parent
}

// Deadline reports the parent's real deadline: the virtual one is not on the wall clock.
func (c *virtualDeadlineCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *virtualDeadlineCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err == nil {
		vclock := c.clock
		vclock.mu.Lock()
		if !c.deadline.After(vclock.now) {
			c.err = context.DeadlineExceeded
		} else {
			if vclock.deadlines == nil {
				vclock.deadlines = map[*virtualDeadlineCtx]struct{}{}
			}
			vclock.deadlines[c] = struct{}{}
			c.watched = true
		}
		vclock.mu.Unlock()
	}
	switch {
	case c.err != nil:
		close(c.done)
	case c.parent.Done() != nil:
		c.stop = context.AfterFunc(c.parent, func() { c.expire(context.Cause(c.parent)) })
	}
	return c.done
}

// Err is the parent's error, or context.DeadlineExceeded once the clock has reached the
// deadline, as for a real timeout context.
func (c *virtualDeadlineCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !c.clock.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *virtualDeadlineCtx) cancel() {
	c.mu.Lock()
	watched := c.watched
	c.mu.Unlock()
	if watched {
		c.clock.mu.Lock()
		delete(c.clock.deadlines, c)
		c.clock.mu.Unlock()
	}
	c.expire(context.Canceled)
}

func (c *virtualDeadlineCtx) expire(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if err == nil {
		err = context.Canceled
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.stop != nil {
		c.stop()
	}
}

func (c *virtualDeadlineCtx) Value(key any) any {
	if key == (virtualDeadlineKey{}) {
		return c.deadline
	}
	return c.parent.Value(key)
}

// Pending returns how many After channels are waiting for the clock to move, so tests
// can advance it exactly when a waiter is in place.
func (c *VirtualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// After returns a channel that receives when the clock reaches now+d.
func (c *VirtualClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	at := c.now.Add(d)
	if !at.After(c.now) {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, virtualTimer{at: at, c: ch})
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
	return ch
}

// deadlinePassed reports whether the context's deadline on clock has passed: the real
// deadline for real clocks, the virtual one for virtual clocks.
func deadlinePassed(ctx context.Context, clock Clock) bool {
	if vc, ok := ctx.(*virtualDeadlineCtx); ok {
		return !clock.Now().Before(vc.deadline)
	}
	if dl, ok := ctx.Value(virtualDeadlineKey{}).(time.Time); ok {
		return !clock.Now().Before(dl)
	}
	return ctx.Err() == context.DeadlineExceeded
}
