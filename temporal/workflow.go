package temporal

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

// RunWorkflow is the name of the run workflow.
const RunWorkflow = "kgrun.run"

// RunRequest starts a run: the workflow (its bundle, addressed by content hash, so that
// every worker interprets the same version) and the run's options.
type RunRequest struct {
	Bundle   engine.Bundle  `json:"bundle"`
	Hash     string         `json:"hash"`
	Scenario string         `json:"scenario,omitempty"`
	Seed     int64          `json:"seed"`
	Params   map[string]any `json:"params,omitempty"`
	Input    map[string]any `json:"input,omitempty"`
	Shared   map[string]any `json:"shared,omitempty"`
	MaxSteps int            `json:"max_steps,omitempty"`
	// Env holds the values of the environment variables the workflow lists, read where
	// the run was started: workflow code must not read a worker's environment. They are
	// kept in the run's history like every input, secrets too.
	Env map[string]string `json:"env,omitempty"`
	// DisableBreakers runs as if no node had a breaker.
	DisableBreakers bool `json:"disable_breakers,omitempty"`
	// SharedState says where named breakers and bulkheads live: SharedCluster (the
	// default) or SharedRun.
	SharedState string `json:"shared_state,omitempty"`
	// Trace asks for the run's events in the reply.
	Trace bool `json:"trace,omitempty"`
	// Order is how map items and parallel branches go on: OrderParallel (the default)
	// or OrderExact (see order.go).
	Order string `json:"order,omitempty"`
}

// NewRunRequest returns the request that runs g (loaded from a file, so it has its
// bundle) with the given options.
func NewRunRequest(g *engine.Graph, opts engine.RunOptions) RunRequest {
	b := g.Bundle()
	req := RunRequest{Bundle: b, Hash: b.Hash(), Scenario: opts.Scenario, Seed: opts.Seed, Params: opts.Params,
		Input: opts.Input, Shared: opts.Shared, MaxSteps: opts.MaxSteps, DisableBreakers: opts.DisableBreakers}
	if opts.Env != nil {
		for _, v := range g.Spec().Env {
			if val, ok := opts.Env(v.Name); ok {
				if req.Env == nil {
					req.Env = map[string]string{}
				}
				req.Env[v.Name] = val
			}
		}
	}
	return req
}

// RunReply is what a run on the cluster produced: its result in portable form and, when
// asked, its events.
type RunReply struct {
	Result *engine.PortableResult `json:"result"`
	Events []engine.Event         `json:"events,omitempty"`
}

// eventLog collects a run's events for the reply.
type eventLog struct{ events []engine.Event }

func (l *eventLog) Event(e engine.Event) { l.events = append(l.events, e) }

// runWorkflow is the engine's run loop as a Temporal workflow (see the package doc).
func (w *Worker) runWorkflow(wctx workflow.Context, req RunRequest) (*RunReply, error) {
	g, err := loadBundle(req.Hash, req.Bundle, w.newRegistry())
	if err != nil {
		return nil, err
	}
	memoV := memoVersion(wctx)
	if err := recordStart(wctx, memoV, g.Spec().Name, req); err != nil {
		return nil, err
	}
	ctx, cancel := runContext(wctx)
	defer cancel(nil)
	info := workflow.GetInfo(wctx)
	backend := &engine.Backend{
		Dispatch: &dispatcher{g: g, hash: req.Hash, bundle: req.Bundle, opts: &w.opts},
	}
	switch req.SharedState {
	case SharedRun:
		backend.Breakers = newRunBreakers(g)
		backend.Bulkheads = &runBulkheads{inUse: map[string]int{}}
	case SharedCluster, "":
		configs := map[string]policy.BreakerConfig{}
		for _, c := range g.BreakerConfigs() {
			configs[c.Name] = c
		}
		holder := info.WorkflowExecution.ID + "/" + info.WorkflowExecution.RunID
		backend.Breakers = &clusterBreakers{wf: g.Spec().Name, holder: holder, taskQueue: info.TaskQueueName, configs: configs}
		backend.Bulkheads = &clusterBulkheads{wf: g.Spec().Name, holder: holder,
			taskQueue: info.TaskQueueName, held: map[string][]*heldSlot{}}
	default:
		return nil, fmt.Errorf("shared_state %q: want %q or %q", req.SharedState, SharedCluster, SharedRun)
	}
	opts := engine.RunOptions{
		Scenario: req.Scenario, Seed: req.Seed, Params: req.Params, Input: req.Input, Shared: req.Shared,
		MaxSteps: req.MaxSteps, DisableBreakers: req.DisableBreakers,
		Clock: workflowClock{root: wctx}, Backend: backend,
		Env: func(name string) (string, bool) { v, ok := req.Env[name]; return v, ok },
	}
	if err := applyOrder(wctx, req.Order, backend, &opts); err != nil {
		return nil, err
	}
	var log *eventLog
	if req.Trace {
		log = &eventLog{}
		opts.Tracer = log
	}
	res, err := g.Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	if cb, ok := backend.Breakers.(*clusterBreakers); ok && cb.failed != nil {
		return nil, cb.failed
	}
	if err := recordEnd(wctx, memoV, res); err != nil {
		return nil, err
	}
	reply := &RunReply{Result: res.Portable()}
	if log != nil {
		reply.Events = log.events
	}
	return reply, nil
}

// group runs a composite node's workers as coroutines of the workflow, each with its own
// workflow context carried in its Go context, and waits for all of them.
func group(ctx context.Context, k int, worker func(ctx context.Context, w int)) {
	wctx := workflowOf(ctx)
	wg := workflow.NewWaitGroup(wctx)
	wg.Add(k)
	for w := range k {
		workflow.Go(wctx, func(c workflow.Context) {
			defer wg.Done()
			worker(withWorkflow(ctx, c), w)
		})
	}
	wg.Wait(wctx)
}
