package engine

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kgrun/kgrun/engine/policy"
)

// Discrete-event time for work that goes on at once on a virtual clock: the items of a
// map, the branches of a parallel node, and (through Sim) many runs of one workflow.
//
// Each piece of concurrent work is a task. Exactly one task runs at any moment; a task
// that sleeps on its clock gives way, and when every task is asleep (or waiting for its
// children) time jumps to the earliest wake-up, as a simulator does. Which task runs next
// is decided by (wake-up time, order of falling asleep) alone, never by the Go scheduler,
// so a run with concurrent items gives the same trace, report and output every time.
// Goroutines still carry the tasks (a task's stack is its goroutine's); the scheduler
// hands one token between them. A backend's host can carry them instead (TaskHost): the
// scheduler's order is then the host's too.

// sim is one scheduler over a VirtualClock. Its methods are called by the task that
// holds the token, except where said.
type sim struct {
	clock *VirtualClock

	mu    sync.Mutex
	queue taskQueue
	seq   uint64
	// waiters are the tasks waiting for a bulkhead slot, in order of arrival.
	waiters map[*policy.Bulkhead][]*simTask
	// host carries the tasks when not nil; goroutines and channels do otherwise.
	host TaskHost
}

// simTask is one task of a sim.
type simTask struct {
	s    *sim
	wake time.Time
	seq  uint64
	at   int // index in the queue; -1 when not queued
	turn chan struct{}
	// kicked is set when the task was woken before its time (its work was canceled, or
	// the bulkhead it waits for has a free slot).
	kicked   bool
	parent   *simTask
	children map[*simTask]struct{}
	clock    *taskClock
	// ctx is the host's context of the task's carrier, and hasTurn its token, when a
	// host carries the task.
	ctx     context.Context
	hasTurn bool
}

// errNoTask means every task of a sim waits for something that only another task could
// give it: a bug in the scheduler's use, reported instead of hanging.
var errNoTask = errors.New("internal error: no task of the virtual-time scheduler can run")

func newSim(clock *VirtualClock) *sim {
	return &sim{clock: clock, waiters: map[*policy.Bulkhead][]*simTask{}}
}

func (s *sim) newTask(parent *simTask) *simTask {
	t := &simTask{s: s, at: -1, turn: make(chan struct{}, 1), parent: parent}
	t.clock = &taskClock{t: t}
	if parent != nil {
		if parent.children == nil {
			parent.children = map[*simTask]struct{}{}
		}
		parent.children[t] = struct{}{}
	}
	return t
}

// adopt makes the calling goroutine, which is not a task, the sim's running task.
func (s *sim) adopt() *simTask { return s.newTask(nil) }

// spawn starts a child task of parent that runs f once it gets its first turn, at the
// current time, after the tasks already due now. f gets ctx, or with a host the context
// the host derived from it for the task's carrier.
func (s *sim) spawn(parent *simTask, ctx context.Context, f func(t *simTask, ctx context.Context)) {
	t := s.newTask(parent)
	s.mu.Lock()
	s.push(t, s.clock.Now())
	s.mu.Unlock()
	if s.host != nil {
		s.host.Go(ctx, func(ctx context.Context) {
			t.ctx = ctx
			t.waitTurn()
			f(t, ctx)
			t.exit()
		})
		return
	}
	go func() {
		<-t.turn
		f(t, ctx)
		t.exit()
	}()
}

// waitTurn waits, on the host, until t holds the token.
func (t *simTask) waitTurn() {
	t.s.host.Await(t.ctx, func() bool { return t.hasTurn })
	t.hasTurn = false
}

// push queues t to run at wake; s.mu is held.
func (s *sim) push(t *simTask, wake time.Time) {
	s.seq++
	t.wake, t.seq = wake, s.seq
	heap.Push(&s.queue, t)
}

