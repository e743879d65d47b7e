package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/kgrun/kgrun/engine/policy"
)

// A Backend is how a run reaches the parts another execution engine provides instead of
// this process: where each attempt's exec runs, where the named breakers and the
// bulkheads live, and how a composite node's items run side by side. The run loop itself
// (prep, post, hooks, guards, routing, retries and their waits, fault injection) stays
// here and keeps its semantics; only the seams move.
//
// A run with a Backend runs its loop on the caller's goroutine and starts no goroutine of
// its own: a host such as a Temporal workflow schedules its own. Its clock (RunOptions.
// Clock) must then be one whose Sleep yields to that host. What the local engine's own
// goroutines buy is then the backend's to provide: an exec that ignores its context is
// cut by the dispatcher's timeout, and a node's runtime.Goexit is not contained.
type Backend struct {
	// Dispatch runs each attempt's exec (after the scenario's faults, which are the
	// run's). Nil runs it in this process, on the caller's goroutine.
	Dispatch ExecDispatcher
	// Breakers holds the named breakers; nil uses the graph's own.
	Breakers BreakerSet
	// Bulkheads holds the nodes' bulkheads; nil uses the graph's own.
	Bulkheads BulkheadSet
	// Group runs k workers of a composite node (map items, parallel branches) and returns
	// when all have; each gets a context derived from ctx. Nil runs them one after
	// another on the caller's goroutine.
	Group func(ctx context.Context, k int, worker func(ctx context.Context, w int))
	// Tasks, when not nil, runs the workers in the local engine's virtual-time order
	// instead of through Group: the run is the root task of a discrete-event scheduler
	// (sim.go) whose tasks Tasks carries, one holding the run at a time, and the run's
	// clock (RunOptions.Clock) must be a *VirtualClock. Children then reach breakers,
	// bulkheads and routing in the order they do on the local engine; their execs run
	// one at a time.
	Tasks TaskHost
}

// TaskHost carries the tasks of a run's virtual-time scheduler on a host's own
// concurrency, such as the coroutines of a Temporal workflow. The scheduler decides which
// task runs; the host only starts, parks and wakes them and lets time pass.
type TaskHost interface {
	// Go runs f on a new carrier, with a context derived from ctx that names it.
	Go(ctx context.Context, f func(ctx context.Context))
	// Await parks the carrier that ctx names until cond holds; cond is changed only by
	// other carriers. Cancellation must not end the wait.
	Await(ctx context.Context, cond func() bool)
	// Sleep lets d pass on the host's own clock, on the carrier ctx names, before the
	// scheduler's virtual time moves by d (which it does however Sleep ends).
	Sleep(ctx context.Context, d time.Duration)
}

// VirtualDeadline is the deadline on the run's virtual clock that ctx carries (a
// per-attempt timeout's), for a dispatcher that bounds the remote exec by what is left.
func VirtualDeadline(ctx context.Context) (time.Time, bool) {
	dl, ok := ctx.Value(virtualDeadlineKey{}).(time.Time)
	return dl, ok
}

// hostRoot makes a run on a backend with Tasks the root task of a scheduler of its own.
func (r *run) hostRoot() error {
	vc, ok := r.clock.(*VirtualClock)
	if !ok {
		return fmt.Errorf("a backend that carries the run's tasks needs a *VirtualClock, not %T", r.clock)
	}
	s := newSim(vc)
	s.host = r.backend.Tasks
	r.task = s.adopt()
	r.clock = r.task.clock
	return nil
}

// ExecDispatcher runs an attempt's exec somewhere else. The error it returns is the
// attempt's: it should carry the exec's Kind (WithKind) and its retry-after hint
// (policy.WithRetryAfter), and a per-attempt timeout should come back as kind timeout.
type ExecDispatcher interface {
	Exec(ctx context.Context, call *ExecCall) (any, error)
}

