package temporal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"go.temporal.io/sdk/activity"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

// ExecActivityPrefix starts the name of every exec activity: kgrun.exec.<type>.
const ExecActivityPrefix = "kgrun.exec."

// execRequest is an exec activity's argument: the attempt, its input encoded, and the
// bundle the worker compiles (once per content hash) to find the node.
type execRequest struct {
	Hash   string          `json:"hash"`
	Bundle engine.Bundle   `json:"bundle"`
	Call   engine.ExecCall `json:"call"`
	Input  json.RawMessage `json:"input"`
}

// execFailure is the detail an exec activity's error carries besides kind and message.
type execFailure struct {
	RetryAfter time.Duration `json:"retry_after,omitempty"`
}

// dispatcher runs attempts' execs as activities of the run's workflow.
type dispatcher struct {
	g      *engine.Graph
	hash   string
	bundle engine.Bundle
	opts   *Options
	// seq numbers the run's activities, so that the items of a map (the same node,
	// visit and attempt in each item's own child run) get distinct IDs.
	seq int
}

// Exec schedules the attempt's activity and waits for it, for the Go context or for the
// deadline on workflow time the context carries (which is also the activity's
// schedule-to-close timeout).
func (d *dispatcher) Exec(ctx context.Context, call *engine.ExecCall) (any, error) {
	typ, ok := d.g.NodeTypeOf(call.Node)
	if !ok {
		return nil, engine.Errorf(engine.Internal, "no node %q in workflow %q", call.Node, d.g.Spec().Name)
	}
	input, err := json.Marshal(call.Input)
	if err != nil {
		return nil, engine.Errorf(engine.Internal, "node %q: the input of a %s cannot travel to a worker: %v", call.Node, call.Type, err)
	}
	req := execRequest{Hash: d.hash, Bundle: d.bundle, Call: *call, Input: input}
	req.Call.Input = nil
	wctx := workflowOf(ctx)
	d.seq++
	ao := workflow.ActivityOptions{
		ActivityID:          fmt.Sprintf("%s/v%d/a%d/%d", call.Node, call.Visit, call.Attempt, d.seq),
		StartToCloseTimeout: d.opts.execLimit(),
		HeartbeatTimeout:    d.opts.heartbeat(),
		RetryPolicy: &sdktemporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
		},
	}
	dl, ok := deadlineOf(ctx)
	now := workflow.Now(wctx)
	if !ok {
		// In exact order the deadline is on the run's virtual clock, which call.Now reads.
		dl, ok = engine.VirtualDeadline(ctx)
		now = call.Now
	}
	if ok {
		left := dl.Sub(now)
		if left <= 0 {
			return nil, engine.Errorf(engine.Timeout, "attempt %d exceeded the %s timeout", call.Attempt, call.Timeout)
		}
		ao.ScheduleToCloseTimeout, ao.StartToCloseTimeout = left, left
		// A lost worker must be noticed while the attempt still has time to run
		// elsewhere: its loss is not the node's timeout.
		ao.HeartbeatTimeout = min(ao.HeartbeatTimeout, max(call.Timeout/4, time.Second))
	}
	actx, cancel := workflow.WithCancel(workflow.WithActivityOptions(wctx, ao))
	defer cancel()
	fut := workflow.ExecuteActivity(actx, ExecActivityPrefix+call.Type, req)
	if err := workflow.Await(wctx, func() bool { return fut.IsReady() || ctx.Err() != nil }); err != nil {
		return nil, engine.WithKind(engine.Canceled, errWorkflowCanceled)
	}
	if !fut.IsReady() {
		return nil, causeOf(ctx)
	}
	out := resultValue(typ)
	if err := fut.Get(wctx, out.Addr().Interface()); err != nil {
		return nil, execError(err, call)
	}
	return out.Interface(), nil
}

// resultValue is where an exec's result is decoded: a new value of the type's declared
// result type, or of any.
func resultValue(typ *engine.NodeType) reflect.Value {
	if typ.Result == nil {
		return reflect.New(reflect.TypeFor[any]()).Elem()
	}
	return reflect.New(reflect.TypeOf(typ.Result)).Elem()
}

// execError turns an exec activity's failure back into the engine's error: the exec's
// kind, message and retry-after for its own errors, kind timeout when the attempt's
// timeout passed, canceled when the activity was canceled.
func execError(err error, call *engine.ExecCall) error {
	var app *sdktemporal.ApplicationError
	var timeout *sdktemporal.TimeoutError
	var canceled *sdktemporal.CanceledError
	switch {
	case errors.As(err, &app):
		kind := engine.Kind(app.Type())
		if !isKind(kind) {
			kind = engine.Internal
		}
		e := engine.WithKind(kind, errors.New(app.Message()))
		var f execFailure
		if app.HasDetails() && app.Details(&f) == nil && f.RetryAfter > 0 {
			e = policy.WithRetryAfter(e, f.RetryAfter)
		}
		return e
	case errors.As(err, &timeout):
		return engine.Errorf(engine.Timeout, "attempt %d exceeded the %s timeout", call.Attempt, call.Timeout)
	case errors.As(err, &canceled):
		return engine.WithKind(engine.Canceled, err)
	}
	return engine.WithKind(engine.Internal, err)
}

func isKind(k engine.Kind) bool {
	for _, kk := range engine.Kinds {
		if kk == k {
			return true
		}
	}
	return false
}

// activities is the worker side of the exec activities.
type activities struct {
	graphs *graphCache
}

// exec runs one attempt's exec in this worker: it compiles the bundle (once per hash),
// decodes the input into the type's declared input type and calls the node's exec on
// the real clock under the activity's context, heartbeating while exec runs so the loss
// of this worker is noticed within the heartbeat timeout.
func (a *activities) exec(ctx context.Context, req execRequest) (any, error) {
	g, err := a.graphs.get(req.Hash, req.Bundle)
	if err != nil {
		return nil, nonRetryable(engine.Internal, err.Error(), 0)
	}
	typ, ok := g.NodeTypeOf(req.Call.Node)
	if !ok {
		return nil, nonRetryable(engine.Internal, fmt.Sprintf("no node %q in workflow %q", req.Call.Node, g.Spec().Name), 0)
	}
	in := reflect.New(reflect.TypeFor[any]()).Elem()
	if typ.Input != nil {
		in = reflect.New(reflect.TypeOf(typ.Input)).Elem()
	}
	if err := json.Unmarshal(req.Input, in.Addr().Interface()); err != nil {
		return nil, nonRetryable(engine.Internal, fmt.Sprintf("node %q: decoding its input: %v", req.Call.Node, err), 0)
	}
	call := req.Call
	call.Input = in.Interface()
	stop := heartbeat(ctx)
	out, err := g.ExecAttempt(ctx, &call, nil)
	stop()
	if err != nil {
		after, _ := policy.RetryAfter(err)
		return nil, nonRetryable(engine.KindOf(err), err.Error(), after)
	}
	return out, nil
}

// nonRetryable is an exec's failure as the activity reports it: never retried by
// Temporal, since the workflow's retry policy decides.
func nonRetryable(kind engine.Kind, msg string, retryAfter time.Duration) error {
	return sdktemporal.NewApplicationErrorWithOptions(msg, string(kind), sdktemporal.ApplicationErrorOptions{
		NonRetryable: true, Details: []any{execFailure{RetryAfter: retryAfter}},
	})
}

// heartbeat records heartbeats while an activity runs, until stop is called.
func heartbeat(ctx context.Context) (stop func()) {
	info := activity.GetInfo(ctx)
	every := info.HeartbeatTimeout / 3
	if every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}