// switchFrom gives the token to the next task due and, unless self is nil (a task that
// ended), waits for self's next turn. carrier is the task whose carrier runs the call:
// on a host, it waits out the time that passes before the next task is due. s.mu is
// held on entry and released.
func (s *sim) switchFrom(self, carrier *simTask) error {
	if s.queue.Len() == 0 {
		s.mu.Unlock()
		return errNoTask
	}
	next := heap.Pop(&s.queue).(*simTask)
	s.mu.Unlock()
	if d := next.wake.Sub(s.clock.Now()); d > 0 {
		if s.host != nil {
			s.host.Sleep(carrier.ctx, d)
		}
		s.clock.Advance(d)
	}
	if next == self {
		return nil
	}
	if s.host != nil {
		next.hasTurn = true
		if self != nil {
			self.waitTurn()
		}
		return nil
	}
	next.turn <- struct{}{}
	if self != nil {
		<-self.turn
	}
	return nil
}

// sleepUntil queues t to run at wake and gives way; it reports whether t was kicked.
func (t *simTask) sleepUntil(wake time.Time) (kicked bool, err error) {
	s := t.s
	s.mu.Lock()
	t.kicked = false
	s.push(t, wake)
	err = s.switchFrom(t, t)
	return t.kicked, err
}

// block gives way until another task makes t ready again (ready).
func (t *simTask) block() error {
	t.s.mu.Lock()
	return t.s.switchFrom(t, t)
}

// ready queues a blocked task to run now, after the tasks already due now.
func (s *sim) ready(t *simTask) {
	s.mu.Lock()
	if t.at < 0 {
		s.push(t, s.clock.Now())
	}
	s.mu.Unlock()
}

// exit ends t and gives the token on.
func (t *simTask) exit() {
	s := t.s
	if t.parent != nil {
		delete(t.parent.children, t)
	}
	s.mu.Lock()
	if err := s.switchFrom(nil, t); err != nil && t.parent == nil {
		// The adopted task ends the sim; nothing is left to run.
		return
	}
}

// kick wakes t and its descendants now: their work was canceled, so what they sleep on
// or wait for no longer matters.
func (s *sim) kick(t *simTask) {
	s.mu.Lock()
	s.kickLocked(t)
	s.mu.Unlock()
}

func (s *sim) kickLocked(t *simTask) {
	if t.at >= 0 {
		t.kicked = true
		s.seq++
		t.wake, t.seq = s.clock.Now(), s.seq
		heap.Fix(&s.queue, t.at)
	}
	for c := range t.children {
		s.kickLocked(c)
	}
}

// acquire takes a bulkhead slot on virtual time: a task that finds the bulkhead full
// gives way until a slot frees (released) or wait has passed.
func (t *simTask) acquire(ctx context.Context, b *policy.Bulkhead, wait time.Duration) error {
	if b.TryAcquire() {
		return nil
	}
	if wait <= 0 {
		return policy.ErrBulkheadFull
	}
	s := t.s
	deadline := s.clock.Now().Add(wait)
	for {
		s.mu.Lock()
		s.waiters[b] = append(s.waiters[b], t)
		t.kicked = false
		s.push(t, deadline)
		err := s.switchFrom(t, t)
		s.mu.Lock()
		s.waiters[b] = removeTask(s.waiters[b], t)
		s.mu.Unlock()
		switch {
		case err != nil:
			return err
		case b.TryAcquire():
			return nil
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case !s.clock.Now().Before(deadline):
			return policy.ErrBulkheadFull
		}
	}
}

// released tells the task waiting longest for b that a slot is free.
func (s *sim) released(b *policy.Bulkhead) {
	s.mu.Lock()
	if ws := s.waiters[b]; len(ws) > 0 && ws[0].at >= 0 && !ws[0].kicked {
		w := ws[0]
		w.kicked = true
		s.seq++
		w.wake, w.seq = s.clock.Now(), s.seq
		heap.Fix(&s.queue, w.at)
	}
	s.mu.Unlock()
}

func removeTask(ts []*simTask, t *simTask) []*simTask {
	for i, x := range ts {
		if x == t {
			return append(ts[:i], ts[i+1:]...)
		}
	}
	return ts
}