// ExecCall is everything an exec needs to run in another process that holds the same
// compiled graph (see Graph.ExecAttempt): which node, which attempt, and the values the
// attempt can read.
type ExecCall struct {
	// Node is the node's path ("fan/check" inside a map's body).
	Node string `json:"node"`
	// Type is the node's type name.
	Type    string `json:"type"`
	Visit   int    `json:"visit"`
	Attempt int    `json:"attempt"`
	// Call counts this node's exec calls in the run, from 1.
	Call int   `json:"call"`
	Seed int64 `json:"seed"`
	// Now is the run's clock when the attempt was dispatched: the exec's clock reads
	// on from there, so the times it records are the run's.
	Now time.Time `json:"now"`
	// Timeout is the node's per-attempt timeout (0 for none).
	Timeout time.Duration `json:"timeout,omitempty"`
	// RunParams are the run's parameters; NodeParams the node's, evaluated for this
	// visit (nil when it has none).
	RunParams  map[string]any `json:"run_params,omitempty"`
	NodeParams map[string]any `json:"node_params,omitempty"`
	// Input is what prep returned.
	Input any `json:"input"`
}

// BreakerSet holds named breakers that the runs of one or more processes share. The
// time given is the run's clock; a set that keeps time of its own may use that instead.
// ctx is the asking run's (its host may need to know which of its coroutines asks).
type BreakerSet interface {
	Allow(ctx context.Context, name string, now time.Time) (policy.Ticket, bool, policy.Transition)
	Record(ctx context.Context, name string, t policy.Ticket, now time.Time, o policy.Outcome) policy.Transition
	Snapshot(ctx context.Context, name string) policy.Snapshot
}

// BulkheadSet holds the bulkheads that the runs of one or more processes share, one per
// node path. Acquire waits up to wait for one of limit slots (failing with kind resource
// when none frees up); every successful Acquire is followed by one Release.
type BulkheadSet interface {
	Acquire(ctx context.Context, node string, limit int, wait time.Duration) error
	Release(ctx context.Context, node string)
}

// path is the node's path in the workflow: its name prefixed by the bodies it is in.
func (g *Graph) path(n *node) string { return g.scope + n.name }

// execCall describes the attempt a for a dispatcher.
func (r *run) execCall(n *node, a *Attempt, input any) *ExecCall {
	return &ExecCall{
		Node: r.prefix + r.g.path(n), Type: n.typ.Name, Visit: a.visit, Attempt: a.number, Call: a.call,
		Seed: r.seed, Now: r.clock.Now(), Timeout: n.timeout, RunParams: r.params, NodeParams: a.params, Input: input,
	}
}

// acquireShared takes a slot of the backend's bulkhead of n. On a host's scheduler it
// first takes one of the graph's own, in the scheduler's order: the task then waits for a
// sibling's slot as on the local engine, instead of holding the run while the set waits
// for a slot only that sibling could free.
func (r *run) acquireShared(ctx context.Context, bs BulkheadSet, n *node) error {
	if r.task == nil {
		return bs.Acquire(ctx, r.prefix+r.g.path(n), n.spec.Bulkhead.MaxConcurrent, n.bulkWait)
	}
	start := r.clock.Now()
	if err := r.task.acquire(ctx, n.bulkhead, n.bulkWait); err != nil {
		return err
	}
	err := bs.Acquire(ctx, r.prefix+r.g.path(n), n.spec.Bulkhead.MaxConcurrent, max(n.bulkWait-r.clock.Now().Sub(start), 0))
	if err != nil {
		r.releaseOwn(n)
	}
	return err
}

// releaseOwn frees the slot of the graph's own bulkhead of n that a task of a host's
// scheduler took beside the backend's.
func (r *run) releaseOwn(n *node) {
	n.bulkhead.Release()
	r.task.s.released(n.bulkhead)
}

// bulkheads is the backend's bulkhead set, or nil for the graph's own bulkheads.
func (r *run) bulkheads() BulkheadSet {
	if r.backend == nil {
		return nil
	}
	return r.backend.Bulkheads
}

// faultOf is the scenario's active fault on n, or nil (a run that executes dispatched
// attempts has no faults of its own: the dispatching run injected them).
func (r *run) faultOf(n *node) *activeFault {
	if r.faults == nil {
		return nil
	}
	return r.faults[n.index]
}

// breakerAllow asks the node's breaker b whether an attempt may go ahead.
func (r *run) breakerAllow(ctx context.Context, b *policy.Breaker) (policy.Ticket, bool, policy.Transition) {
	if r.backend != nil && r.backend.Breakers != nil {
		return r.backend.Breakers.Allow(ctx, b.Config().Name, r.clock.Now())
	}
	return b.Allow(r.clock.Now())
}

