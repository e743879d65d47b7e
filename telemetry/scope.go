package telemetry

import (
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/kgrun/kgrun/engine"
)

// Attribute keys of a child run's spans.
const (
	AttrScope  = attribute.Key("kgrun.scope")  // the child: "regions[3]", "catalogue/primary", "both/left/fan[0]"
	AttrItem   = attribute.Key("kgrun.item")   // a map item's index
	AttrBranch = attribute.Key("kgrun.branch") // a parallel branch's name
)

// startScope opens a child run's frame (scope_start): its span is a child of the
// composite node's visit in the frame the composite runs in, named "item NODE",
// "branch NODE/BRANCH" or "workflow NODE".
func (t *Tracer) startScope(e *engine.Event, at time.Time) {
	if old := t.scopes[e.Scope]; old != nil { // a child of that name that never ended
		t.endScope(old, at, "", "")
	}
	parent := t.parentFrame(e.Scope)
	rel := e.Scope
	if parent.scope != "" {
		rel = strings.TrimPrefix(e.Scope, parent.scope+"/")
	}
	attrs := []attribute.KeyValue{AttrWorkflow.String(t.workflow), AttrScope.String(e.Scope), AttrNode.String(e.Node)}
	var name string
	if i := strings.LastIndexByte(rel, '['); i >= 0 && strings.HasSuffix(rel, "]") {
		name = "item " + rel[:i]
		if idx, err := strconv.Atoi(rel[i+1 : len(rel)-1]); err == nil {
			attrs = append(attrs, AttrItem.Int(idx))
		}
	} else if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		name = "branch " + rel
		attrs = append(attrs, AttrBranch.String(rel[i+1:]))
	} else {
		name = "workflow " + rel
	}
	if parent.attempt != nil {
		attrs = append(attrs, AttrAttempt.Int(parent.aNumber))
	}
	path := engine.ScopePath(e.Scope)
	nodes := t.bodies[path]
	if nodes == nil {
		nodes = map[string]*nodeAttrs{}
		t.bodies[path] = nodes
	}
	f := &frame{scope: e.Scope, scopeAttr: AttrScope.String(e.Scope), nodes: nodes}
	f.ctx, f.span = t.tracer.Start(parent.visitCtx, name, trace.WithTimestamp(at), trace.WithAttributes(attrs...))
	f.visitCtx = f.ctx
	t.scopes[e.Scope] = f
}

// parentFrame is the frame a child run of scope runs in: the innermost open child whose
// scope leads to it, else the run.
func (t *Tracer) parentFrame(scope string) *frame {
	for i := len(scope) - 1; i > 0; i-- {
		if scope[i] == '/' {
			if f := t.scopes[scope[:i]]; f != nil {
				return f
			}
		}
	}
	return &t.root
}

// endScope closes a child run's frame at at with its status (scope_end); a failed child's
// span has the error status.
func (t *Tracer) endScope(f *frame, at time.Time, status engine.Status, message string) {
	t.endAttempt(f, at, nil, nil)
	t.endVisit(f)
	if status != "" {
		f.span.SetAttributes(AttrStatus.String(string(status)))
	}
	if status == engine.StatusFailed {
		// Not a canceled child: that is most often a parallel node's losing branch.
		f.span.SetStatus(codes.Error, message)
	}
	f.span.End(trace.WithTimestamp(at))
	delete(t.scopes, f.scope)
}

// endScopes closes every child still open, innermost first (a run that ended or was
// cut off inside a composite node).
func (t *Tracer) endScopes(at time.Time) {
	for len(t.scopes) > 0 {
		var inner *frame
		for _, f := range t.scopes {
			if inner == nil || len(f.scope) > len(inner.scope) {
				inner = f
			}
		}
		t.endScope(inner, at, "", "")
	}
}
