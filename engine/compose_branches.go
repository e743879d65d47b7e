package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// A parallel node's branches and a workflow node's call, run as child runs (see
// compose_run.go for what a child run is and how its events reach the parent).

// runParallel runs every branch at once and joins them.
func (c *composite) runParallel(ctx context.Context, a *Attempt, in *composeInput) (any, error) {
	pr := a.r
	f := &fanout{parent: pr, a: a, node: a.n, visit: a.visit}
	k := len(c.branches)
	outcomes := make([]childOutcome, k)
	gr := newFanGroup(ctx)
	defer gr.cancel(nil)
	var (
		mu         sync.Mutex
		winner     = -1
		journalErr error
	)
	gr.run(pr, k, func(ctx context.Context, w int, clock Clock) {
		bg := c.branches[w]
		o, resumed := f.resumedItem(w)
		if !resumed {
			// Each branch has its own copy of the shared store, down to nested values.
			own := deepCopy(in.shared).(map[string]any)
			o = f.runChild(ctx, bg, clock, scopeName{a.n.name + "/" + bg.name, -1}, w, &childRun{}, own)
			if o.status != StatusCanceled {
				if err := f.commitItem(w, o); err != nil {
					mu.Lock()
					journalErr = err
					mu.Unlock()
					gr.stop(err)
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		outcomes[w] = o
		ok := o.status == StatusSuccess || o.status == StatusDegraded
		switch {
		case ok && !c.joinAll && winner < 0:
			winner = w
			gr.stop(errLostRace)
		case !ok && o.status != StatusCanceled && c.failFast && (c.joinAll || winner < 0):
			gr.stop(errFailFast)
		}
	})
	if ctx.Err() != nil {
		return nil, WithKind(Canceled, context.Cause(ctx))
	}
	if journalErr != nil {
		return nil, WithKind(Internal, journalErr)
	}
	res := ParallelResult{Outputs: map[string]any{}, Status: map[string]string{}}
	store := map[string]any{}
	var degraded []string
	var firstErr error
	firstBranch := ""
	for w, o := range outcomes {
		bg := c.branches[w]
		res.Status[bg.name] = string(o.status)
		ok := o.status == StatusSuccess || o.status == StatusDegraded
		if ok && (c.joinAll || w == winner) {
			res.Outputs[bg.name] = o.output
			store[bg.name] = o.output
			for _, d := range o.degradations {
				degraded = append(degraded, fmt.Sprintf("%s/%s: %s", a.n.name, bg.name, d))
			}
		}
		if !ok && o.status != StatusCanceled && firstErr == nil {
			firstErr, firstBranch = o.err, bg.name
		}
	}
	if winner >= 0 {
		res.Winner = c.branches[winner].name
	}
	switch {
	case c.joinAll && len(res.Outputs) < k:
		msg := fmt.Sprintf("branch %s failed", firstBranch)
		if firstBranch == "" {
			msg = "a branch did not finish"
		}
		return nil, WithKind(Failed, &compositeError{action: ActionParallelFailed, first: firstErr, msg: msg})
	case !c.joinAll && winner < 0:
		return nil, WithKind(Failed, &compositeError{action: ActionParallelFailed, first: firstErr,
			msg: fmt.Sprintf("no branch of %d succeeded", k)})
	}
	return &composeOutput{result: res, store: store, degraded: degraded}, nil
}

var (
	errLostRace = errors.New("another branch succeeded first")
	errFailFast = errors.New("another branch failed (fail_fast)")
)

// deepCopy copies maps and lists all the way down, so a branch changing a nested value
// in place changes only its own.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// runCall runs the called workflow with the input Prep computed.
func (c *composite) runCall(ctx context.Context, a *Attempt, in *composeInput) (any, error) {
	pr := a.r
	if c.callee == nil {
		return nil, Errorf(Internal, "workflow %q was not loaded", c.calleeRel)
	}
	input, err := c.callee.spec.CheckInput(in.input)
	if err != nil {
		return nil, Errorf(Data, "calling %s: %v", c.calleeRel, err)
	}
	f := &fanout{parent: pr, a: a, node: a.n, visit: a.visit}
	bg := &bodyGraph{g: c.callee}
	o := f.runChild(ctx, bg, pr.clock, scopeName{a.n.name, -1}, 0, &childRun{ownInput: true, input: input}, nil)
	switch o.status {
	case StatusSuccess, StatusDegraded:
		var degraded []string
		for _, d := range o.degradations {
			degraded = append(degraded, fmt.Sprintf("%s: %s", a.n.name, d))
		}
		out, _ := o.output.(map[string]any)
		if out == nil {
			out = map[string]any{}
		}
		return &composeOutput{result: out, store: map[string]any{a.n.name: out}, degraded: degraded}, nil
	}
	if ctx.Err() != nil {
		return nil, WithKind(Canceled, context.Cause(ctx))
	}
	err = o.err
	if err == nil {
		err = errors.New("the called workflow failed")
	}
	var ne *NodeError
	if errors.As(err, &ne) {
		return nil, WithKind(ne.Kind, fmt.Errorf("workflow %s failed at node %q: %w", c.calleeRel, ne.Node, ne.Err))
	}
	return nil, fmt.Errorf("workflow %s failed: %w", c.calleeRel, err)
}
