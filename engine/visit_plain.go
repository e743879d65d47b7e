package engine

import (
	"context"

	"github.com/kgrun/kgrun/engine/policy"
)

// Most visits in a long run are of plain nodes: no hooks, no ${{ }} params, no retry,
// bulkhead, timeout or fault (a breaker is allowed), on a run with no tracer, backend or
// debug log.
// visitPlain runs those with the work of visitNode they do not need left out; its
// outcome (action, result, attempts, failure, phase names, panic containment) is the
// same, which TestPlainVisitsMatch checks against the general path.

// nodeAction is one action a node may take: emitted by its type (or a failure action,
// or an on_error hook's), with the edges the file routes it along.
type nodeAction struct {
	name  string
	edges []*edge
}

// action returns the node's action named a, or nil when the node never takes it. A
// node has a handful of actions, so a scan beats hashing the name.
func (n *node) action(a string) *nodeAction {
	for i := range n.acts {
		if n.acts[i].name == a {
			return &n.acts[i]
		}
	}
	return nil
}

// finishActions lists the node's actions, its type's own first (the ones a visit
// usually takes), once its edges are compiled, in room taken from buf (the graph's one
// array of actions); it returns buf with the node's actions added.
func (n *node) finishActions(buf []nodeAction) []nodeAction {
	n.acts = buf[len(buf) : len(buf) : len(buf)+len(n.emits)]
	add := func(a string) {
		if n.emits[a] && n.action(a) == nil {
			n.acts = append(n.acts, nodeAction{name: a, edges: n.routes[a]})
		}
	}
	if n.typ != nil {
		for _, a := range n.typ.Actions {
			add(a)
		}
	}
	for _, a := range FailureActions {
		add(a)
	}
	for a := range n.emits {
		add(a)
	}
	buf = buf[:len(buf)+len(n.acts)]
	n.plain = len(n.beforePrep) == 0 && len(n.afterExec) == 0 && n.goBefore == nil && n.goAfter == nil &&
		n.templates == nil && n.retry == nil && n.bulkhead == nil && n.timeout <= 0 &&
		n.compose == nil && n.impl != nil
	return buf
}

// plainVisit reports whether n's visit may take visitPlain.
func (r *run) plainVisit(n *node) bool {
	return n.plain && r.plain && r.faults[n.index] == nil
}

// visitPlain is visitNode for a plain node (see plainVisit).
func (r *run) visitPlain(ctx context.Context, n *node, v *Visit) (*nodeAction, any, int, *NodeError) {
	r.vm.begin(ctx, r.g.exprLimits)
	v.params = nil
	a := &r.att
	// r, rng and clock are the run's, set once (newRun, prepareAttempt); relay and
	// hang are set only on attempts of timed nodes.
	a.n, a.visit, a.number, a.params = n, v.number, 1, nil
	out, action, phase, err := r.plainPhases(ctx, n, v, a)
	switch {
	case err == nil:
	case err == n.rejected: // the breaker refused the call, as in visitNode
		return nil, nil, 1, n.rejection
	case phase == phasePrep:
		return nil, nil, 0, &NodeError{Node: n.name, Kind: KindOf(err), Phase: phase.String(), Err: err}
	case phase == phaseExec:
		return nil, nil, 1, &NodeError{Node: n.name, Kind: KindOf(err), Phase: phase.String(), Attempts: 1, Err: err}
	default:
		return nil, out, 1, &NodeError{Node: n.name, Kind: KindOf(err), Phase: phase.String(), Attempts: 1, Err: err}
	}
	if action == "" {
		action = "default"
	}
	act := n.action(action)
	if act == nil {
		return nil, out, 1, &NodeError{Node: n.name, Kind: Internal, Phase: "post", Attempts: 1,
			Err: Errorf(Internal, "type %s returned action %q, which it does not declare", n.typ.Name, action)}
	}
	return act, out, 1, nil
}

// plainPhases calls prep, exec and post under one panic guard; phase is the phase that
// failed or panicked (a refusal of the breaker is n.rejected, before exec). The phases
// are those of visitNode, in r.phase as there for a goroutine that node code ends;
// exec's outcome, a panic included, is recorded with the node's breaker as attempt does.
func (r *run) plainPhases(ctx context.Context, n *node, v *Visit, a *Attempt) (out any, action string, phase visitPhase, err error) {
	var b *policy.Breaker
	var ticket policy.Ticket
	defer func() {
		if p := recover(); p != nil {
			phase, err = r.phase, WithKind(Internal, &panicError{value: p})
			if phase == phaseExec {
				out = nil
				if b != nil {
					r.breakerChanged(n, v, 1, r.breakerRecord(b, ticket, n.breakerOutcome(err)))
				}
			}
		}
	}()
	r.phase = phasePrep
	in, err := n.impl.Prep(v)
	if err != nil {
		return nil, "", phasePrep, containError(err)
	}
	if n.breaker != nil && !r.noBreakers {
		t, ok, tr := n.breaker.Allow(r.clock.Now())
		r.breakerChanged(n, v, 1, tr)
		if !ok {
			return nil, "", phasePrep, n.rejected
		}
		r.ticket, ticket = t, t
		b = n.breaker
	}
	r.phase = phaseExec
	r.calls[n.index]++
	a.call = r.calls[n.index]
	out, err = n.impl.Exec(ctx, a, in)
	if err != nil {
		err = containError(err)
	}
	if b != nil {
		r.breakerChanged(n, v, 1, r.breakerRecord(b, ticket, n.breakerOutcome(err)))
		b = nil // recorded: a panic in post is not exec's
	}
	if err != nil {
		return nil, "", phaseExec, err
	}
	r.phase = phasePost
	if action, err = n.impl.Post(v, in, out); err != nil {
		return out, "", phasePost, containError(err)
	}
	return out, action, phaseNone, nil
}