// taskQueue orders tasks by wake-up time, then by when they were queued.
type taskQueue []*simTask

func (q taskQueue) Len() int { return len(q) }
func (q taskQueue) Less(i, j int) bool {
	if !q[i].wake.Equal(q[j].wake) {
		return q[i].wake.Before(q[j].wake)
	}
	return q[i].seq < q[j].seq
}
func (q taskQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].at, q[j].at = i, j
}
func (q *taskQueue) Push(x any) {
	t := x.(*simTask)
	t.at = len(*q)
	*q = append(*q, t)
}
func (q *taskQueue) Pop() any {
	old := *q
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	t.at = -1
	return t
}

// taskClock is a task's view of its sim's virtual clock: Sleep gives way to the other
// tasks until the clock reaches the wake-up time.
type taskClock struct{ t *simTask }

// Now returns the sim's virtual time.
func (c *taskClock) Now() time.Time { return c.t.s.clock.Now() }

func (c *taskClock) virtual() *VirtualClock { return c.t.s.clock }

// Sleep waits for d of virtual time while the other tasks run, or until the context's
// virtual deadline (then context.DeadlineExceeded) or its cancellation.
func (c *taskClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		return err
	}
	target := c.Now().Add(max(d, 0))
	var err error
	if dl, ok := ctx.Value(virtualDeadlineKey{}).(time.Time); ok && target.After(dl) {
		target, err = dl, context.DeadlineExceeded
	}
	kicked, serr := c.t.sleepUntil(target)
	switch {
	case serr != nil:
		return serr
	case kicked && ctx.Err() != nil:
		return context.Cause(ctx)
	}
	return err
}

// WithTimeout is the sim's virtual clock's.
func (c *taskClock) WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return c.t.s.clock.WithTimeout(ctx, d)
}

// After is the sim's virtual clock's: it fires when the tasks' sleeps move time far
// enough.
func (c *taskClock) After(d time.Duration) <-chan time.Time { return c.t.s.clock.After(d) }

// Advance lets d of virtual time pass for this task, while the others run.
func (c *taskClock) Advance(d time.Duration) { _ = c.Sleep(context.Background(), d) }

// advancer is a virtual clock: one that moves when told to rather than with the wall.
type advancer interface {
	Clock
	Advance(d time.Duration)
}

// Simulate runs n pieces of work, typically runs of a Graph, on one discrete-event
// virtual clock: piece i starts at the clock's reading plus i×interval and gets a clock of
// its own to run on, and all of them go on at once in virtual time while exactly one
// runs in real time. What they share (breakers, bulkheads) sees their calls in
// virtual-time order, so the outcome is the same bytes on every call, whatever the Go
// scheduler does; there is no concurrency to choose. Simulate returns when every piece
// has returned; once ctx ends no further piece starts.
func Simulate(ctx context.Context, clock *VirtualClock, n int, interval time.Duration, work func(i int, clock Clock)) {
	if n <= 0 {
		return
	}
	s := newSim(clock)
	root := s.adopt()
	start := clock.Now()
	active := 0
	generating := true
	finished := func() {
		if active == 0 && !generating {
			s.ready(root)
		}
	}
	s.spawn(root, ctx, func(gen *simTask, _ context.Context) {
		for i := range n {
			if ctx.Err() != nil {
				break
			}
			// Wait for the piece's arrival; with none to wait for, still give way, so
			// that a piece which never sleeps ends before the next starts and the
			// goroutines alive are the pieces in flight, not all n.
			at := start.Add(time.Duration(i) * interval)
			if now := clock.Now(); !at.After(now) {
				at = now
			}
			if _, err := gen.sleepUntil(at); err != nil {
				break
			}
			active++
			s.spawn(root, ctx, func(t *simTask, _ context.Context) {
				work(i, t.clock)
				active--
				finished()
			})
		}
		generating = false
		finished()
	})
	_ = root.block()
}
