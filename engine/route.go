package engine

import (
	"context"
	"errors"
	"fmt"
)

// visitNode runs one visit's phases: before_prep hooks → prep → exec under policies →
// after_exec hooks → post. It returns the action post chose, exec's output, the attempts made and
// the failure, if any phase failed.
func (r *run) visitNode(ctx context.Context, n *node, v *Visit) (*nodeAction, any, int, *NodeError) {
	if r.plainVisit(n) {
		return r.visitPlain(ctx, n, v)
	}
	fail := func(phase string, attempts int, err error, defaultKind Kind) *NodeError {
		k := KindOf(err)
		if k == Failed && defaultKind != "" && !hasKind(err) {
			k = defaultKind
		}
		e := &NodeError{Node: n.name, Kind: k, Phase: phase, Attempts: attempts, Err: err}
		if n.compose != nil {
			var ce *compositeError
			if errors.As(err, &ce) {
				e.action = ce.action
			}
		}
		return e
	}
	r.vm.begin(ctx, r.g.exprLimits)
	if len(n.beforePrep) > 0 {
		r.setEnv(n, nil, nil, 0)
	}
	if err := r.runHooks(n, n.beforePrep, v); err != nil {
		return nil, nil, 0, fail("before_prep", 0, err, Data)
	}
	if n.goBefore != nil {
		r.phase = phaseBeforePrep
		if err := protect(func() error { return n.goBefore.BeforePrep(v) }); err != nil {
			return nil, nil, 0, fail("before_prep", 0, err, Data)
		}
	}
	v.params = nil
	if n.templates != nil {
		p, err := r.evalParams(n, v)
		if err != nil {
			return nil, nil, 0, fail("params", 0, err, Data)
		}
		v.params = p
	}
	var input any
	r.phase = phasePrep
	if err := protect(func() (err error) { input, err = n.impl.Prep(v); return }); err != nil {
		return nil, nil, 0, fail("prep", 0, err, "")
	}
	ex := r.execute(ctx, n, v, input)
	if ex.err != nil {
		if ex.err == n.rejected && ex.attempts == 1 && !ex.exhausted {
			return nil, nil, 1, n.rejection
		}
		e := fail("exec", ex.attempts, ex.err, "")
		e.exhausted = ex.exhausted
		return nil, nil, ex.attempts, e
	}
	result := ex.out
	if n.compose != nil {
		result = ex.out.(*composeOutput).result // what guards and hooks see
	}
	if len(n.afterExec) > 0 {
		r.setEnv(n, result, nil, ex.attempts)
	}
	if err := r.runHooks(n, n.afterExec, v); err != nil {
		return nil, result, ex.attempts, fail("after_exec", ex.attempts, err, Data)
	}
	if n.goAfter != nil {
		r.phase = phaseAfterExec
		if err := protect(func() error { return n.goAfter.AfterExec(v, input, ex.out) }); err != nil {
			return nil, result, ex.attempts, fail("after_exec", ex.attempts, err, Data)
		}
	}
	var action string
	r.phase = phasePost
	if err := protect(func() (err error) { action, err = n.impl.Post(v, input, ex.out); return }); err != nil {
		return nil, result, ex.attempts, fail("post", ex.attempts, err, "")
	}
	if action == "" {
		action = "default"
	}
	act := n.action(action)
	if act == nil {
		return nil, result, ex.attempts, fail("post", ex.attempts,
			Errorf(Internal, "type %s returned action %q, which it does not declare", n.typ.Name, action), "")
	}
	return act, result, ex.attempts, nil
}

func hasKind(err error) bool {
	var ke *kindError
	return errors.As(err, &ke)
}

// protect calls f, turning a panic into an internal error.
func protect(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = WithKind(Internal, &panicError{value: p})
		}
	}()
	return containError(f())
}

// setEnv fills the reusable expression environment for node n.
func (r *run) setEnv(n *node, result any, failure *NodeError, attempts int) {
	env := r.exprEnv()
	env["result"] = result
	env["node"] = n.nameVal
	env["attempt"] = attempts
	info := env["error"].(*ErrorInfo)
	*info = ErrorInfo{}
	if failure != nil {
		*info = ErrorInfo{Kind: string(failure.Kind), Message: failure.Err.Error(), Node: failure.Node,
			Action: failureAction(failure), Attempts: failure.Attempts}
	}
}

// choose picks the first edge for action whose guard holds. It returns nil when the
// action has no edges (the run ends there) and an error when edges exist but no guard
// matched or a guard failed.
func (r *run) choose(n *node, action string, result any, failure *NodeError, attempts int) (*edge, error) {
	return r.chooseOf(n, n.action(action), action, result, failure, attempts)
}

