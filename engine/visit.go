package engine

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/kgrun/kgrun/engine/policy"
)

// Visit is a node's view of the run during one visit: the shared store, parameters, the
// failure that led here, and the run's clock, randomness and logger. It is valid only
// during the call it is passed to; runs reuse it.
type Visit struct {
	r       *run
	n       *node
	number  int
	failure *NodeError
	// params are the node's params with their ${{ }} templates evaluated for this
	// visit; nil when the node has none.
	params map[string]any
}

// Node returns the name of the node being visited.
func (v *Visit) Node() string { return v.n.name }

// Number counts this node's visits in the run, from 1.
func (v *Visit) Number() int { return v.number }

// Get reads a key of the shared store. A value read may be changed in place (a map or
// a slice) before the visit ends; the journal encodes again every key a visit reads or
// writes, so a node must reach shared values through the Visit of the visit that
// changes them, not keep them across visits.
func (v *Visit) Get(key string) (any, bool) {
	val, ok := v.r.shared[key]
	v.r.touch(key)
	return val, ok
}

// Set writes a key of the shared store.
func (v *Visit) Set(key string, value any) {
	v.r.shared[key] = value
	v.r.touch(key)
}

// Shared returns the shared store itself, for nodes that read or write many keys. A
// journaled run then encodes every key at the visit's commit, as it cannot tell which
// changed; Get and Set let it encode only the keys touched.
func (v *Visit) Shared() map[string]any {
	if v.r.journal != nil {
		v.r.journal.allTouched = true
	}
	if v.r.compose != nil {
		v.r.compose.all = true
	}
	return v.r.shared
}

// Param returns a parameter: the node's own params first (with their ${{ }} templates
// evaluated for this visit), then the run's (workflow params overridden by the scenario
// and the caller).
func (v *Visit) Param(key string) (any, bool) { return param(v.r, v.n, v.params, key) }

// Params returns the run's parameters.
func (v *Visit) Params() map[string]any { return v.r.params }

// Seed returns the run's seed.
func (v *Visit) Seed() int64 { return v.r.seed }

// Scenario returns the name of the run's scenario, or "".
func (v *Visit) Scenario() string { return v.r.scenarioName }

// Rand returns a random stream derived from (seed, node, visit): the same on every run
// with the same seed, whatever other nodes do.
func (v *Visit) Rand() *rand.Rand {
	return v.r.visitRNG.at(v.r.seed, v.n.hash, v.number, 0, streamVisit)
}

// Clock returns the run's clock.
func (v *Visit) Clock() Clock { return v.r.clock }

// Elapsed returns the time since the run started, on the run's clock.
func (v *Visit) Elapsed() time.Duration { return v.r.clock.Now().Sub(v.r.start) }

// Logger returns the run's logger, named after the node, whose lines carry the
// workflow and the node.
func (v *Visit) Logger() hclog.Logger { return v.r.logger.Named(v.n.name).With("node", v.n.name) }

// Failure returns the failure that routed the run to this node (through a failure edge,
// fallback or the error handler), or nil.
func (v *Visit) Failure() *NodeError { return v.failure }

// Failures returns every failure of the run so far, handled or not.
func (v *Visit) Failures() []*NodeError { return v.r.res.Failures }

// Path returns the steps taken so far.
func (v *Visit) Path() []Step { return v.r.res.Path }

// Calls returns how many times the named node's exec has been called in this run.
func (v *Visit) Calls(node string) int {
	if n := v.r.g.byName[node]; n != nil {
		return v.r.calls[n.index]
	}
	return 0
}

// Breakers returns snapshots of the graph's breakers.
func (v *Visit) Breakers() []policy.Snapshot { return v.r.breakerSnapshots() }

// Degrade marks the run degraded (unless it is already failed) and records why.
func (v *Visit) Degrade(reason string) { v.r.degrade(v.n.name, reason) }

// Fail marks the run failed, though it continues along the node's action (to clean up,
// say); the reason is reported.
func (v *Visit) Fail(reason string) { v.r.fail(v.n.name, reason) }

// Degradations returns the reasons recorded so far for a degraded or failed status.
func (v *Visit) Degradations() []string { return v.r.res.Degradations }

// Attempt is exec's view of one attempt: its number, a random stream derived from
// (seed, node, visit, attempt), the clock and the node's parameters. Exec must not touch
// the shared store, so Attempt offers none.
type Attempt struct {
	r      *run
	n      *node
	visit  int
	number int
	call   int
	rng    *stream
	params map[string]any
	// clock is the run's clock, seen through relay when exec runs on its own goroutine.
	clock Clock
	relay *attemptRelay
	hang  *hangGuard
}

// Number is the attempt's number within the visit, from 1.
func (a *Attempt) Number() int { return a.number }

// Call counts calls to this node's exec across the whole run, from 1.
func (a *Attempt) Call() int { return a.call }

// Node returns the node's name.
func (a *Attempt) Node() string { return a.n.name }

// Seed returns the run's seed.
func (a *Attempt) Seed() int64 { return a.r.seed }

// Rand returns the attempt's random stream.
func (a *Attempt) Rand() *rand.Rand {
	return a.rng.at(a.r.seed, a.n.hash, a.visit, a.number, streamExec)
}

// Clock returns the run's clock.
func (a *Attempt) Clock() Clock { return a.clock }

// Sleep waits on the run's clock; under a per-attempt timeout it returns
// context.DeadlineExceeded at the deadline.
func (a *Attempt) Sleep(ctx context.Context, d time.Duration) error { return a.clock.Sleep(ctx, d) }

// Param returns a parameter: the node's own params first (with their ${{ }} templates
// evaluated for this visit), then the run's.
func (a *Attempt) Param(key string) (any, bool) { return param(a.r, a.n, a.params, key) }

// Logger returns the run's logger, named after the node, whose lines carry the
// workflow and the node.
func (a *Attempt) Logger() hclog.Logger { return a.r.logger.Named(a.n.name).With("node", a.n.name) }

func param(r *run, n *node, evaluated map[string]any, key string) (any, bool) {
	own := n.params
	if evaluated != nil {
		own = evaluated
	}
	if v, ok := own[key]; ok {
		return v, true
	}
	v, ok := r.params[key]
	return v, ok
}
