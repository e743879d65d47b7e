package engine

// A composite node's child runs: how one is started from its parent, how its events
// reach the parent's trace, and what of it the parent keeps.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// fanout is one composite visit's children in flight.
type fanout struct {
	parent *run
	a      *Attempt
	node   *node
	visit  int

	mu sync.Mutex // orders the children's events on the real clock
}

// emit passes a child's event into the parent's trace.
func (f *fanout) emit(e Event) {
	f.mu.Lock()
	f.a.emit(e)
	f.mu.Unlock()
}

// scopeTracer is a child run's Tracer: it names the child in each event's scope and
// hands the event to the parent.
type scopeTracer struct {
	f     *fanout
	scope string
}

func (t *scopeTracer) Event(e Event) {
	switch e.Kind {
	case EventRunStart, EventRunResumed:
		// The child's start and end name the composite node; the child's own start
		// node is its first node_start.
		e.Kind, e.Node = EventScopeStart, t.f.node.name
	case EventRunEnd:
		e.Kind, e.Node = EventScopeEnd, t.f.node.name
	}
	if e.Scope == "" {
		e.Scope = t.scope
	} else {
		e.Scope = t.scope + "/" + e.Scope
	}
	t.f.emit(e)
}

// childOutcome is how one child run ended.
type childOutcome struct {
	status Status
	output any
	err    error
	// degradations are the child's reasons for a degraded status.
	degradations []string
}

// nullLoggerType is the type of hclog.NewNullLogger's logger, which a run without a
// Logger has.
var nullLoggerType = reflect.TypeOf(hclog.NewNullLogger())

// streamChild is the purpose of a child run's seed.
const streamChild uint64 = 64

// scopeName names a child run in events, logs and messages: "fan[3]" for a map's item
// (index ≥ 0), "both/left" for a branch, "call" for a called workflow. It is built only
// where it is shown, not for every item.
type scopeName struct {
	name  string
	index int
}

func (s scopeName) String() string {
	if s.index < 0 {
		return s.name
	}
	return s.name + "[" + strconv.Itoa(s.index) + "]"
}

// runChild runs bg once as a child of f's visit, on shared (which it copies).
func (f *fanout) runChild(ctx context.Context, bg *bodyGraph, clock Clock, scope scopeName, key int, cr *childRun, shared map[string]any) childOutcome {
	pr := f.parent
	if !cr.ownInput {
		cr.input, cr.env = pr.input, pr.envVals
	} else {
		env, err := envValues(bg.g.spec, pr.envLookup)
		if err != nil {
			return childOutcome{status: StatusFailed, err: WithKind(Data, err)}
		}
		cr.env = env
	}
	cr.prefix = pr.prefix
	if cr.ownInput {
		cr.prefix += pr.g.path(f.node) + "/"
	}
	cr.logger = pr.logger
	if reflect.TypeOf(pr.logger) != nullLoggerType {
		// hclog's null logger's With returns it; its variadic call would cost two
		// allocations per item.
		cr.logger = pr.logger.With("scope", scope.String())
	}
	if bg.defaultOutput {
		if cr.written == nil {
			cr.written = map[string]struct{}{}
		}
	}
	seed := int64(mix(mix(uint64(pr.seed)^mix(f.node.hash)) ^ uint64(f.visit)<<32 ^ uint64(key)<<8 ^ streamChild))
	scenario := pr.scenarioName
	if _, ok := bg.g.scenarios[scenario]; !ok && cr.ownInput {
		scenario = "" // a called workflow runs the caller's scenario only if it declares one of that name
	}
	opts := RunOptions{
		Scenario: scenario, Seed: seed, Params: pr.params, Shared: shared, Clock: clock,
		DisableBreakers: pr.noBreakers, Backend: pr.backend, child: cr,
	}
	if pr.tracer != nil {
		opts.Tracer = &scopeTracer{f: f, scope: scope.String()}
	}
	r, err := bg.g.newRun(opts)
	if err != nil {
		return childOutcome{status: StatusFailed, err: err}
	}
	r.drive(ctx)
	r.stopWorker()
	res := r.res
	o := childOutcome{status: res.Status, err: res.Err, degradations: res.Degradations}
	switch {
	case bg.value != nil:
		env := r.exprEnv()
		env["result"], env["node"], env["attempt"] = nil, "", 0
		r.vm.begin(context.Background(), bg.g.exprLimits)
		v, eerr := bg.value.eval(&r.vm, r.exprEnv())
		if eerr != nil && o.err == nil {
			o.status, o.err = StatusFailed, fmt.Errorf("output: %w", eerr)
		}
		o.output = v
	case len(bg.g.output) > 0:
		o.output = res.Output
	default:
		o.output = writtenOutput(res.Shared, cr)
	}
	if o.status == StatusFailed && o.err == nil {
		o.err = errors.New(firstOr(res.Degradations, "the run failed"))
	}
	r.release()
	return o
}

// writtenOutput is the output of a body that declares none: the keys of the child's
// store its visits wrote (every key when a visit took the whole store). When the keys
// written are the store's keys, the store itself is that output: the child has ended,
// so nothing writes it again, and copying it would cost a map per item.
func writtenOutput(shared map[string]any, cr *childRun) map[string]any {
	if !cr.all && len(cr.written) == len(shared) {
		every := true
		for k := range shared {
			if _, ok := cr.written[k]; !ok {
				every = false
				break
			}
		}
		if every {
			return shared
		}
	}
	out := map[string]any{}
	for k, val := range shared {
		if _, ok := cr.written[k]; ok || cr.all {
			out[k] = val
		}
	}
	return out
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}
