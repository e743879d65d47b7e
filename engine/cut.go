package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// On the real clock, an attempt under a per-attempt timeout runs exec on a goroutine
// other than the run's (the run's exec worker), so that the timeout cuts it even when
// exec ignores ctx, never returns, or ends its goroutine with runtime.Goexit. The run
// loop waits for the first of: exec's result, the deadline, the run's cancellation.
// (On a virtual clock timed attempts run on the run's goroutine under a watchdog: see
// hang.go.)
//
// Exec's goroutine never writes run state. What it would write (trace events from fault
// injection) goes through its Attempt to an attemptRelay: the run loop takes the events
// over, in order, whenever they arrive and once more when the attempt ends, so each
// event is numbered and delivered by the run loop alone. When the run abandons the
// attempt at its deadline the relay is closed: a late exec's events are dropped and its
// sleeps on the run's clock fail at once.

// ErrAttemptAbandoned is what a late exec's sleeps return once its attempt has been cut.
var ErrAttemptAbandoned = errors.New("attempt abandoned: its timeout passed or the run was canceled")

// VirtualHangAfter is how much real time an attempt under a timeout may take on a
// virtual clock, where computation takes no virtual time, before it counts as hung: the
// attempt is then cut at its virtual deadline, as the real clock would have cut it. The
// bound is the node's timeout, but never less than this, so that real work which is
// merely slow (a loaded machine, a loopback call) is not mistaken for a hang.
const VirtualHangAfter = 100 * time.Millisecond

// attemptRelay carries what exec's goroutine emits to the run loop.
type attemptRelay struct {
	mu        sync.Mutex
	pending   []Event
	abandoned bool
	// notify has room for one signal: "events are pending".
	notify chan struct{}
}

// push queues e for the run loop, or drops it when the attempt was abandoned.
func (rl *attemptRelay) push(e Event) {
	rl.mu.Lock()
	if !rl.abandoned {
		rl.pending = append(rl.pending, e)
	}
	rl.mu.Unlock()
	select {
	case rl.notify <- struct{}{}:
	default:
	}
}

// take hands the pending events to the run loop; abandon also closes the relay.
func (rl *attemptRelay) take(abandon bool) []Event {
	rl.mu.Lock()
	evs := rl.pending
	rl.pending = nil
	if abandon {
		rl.abandoned = true
	}
	rl.mu.Unlock()
	return evs
}

// relayClock is the run's real clock as a cut attempt sees it: once the attempt is
// abandoned, its sleeps fail at once.
type relayClock struct {
	Clock
	relay *attemptRelay
}

func (c relayClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.relay.closed() {
		return ErrAttemptAbandoned
	}
	return c.Clock.Sleep(ctx, d)
}

func (rl *attemptRelay) closed() bool {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.abandoned
}

// emit sends an event of exec's goroutine: straight to the run when exec runs on the
// run loop, through the relay when it runs on its own goroutine.
func (a *Attempt) emit(e Event) {
	r := a.r
	if r.tracer == nil {
		return
	}
	if g := a.hang; g != nil {
		g.mu.Lock()
		if g.state != hangAbandoned {
			r.emit(e)
		}
		g.mu.Unlock()
		return
	}
	if a.relay == nil {
		r.emit(e)
		return
	}
	e.At = Duration(a.clock.Now().Sub(r.start))
	a.relay.push(e)
}

// execResult is how exec's goroutine ended.
type execResult struct {
	out any
	err error
}

// execJob is one attempt handed to an exec worker.
type execJob struct {
	ctx   context.Context
	n     *node
	input any
	call  int
}

// execWorker is the goroutine a run's cut attempts execute on, one attempt at a time.
// A run keeps its worker from attempt to attempt, so a timed attempt costs two channel
// handoffs rather than a new goroutine. A worker whose attempt is abandoned belongs to
// that attempt alone: it ends once exec returns, and the run starts another.
//
// A worker that stopped cleanly is kept by its run struct (spareWorker) with its
// channels, relay and attempt, and serves the next run that reuses the struct (see
// reuse.go): only its goroutine is new, taken from the idle drivers.
type execWorker struct {
	r     *run // the run struct the worker belongs to, for its whole life
	jobs  chan execJob
	done  chan execResult
	relay attemptRelay
	att   Attempt
	clock relayClock // att's clock
	serve func()     // starts serving jobs, on a driver
}

