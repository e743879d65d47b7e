package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/kgrun/kgrun/engine"
)

// frame is one run's spans in flight: the run itself, or a child run of a composite node
// (a map's item, a parallel branch, a called workflow), whose visits interleave with its
// siblings' on the real clock and so need state of their own.
type frame struct {
	scope     string             // the events' Scope: "" for the run
	scopeAttr attribute.KeyValue // kgrun.scope, on a child's spans only
	nodes     map[string]*nodeAttrs
	last      *nodeAttrs // the node looked up last: an attempt's node is its visit's

	span trace.Span // the run's or the child's span
	ctx  context.Context

	visitCtx context.Context
	visit    trace.Span
	vNode    *nodeAttrs
	vNumber  int
	vKind    engine.Kind         // the visit's error kind, set by node_end
	visitEnd trace.SpanEndOption // the visit's end time, set by node_end; it ends at the next visit or the run's end
	action   string              // the open visit's action and next node, set when it ends
	to       string

	attempt  trace.Span
	aNode    *nodeAttrs
	aNumber  int
	attStart time.Time
}

// node returns the attributes of the frame's node name; a name the graph does not have
// (which the engine never sends) gets its own.
func (t *Tracer) node(f *frame, name string) *nodeAttrs {
	if n := f.last; n != nil && n.node == name {
		return n
	}
	n, ok := f.nodes[name]
	if !ok {
		path := name
		if f.scope != "" {
			path = engine.ScopePath(f.scope) + "/" + name
		}
		typ := ""
		if nt, ok := t.graph.NodeTypeOf(path); ok {
			typ = nt.Name
		}
		n = newNodeAttrs(t.workflow, name, path, typ)
		f.nodes[name] = n
	}
	f.last = n
	return n
}

// startVisit ends the frame's open visit and starts the next.
func (t *Tracer) startVisit(f *frame, e *engine.Event, at time.Time) {
	t.endVisit(f)
	n := t.node(f, e.Node)
	f.vNode, f.vNumber, f.vKind, f.visitEnd = n, e.Visit, "", nil
	t.startOpt[0] = t.stamp(at)
	f.visitCtx, f.visit = t.tracer.Start(f.ctx, n.visit, t.startOpt[:]...)
}

// startAttempt starts an attempt span under the frame's visit.
func (t *Tracer) startAttempt(f *frame, e *engine.Event, at time.Time) {
	t.endAttempt(f, at, nil, nil)
	n := t.node(f, e.Node)
	t.startOpt[0] = t.stamp(at)
	_, f.attempt = t.tracer.Start(f.visitCtx, n.attempt, t.startOpt[:]...)
	f.aNode, f.aNumber, f.attStart = n, e.Attempt, at
}

// endAttempt ends the frame's open attempt span at at (end, when given, is that time's
// option), as failed when failed is set, and records its latency.
func (t *Tracer) endAttempt(f *frame, at time.Time, end trace.SpanEndOption, failed *engine.Event) {
	if f.attempt == nil {
		return
	}
	n := f.aNode
	t.scratch = append(append(t.scratch[:0], n.span...), AttrVisit.Int(f.vNumber), AttrAttempt.Int(f.aNumber))
	if f.scope != "" {
		t.scratch = append(t.scratch, f.scopeAttr)
	}
	var kind engine.Kind
	if failed != nil {
		kind = failed.ErrKind
		t.scratch = append(t.scratch, AttrErrorKind.String(string(kind)))
		f.attempt.SetStatus(codes.Error, failed.Message)
	}
	f.attempt.SetAttributes(t.scratch...)
	if end == nil {
		end = t.stamp(at)
	}
	t.endOpt[0] = end
	f.attempt.End(t.endOpt[:]...)
	t.inst.attempt.Record(context.Background(), at.Sub(f.attStart).Seconds(), n.outcome(kind)...)
	f.attempt = nil
}

// nodeEnd ends the frame's attempt where its node ended and notes the visit's end, which
// waits for its route (fallbacks and hooks are its events, the transition its kgrun.to).
func (t *Tracer) nodeEnd(f *frame, e *engine.Event, at time.Time) {
	end := t.stamp(at)
	t.endAttempt(f, at, end, nil)
	if f.visit != nil {
		f.action = e.Action
		if e.ErrKind != "" {
			f.vKind = e.ErrKind
			f.visit.SetStatus(codes.Error, e.Message)
		}
		f.visitEnd = end
	}
}

// endVisit ends the frame's open visit span where its node ended (or now, if it never did).
func (t *Tracer) endVisit(f *frame) {
	if f.visit == nil {
		return
	}
	t.scratch = append(append(t.scratch[:0], f.vNode.span...), AttrVisit.Int(f.vNumber))
	if f.scope != "" {
		t.scratch = append(t.scratch, f.scopeAttr)
	}
	if f.action != "" {
		t.scratch = append(t.scratch, AttrAction.String(f.action))
		if f.to != "" {
			t.scratch = append(t.scratch, AttrTo.String(f.to))
		}
	}
	if f.vKind != "" {
		t.scratch = append(t.scratch, AttrErrorKind.String(string(f.vKind)))
	}
	f.visit.SetAttributes(t.scratch...)
	f.action, f.to = "", ""
	if f.visitEnd == nil {
		f.visit.End()
	} else {
		t.endOpt[0] = f.visitEnd
		f.visit.End(t.endOpt[:]...)
	}
	f.visit, f.visitCtx, f.visitEnd = nil, f.ctx, nil
}

// current is the frame's innermost open span: the attempt's, else the visit's, else the
// run's.
func (f *frame) current() trace.Span {
	if f.attempt != nil {
		return f.attempt
	}
	return f.open()
}

// open is the frame's open visit's span, else the run's.
func (f *frame) open() trace.Span {
	if f.visit != nil {
		return f.visit
	}
	return f.span
}
