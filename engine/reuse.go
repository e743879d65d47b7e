package engine

import "sync"

// A run's state is a large struct with maps, slices, an expression machine and, for
// timed attempts on a virtual clock, a watchdog: building it was most of what a short
// run cost. Graph.Run hands a finished run's struct to the next run, keeping what can
// be refilled (runKeep: the per-node counters, the params and expression maps, the
// expression machine, the watchdog and its guard, the real clock's exec worker, the done
// channel). A top-level run's Result and everything it holds are the caller's and never
// reused; a child run's Result lives in the struct, read by its parent before the
// struct is handed on.
//
// A struct is reused only when nothing but the caller's goroutine can reach it once Run
// returns: not after node code ended the loop's goroutine, not after the watchdog took
// the run over from a hung exec or an attempt was abandoned on the real clock (those
// goroutines may still return into the run), not while a timer or cancellation watch
// may be firing, and never for runs on a backend, whose host schedules their
// goroutines. A composite node's child run is handed on once its outcome is read.

var runPool sync.Pool

// maxPathBuf bounds the path array a run struct keeps for its next child run.
const maxPathBuf = 64

// takeRun returns a run struct for a run of g: a finished run's, emptied, or a new one.
func takeRun(g *Graph) *run {
	r, _ := runPool.Get().(*run)
	if r == nil {
		r = &run{}
		r.execRNG.init()
		r.visitRNG.init()
		r.jitter.init()
	}
	r.reset(g)
	return r
}

// reset empties r for a run of g, keeping the pieces a run refills.
func (r *run) reset(g *Graph) {
	r.runState = runState{}
	n := len(g.nodes)
	r.visits, r.calls, r.faults = sized(r.visits, n), sized(r.calls, n), sized(r.faults, n)
	if r.params == nil {
		r.params = make(map[string]any, len(g.params))
	} else {
		clear(r.params)
	}
	clear(r.env)       // a map item's run leaves item and index behind
	r.vm.ready = false // the budget goes back into env, with g's limits
	if h := r.hang.Load(); h != nil {
		h.att = Attempt{rng: h.att.rng} // nothing of the last run's attempt
	}
	r.visit.r = r
}

// sized returns s cleared to length n, reusing its array when it is large enough.
func sized[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// release hands r to the next run, unless another goroutine may still reach it.
func (r *run) release() {
	if r.leaked || r.backend != nil || r.worker != nil {
		return
	}
	if g := r.hang.Load(); g != nil && g.state != hangIdle {
		return
	}
	if r.res == &r.childRes && cap(r.res.Path) <= maxPathBuf {
		r.pathBuf = r.res.Path[:0]
	}
	// What the finished run pointed to (its result, shared store, tracer) stays
	// reachable from the pool until the next run resets the struct or the pool lets
	// it go at a collection: zeroing it here would cost the write barriers twice.
	runPool.Put(r)
}