// breakerRecord reports an attempt's outcome to b.
func (r *run) breakerRecord(b *policy.Breaker, t policy.Ticket, o policy.Outcome) policy.Transition {
	if r.backend != nil && r.backend.Breakers != nil {
		return r.backend.Breakers.Record(r.ctx, b.Config().Name, t, r.clock.Now(), o)
	}
	return b.Record(t, r.clock.Now(), o)
}

// breakerSnapshots returns the run's view of every breaker, in declaration order.
func (r *run) breakerSnapshots() []policy.Snapshot {
	if r.backend == nil || r.backend.Breakers == nil {
		return r.g.Breakers()
	}
	out := make([]policy.Snapshot, 0, len(r.g.breakerNames))
	for _, name := range r.g.breakerNames {
		out = append(out, r.backend.Breakers.Snapshot(r.ctx, name))
	}
	return out
}

// BreakerConfigs returns the configuration of every breaker, in declaration order, for
// a BreakerSet that creates them where they are kept.
func (g *Graph) BreakerConfigs() []policy.BreakerConfig {
	out := make([]policy.BreakerConfig, 0, len(g.breakerNames))
	for _, name := range g.breakerNames {
		out = append(out, g.breakers[name].Config())
	}
	return out
}

// NodeTypeOf returns the type of the node at path ("fan/check" inside a map's body).
func (g *Graph) NodeTypeOf(path string) (*NodeType, bool) {
	n, _, err := g.nodeAt(path)
	if err != nil {
		return nil, false
	}
	return n.typ, true
}

// nodeAt finds the node at path and the graph (workflow or body) it belongs to.
func (g *Graph) nodeAt(path string) (*node, *Graph, error) {
	cur := g
	rest := path
	for {
		name, tail, nested := strings.Cut(rest, "/")
		n := cur.byName[name]
		if n == nil {
			return nil, nil, fmt.Errorf("workflow %q has no node %q", g.spec.Name, path)
		}
		if !nested {
			return n, cur, nil
		}
		c := n.compose
		switch {
		case c == nil:
			return nil, nil, fmt.Errorf("workflow %q: node %q has no body holding %q", g.spec.Name, cur.scope+name, path)
		case c.body != nil:
			cur, rest = c.body.g, tail
			continue
		case c.callee != nil:
			cur, rest = c.callee, tail
			continue
		}
		branch, after, ok := strings.Cut(tail, "/")
		var bg *bodyGraph
		for _, b := range c.branches {
			if b.name == branch {
				bg = b
			}
		}
		if bg == nil || !ok {
			return nil, nil, fmt.Errorf("workflow %q has no node %q", g.spec.Name, path)
		}
		cur, rest = bg.g, after
	}
}

// ExecAttempt runs one attempt's exec as described by call, in this process, on the
// real clock read from call.Now on: the other side of an ExecDispatcher. The graph must be compiled from the same
// workflow as the run's. The scenario's faults are not injected again (the run did
// that); a panic in exec becomes an internal error of the node.
func (g *Graph) ExecAttempt(ctx context.Context, call *ExecCall, logger hclog.Logger) (any, error) {
	n, owner, err := g.nodeAt(call.Node)
	if err != nil {
		return nil, WithKind(Internal, err)
	}
	if n.compose != nil {
		return nil, Errorf(Internal, "node %q of type %s runs in the run's own process, not as a dispatched exec", call.Node, n.typ.Name)
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	r := &run{}
	r.g, r.clock, r.seed, r.params, r.logger = owner, offsetClock{since: time.Now(), at: call.Now}, call.Seed, call.RunParams, logger.With("workflow", g.spec.Name)
	if r.params == nil {
		r.params = map[string]any{}
	}
	a := &Attempt{r: r, n: n, visit: call.Visit, number: call.Attempt, rng: newStream(), clock: r.clock, params: call.NodeParams}
	return r.callExecAt(ctx, n, a, call.Input, call.Call)
}

// offsetClock is the real clock read from another clock's time: at when the clock was
// made, moving on in real time from there.
type offsetClock struct {
	RealClock
	since, at time.Time
}

func (c offsetClock) Now() time.Time {
	if c.at.IsZero() {
		return time.Now()
	}
	return c.at.Add(time.Since(c.since))
}
