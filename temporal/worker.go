package temporal

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

// Worker holds what a Temporal worker process runs for kgrun: the run workflow, the
// breaker and bulkhead workflows, an exec activity per node type of its registry, and
// the shared-state local activity. It is safe for concurrent use by the SDK's
// goroutines: its only mutable state is the cache of compiled graphs, which locks.
type Worker struct {
	reg *engine.Registry
	// newRegistry gives each run's workflow code node types of its own (see NewWorker).
	newRegistry func() *engine.Registry
	opts        Options
	graphs      *graphCache
	execs       *activities
	shared      *sharedActivities
}

// NewWorker returns the worker side of the backend for the node types newRegistry
// gives. Each run's workflow code compiles its graph with a registry of its own, so
// that state node types keep in the process (the collector's cache of the last good
// batch) is the run's: workflow code reading state other runs change would not replay.
// Exec activities share one registry. The client, when not nil, is the one the
// shared-state activity uses to reach breaker and bulkhead workflows; without one only
// runs that keep that state in the run work.
func NewWorker(newRegistry func() *engine.Registry, c client.Client, opts Options) *Worker {
	reg := newRegistry()
	graphs := newGraphCache(reg)
	return &Worker{reg: reg, newRegistry: newRegistry, opts: opts, graphs: graphs,
		execs: &activities{graphs: graphs}, shared: &sharedActivities{c: c}}
}

// Registry is where a Worker registers its workflows and activities: a worker.Worker,
// or the SDK's test environment.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// WorkflowRegistry is where a Worker registers its workflows alone: a replayer.
type WorkflowRegistry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers every workflow and activity of the backend on r.
func (w *Worker) Register(r Registry) {
	w.RegisterWorkflows(r)
	for _, name := range w.reg.Names() {
		r.RegisterActivityWithOptions(w.execs.exec, activity.RegisterOptions{Name: ExecActivityPrefix + name})
	}
	r.RegisterActivityWithOptions(w.shared.ask, activity.RegisterOptions{Name: sharedActivity})
}

// RegisterWorkflows registers the backend's workflows on r.
func (w *Worker) RegisterWorkflows(r WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(w.runWorkflow, workflow.RegisterOptions{Name: RunWorkflow})
	r.RegisterWorkflowWithOptions(breakerWorkflow, workflow.RegisterOptions{Name: BreakerWorkflow})
	r.RegisterWorkflowWithOptions(bulkheadWorkflow, workflow.RegisterOptions{Name: BulkheadWorkflow})
}

// Start starts a run on the cluster under the workflow ID id, its memo saying what the
// request runs (the run adds its workflow's name, then how it ended).
func Start(ctx context.Context, c client.Client, taskQueue, id string, req RunRequest) (client.WorkflowRun, error) {
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue, Memo: requestMemo(req)}, RunWorkflow, req)
	if err != nil {
		return nil, fmt.Errorf("starting the run on Temporal: %w", err)
	}
	return run, nil
}

// Wait waits for a run started with Start and returns its result and events.
func Wait(ctx context.Context, run client.WorkflowRun) (*engine.Result, []engine.Event, error) {
	var reply RunReply
	if err := run.Get(ctx, &reply); err != nil {
		return nil, nil, fmt.Errorf("run %s on Temporal: %w", run.GetID(), err)
	}
	return reply.Restore()
}

// Restore returns the reply's result and events.
func (r *RunReply) Restore() (*engine.Result, []engine.Event, error) {
	if r.Result == nil {
		return nil, nil, fmt.Errorf("the run's reply holds no result")
	}
	res := r.Result.Restore()
	for i := range res.Breakers {
		res.Breakers[i].State, _ = policy.ParseState(res.Breakers[i].StateStr)
	}
	return res, r.Events, nil
}