// chooseOf is choose for an action already looked up (nil when the node never takes it).
// It is small enough to inline, so that the common case, a first edge without a guard,
// costs no call.
func (r *run) chooseOf(n *node, act *nodeAction, action string, result any, failure *NodeError, attempts int) (*edge, error) {
	if act == nil || len(act.edges) == 0 {
		return nil, nil
	}
	if e := act.edges[0]; e.guard == nil {
		return e, nil
	}
	return r.chooseGuarded(n, act, action, result, failure, attempts)
}

// chooseGuarded is chooseOf for an action whose first edge has a guard.
func (r *run) chooseGuarded(n *node, act *nodeAction, action string, result any, failure *NodeError, attempts int) (*edge, error) {
	envSet := false
	for _, e := range act.edges {
		if e.guard == nil {
			return e, nil
		}
		if !envSet {
			r.setEnv(n, result, failure, attempts)
			envSet = true
		}
		ok, err := e.guard.test(&r.vm, r.exprEnv())
		if err != nil {
			return nil, err
		}
		if ok {
			return e, nil
		}
	}
	return nil, WithKind(Failed, &noEdgeError{action: action})
}

// routeFailure applies the routing precedence to a failed visit: on_error hooks (YAML,
// then Go) → an edge for the failure action → the node's fallback → the workflow's error
// handler. It returns nil when nothing handles the failure.
func (r *run) routeFailure(n *node, v *Visit, result any, nerr *NodeError, action string) (next *node, act, route, guard string) {
	if len(n.onError) > 0 {
		r.setEnv(n, result, nerr, nerr.Attempts)
	}
	for _, h := range n.onError {
		if h.when != nil {
			ok, err := h.when.test(&r.vm, r.exprEnv())
			if err != nil {
				r.logger.Warn("on_error hook failed", "node", n.name, "hook", h.label, "error", err)
				continue
			}
			if !ok {
				continue
			}
		}
		if err := r.assign(h, v); err != nil {
			r.logger.Warn("on_error hook failed", "node", n.name, "hook", h.label, "error", err)
			continue
		}
		r.emit(Event{Kind: EventHook, Node: n.name, Visit: v.number, Hook: h.label, Action: h.action})
		if h.action != "" {
			if e, err := r.choose(n, h.action, result, nerr, nerr.Attempts); err == nil && e != nil {
				return e.to, h.action, "hook", guardSrc(e)
			}
		}
	}
	if n.goOnError != nil {
		var a string
		var handled bool
		_ = protect(func() error { a, handled = n.goOnError.OnError(v, nerr); return nil })
		if handled {
			r.emit(Event{Kind: EventHook, Node: n.name, Visit: v.number, Hook: "go:on_error", Action: a})
			if e, err := r.choose(n, a, result, nerr, nerr.Attempts); err == nil && e != nil {
				return e.to, a, "hook", guardSrc(e)
			}
		}
	}
	if e, err := r.choose(n, action, result, nerr, nerr.Attempts); err == nil && e != nil {
		return e.to, action, "edge", guardSrc(e)
	}
	if n.fallback != nil {
		r.emit(Event{Kind: EventFallback, Node: n.name, Visit: v.number, To: n.fallback.name, ErrKind: nerr.Kind, Action: action})
		return n.fallback, action, "fallback", ""
	}
	if h := r.g.errorHandler; h != nil && h != n {
		r.emit(Event{Kind: EventFallback, Node: n.name, Visit: v.number, To: h.name, ErrKind: nerr.Kind, Action: action, Message: "error_handler"})
		return h, action, "error_handler", ""
	}
	return nil, action, "unhandled", ""
}

func guardSrc(e *edge) string {
	if e.guard == nil {
		return ""
	}
	return e.guard.src
}

// runHooks runs before_prep or after_exec hooks in order: a hook whose when holds asserts
// its condition, then sets its shared keys.
func (r *run) runHooks(n *node, hooks []*hook, v *Visit) error {
	for _, h := range hooks {
		if h.when != nil {
			ok, err := h.when.test(&r.vm, r.exprEnv())
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if h.assert != nil {
			ok, err := h.assert.test(&r.vm, r.exprEnv())
			if err != nil {
				return err
			}
			if !ok {
				msg := h.message
				if msg == "" {
					msg = fmt.Sprintf("assertion %q does not hold", h.assert.src)
				}
				r.emit(Event{Kind: EventHook, Node: n.name, Visit: v.number, Hook: h.label, ErrKind: Data, Message: msg})
				return Errorf(Data, "%s: %s (%s)", h.label, msg, h.pos)
			}
		}
		if err := r.assign(h, v); err != nil {
			return err
		}
		r.emit(Event{Kind: EventHook, Node: n.name, Visit: v.number, Hook: h.label})
	}
	return nil
}

func (r *run) assign(h *hook, v *Visit) error {
	for _, a := range h.set {
		val, err := a.value.eval(&r.vm, r.exprEnv())
		if err != nil {
			return err
		}
		r.shared[a.key] = val
		r.touch(a.key)
	}
	return nil
}