func (r *run) startWorker() *execWorker {
	w := r.spareWorker
	r.spareWorker = nil
	if w == nil {
		w = &execWorker{r: r, jobs: make(chan execJob, 1), done: make(chan execResult, 1)}
		w.relay.notify = make(chan struct{}, 1)
		w.att.rng = newStream()
		w.serve = w.serveJobs
	}
	w.relay.pending, w.relay.abandoned = nil, false
	w.clock = relayClock{Clock: r.clock, relay: &w.relay}
	w.att = Attempt{r: r, rng: w.att.rng, relay: &w.relay, clock: &w.clock}
	goDriven(w.serve)
	return w
}

// serveJobs runs jobs until a stop job (no node) or a closed channel, which the run
// sends when it stops or abandons an attempt, or until exec calls runtime.Goexit.
func (w *execWorker) serveJobs() {
	for job := range w.jobs {
		if job.n == nil || !w.exec(w.r, job) {
			return
		}
	}
}

// exec runs one job, reporting false when exec ended the goroutine with runtime.Goexit.
func (w *execWorker) exec(r *run, job execJob) (returned bool) {
	defer func() {
		if !returned { // recover sees no panic: exec called runtime.Goexit
			w.done <- execResult{err: goexitError(job.n, "exec")}
		}
	}()
	out, err := r.callExecAt(job.ctx, job.n, &w.att, job.input, job.call)
	w.done <- execResult{out, err}
	return true
}

// stopWorker ends the run's idle worker's goroutine and keeps the worker for the next
// run of the struct.
func (r *run) stopWorker() {
	if w := r.worker; w != nil {
		w.jobs <- execJob{} // stop
		r.worker, r.spareWorker = nil, w
	}
}

// callExecCut runs one attempt's exec on the run's worker under actx, the attempt's
// timeout context (ctx is the run's). It returns exec's result, or the deadline's or the
// cancellation's error when those come first; the worker then ends whenever exec
// returns, and nothing it does afterwards reaches the run.
func (r *run) callExecCut(ctx, actx context.Context, n *node, v *Visit, input any, number int) (any, error) {
	w := r.worker
	if w == nil {
		w = r.startWorker()
		r.worker = w
	}
	// The worker is idle: nothing else touches its attempt or relay now.
	a := &w.att
	a.n, a.visit, a.number, a.params = n, v.number, number, v.params
	r.calls[n.index]++
	w.jobs <- execJob{ctx: actx, n: n, input: input, call: r.calls[n.index]}
	out, err, ok := r.await(ctx, actx, n, w)
	if !ok {
		w.relay.take(true)
		close(w.jobs) // the worker ends when its exec returns
		r.worker = nil
		r.leaked = true // the worker holds the run until exec returns
	}
	return out, err
}

// await waits for the worker's result. It reports ok=false when it gives up on the
// attempt, which the caller then abandons.
func (r *run) await(ctx, actx context.Context, n *node, w *execWorker) (out any, err error, ok bool) {
	for {
		select {
		case res := <-w.done:
			r.deliver(w.relay.take(false))
			var ge *goexitErr
			if errors.As(res.err, &ge) {
				return res.out, res.err, false // the worker is gone
			}
			return res.out, res.err, true
		case <-w.relay.notify:
			r.deliver(w.relay.take(false))
		case <-actx.Done():
			r.deliver(w.relay.take(true))
			return nil, context.Cause(actx), false
		case <-ctx.Done():
			r.deliver(w.relay.take(true))
			return nil, context.Cause(ctx), false
		}
	}
}

// deliver numbers and sends events that exec's goroutine emitted.
func (r *run) deliver(evs []Event) {
	for _, e := range evs {
		r.seq++
		e.Seq = r.seq
		r.tracer.Event(e)
	}
}

// goexitErr is what a node's phase that ended its goroutine with runtime.Goexit becomes.
type goexitErr struct {
	node, phase string
}

func (e *goexitErr) Error() string {
	return fmt.Sprintf("node %q: %s called runtime.Goexit, which ends the goroutine running it; return an error instead", e.node, e.phase)
}

func goexitError(n *node, phase string) error {
	return WithKind(Internal, &goexitErr{node: n.name, phase: phase})
}
