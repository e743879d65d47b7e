// Package telemetry owns kgrun's OpenTelemetry export: an engine.Tracer that turns a
// run's events into spans (one per run, per visit and per attempt, with retries, waits,
// breaker transitions and fallbacks as span events) and metrics (runs by status, attempt
// latency, retries, breaker state), and the OTLP/HTTP exporters that send them.
//
// Spans carry the run's own clock times, so a run on the virtual clock is traced at its
// virtual instants.
package telemetry

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/kgrun/kgrun/engine"
)

// ScopeName is the instrumentation scope of kgrun's spans and metrics.
const ScopeName = "github.com/kgrun/kgrun/telemetry"

// Attribute keys on spans, span events and metrics.
const (
	AttrWorkflow  = attribute.Key("kgrun.workflow")
	AttrScenario  = attribute.Key("kgrun.scenario")
	AttrStatus    = attribute.Key("kgrun.status")
	AttrNode      = attribute.Key("kgrun.node")
	AttrNodeType  = attribute.Key("kgrun.node.type")
	AttrVisit     = attribute.Key("kgrun.visit")
	AttrAction    = attribute.Key("kgrun.action")
	AttrAttempt   = attribute.Key("kgrun.attempt")
	AttrErrorKind = attribute.Key("error.kind")
	AttrBreaker   = attribute.Key("kgrun.breaker")
	AttrFrom      = attribute.Key("kgrun.breaker.from")
	AttrState     = attribute.Key("kgrun.breaker.state")
	AttrTo        = attribute.Key("kgrun.to")
	AttrWait      = attribute.Key("kgrun.wait")
	AttrReason    = attribute.Key("kgrun.reason")
	AttrHook      = attribute.Key("kgrun.hook")
)

// Tracer is an engine.Tracer exporting through OpenTelemetry. It follows one run at a
// time: runs given the same Tracer must run one after another (a new run_start begins a
// new trace). It is safe for concurrent calls.
//
// A child run of a composite node (a map's item, a parallel branch, a called workflow)
// gets a span under the composite node's visit, and its own visit and attempt spans under
// that, each with kgrun.scope naming the child.
//
// A visit is on the hot path of every traced run, so its spans are made with as little
// as the SDK allows: attribute lists, span names and metric options built once per node,
// the visit's and attempt's attributes given to their span in one call when it ends
// (spans are exported only once ended, so what is exported is the same), option slices
// reused, and one timestamp option for the events that share an instant.
type Tracer struct {
	tracer   trace.Tracer
	inst     *instruments
	clock    engine.Clock
	graph    *engine.Graph
	workflow string
	parent   context.Context

	mu     sync.Mutex
	base   time.Time // the run's clock at At = 0
	root   frame     // the run's spans
	scopes map[string]*frame
	bodies map[string]map[string]*nodeAttrs // the nodes of each scope path, built as met

	stampAt  time.Time                // the instant of stampOpt
	stampOpt trace.SpanEventOption    // the last timestamp option made
	startOpt [1]trace.SpanStartOption // reused for each span's start timestamp
	endOpt   [1]trace.SpanEndOption   // reused for each span's end timestamp
	scratch  []attribute.KeyValue     // reused to build a span's attributes
}

// New returns a tracer for runs of g on clock (the run's own clock, so spans carry its
// times), creating spans with tp and instruments with mp. parent is the context the run
// spans descend from (its span, if any, becomes their parent).
func New(parent context.Context, g *engine.Graph, clock engine.Clock, tp trace.TracerProvider, mp metric.MeterProvider) (*Tracer, error) {
	inst, err := newInstruments(mp.Meter(ScopeName))
	if err != nil {
		return nil, err
	}
	if clock == nil {
		clock = engine.RealClock{}
	}
	w := g.Spec()
	nodes := make(map[string]*nodeAttrs, len(w.Nodes))
	for _, n := range w.Nodes {
		nodes[n.Name] = newNodeAttrs(w.Name, n.Name, n.Name, n.Type.Name)
	}
	return &Tracer{tracer: tp.Tracer(ScopeName), inst: inst, clock: clock, graph: g, workflow: w.Name, parent: parent,
		root: frame{nodes: nodes}, scopes: map[string]*frame{}, bodies: map[string]map[string]*nodeAttrs{},
		scratch: make([]attribute.KeyValue, 0, 10)}, nil
}

// stamp is the timestamp option for at: the last one made when at is its instant (on a
// virtual clock a visit's events often share one), a new one otherwise.
func (t *Tracer) stamp(at time.Time) trace.SpanEventOption {
	if t.stampOpt == nil || !at.Equal(t.stampAt) {
		t.stampOpt, t.stampAt = trace.WithTimestamp(at), at
	}
	return t.stampOpt
}

// AttemptContext returns ctx carrying the current attempt's span, so what the node does
// (an http request) continues the trace.
func (t *Tracer) AttemptContext(ctx context.Context) context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.root.attempt == nil {
		return ctx
	}
	return trace.ContextWithSpan(ctx, t.root.attempt)
}

// Event turns one run event into spans, span events and measurements.
func (t *Tracer) Event(e engine.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.Scope == "" && (e.Kind == engine.EventRunStart || e.Kind == engine.EventRunResumed) {
		t.startRun(e)
		return
	}
	if t.root.span == nil {
		return // events of a run this tracer did not see start
	}
	at := t.base.Add(time.Duration(e.At))
	f := &t.root
	if e.Scope != "" {
		switch e.Kind {
		case engine.EventScopeStart:
			t.startScope(&e, at)
			return
		case engine.EventScopeEnd:
			if f := t.scopes[e.Scope]; f != nil {
				t.endScope(f, at, e.Status, e.Message)
			}
			return
		}
		if f = t.scopes[e.Scope]; f == nil {
			return // events of a child this tracer did not see start
		}
	}
	switch e.Kind {
	case engine.EventNodeStart:
		t.startVisit(f, &e, at)
	case engine.EventAttempt:
		t.startAttempt(f, &e, at)
	case engine.EventAttemptFailed:
		t.endAttempt(f, at, nil, &e)
	case engine.EventNodeEnd:
		t.nodeEnd(f, &e, at)
	case engine.EventTransition:
		f.to = e.To
	case engine.EventRunEnd:
		t.endRun(&e, at)
	default:
		t.policyEvent(f, &e, at)
	}
}

// policyEvent records what the policies did as span events: faults, retries and their
// waits, breakers, fallbacks, hooks.
func (t *Tracer) policyEvent(f *frame, e *engine.Event, at time.Time) {
	switch e.Kind {
	case engine.EventFaultInjected:
		ts := trace.WithTimestamp(at)
		attrs := []attribute.KeyValue{AttrAttempt.Int(e.Attempt)}
		if e.ErrKind != "" {
			attrs = append(attrs, AttrErrorKind.String(string(e.ErrKind)))
		}
		if e.Delay > 0 {
			attrs = append(attrs, AttrWait.String(e.Delay.String()))
			f.current().AddEvent("wait", ts, trace.WithAttributes(AttrWait.String(e.Delay.String()), AttrReason.String("injected latency")))
		}
		f.current().AddEvent("fault_injected", ts, trace.WithAttributes(attrs...))
	case engine.EventRetryScheduled:
		t.endAttempt(f, at, nil, nil)
		ts := trace.WithTimestamp(at)
		t.inst.retries.Add(context.Background(), 1, t.node(f, e.Node).retry(e.ErrKind)...)
		attrs := []attribute.KeyValue{AttrAttempt.Int(e.Attempt), AttrErrorKind.String(string(e.ErrKind)), AttrWait.String(e.Delay.String())}
		if e.RetryAfter > 0 {
			attrs = append(attrs, attribute.String("kgrun.retry_after", e.RetryAfter.String()))
		}
		f.open().AddEvent("retry", ts, trace.WithAttributes(attrs...))
		f.open().AddEvent("wait", ts, trace.WithAttributes(AttrWait.String(e.Delay.String()), AttrReason.String("retry")))
	case engine.EventBreakerState:
		t.inst.breaker.Record(context.Background(), breakerLevel(e.State), metric.WithAttributes(AttrBreaker.String(e.Breaker)))
		f.current().AddEvent("breaker_transition", trace.WithTimestamp(at), trace.WithAttributes(AttrBreaker.String(e.Breaker), AttrFrom.String(e.From), AttrState.String(e.State)))
	case engine.EventBreakerRejected:
		f.open().AddEvent("breaker_rejected", trace.WithTimestamp(at), trace.WithAttributes(AttrBreaker.String(e.Breaker), AttrAttempt.Int(e.Attempt), AttrErrorKind.String(string(e.ErrKind))))
	case engine.EventFallback:
		attrs := []attribute.KeyValue{AttrTo.String(e.To), AttrErrorKind.String(string(e.ErrKind)), AttrAction.String(e.Action)}
		if e.Message == "error_handler" {
			attrs = append(attrs, AttrReason.String("error_handler"))
		} else {
			attrs = append(attrs, AttrReason.String("fallback"))
		}
		f.open().AddEvent("fallback", trace.WithTimestamp(at), trace.WithAttributes(attrs...))
	case engine.EventHook:
		attrs := []attribute.KeyValue{AttrHook.String(e.Hook)}
		if e.Action != "" {
			attrs = append(attrs, AttrAction.String(e.Action))
		}
		if e.ErrKind != "" {
			attrs = append(attrs, AttrErrorKind.String(string(e.ErrKind)))
		}
		f.open().AddEvent("hook", trace.WithTimestamp(at), trace.WithAttributes(attrs...))
	}
}

func (t *Tracer) startRun(e engine.Event) {
	if t.root.span != nil { // the previous run never ended: close what it left open
		t.endScopes(t.base)
		t.endAttempt(&t.root, t.base, nil, nil)
		t.endVisit(&t.root)
		t.root.span.End()
	}
	t.base = t.clock.Now().Add(-time.Duration(e.At))
	attrs := []attribute.KeyValue{AttrWorkflow.String(t.workflow)}
	if e.Message != "" {
		attrs = append(attrs, AttrScenario.String(e.Message))
	}
	name := "run " + t.workflow
	if e.Kind == engine.EventRunResumed {
		attrs = append(attrs, attribute.Bool("kgrun.resumed", true))
	}
	t.root.ctx, t.root.span = t.tracer.Start(t.parent, name, trace.WithTimestamp(t.base), trace.WithAttributes(attrs...))
	t.root.visitCtx = t.root.ctx
}

// endRun ends what is open and the run's span, and counts the run.
func (t *Tracer) endRun(e *engine.Event, at time.Time) {
	t.endScopes(at)
	r := &t.root
	t.endAttempt(r, at, nil, nil)
	t.endVisit(r)
	r.span.SetAttributes(AttrStatus.String(string(e.Status)))
	if e.Status == engine.StatusFailed || e.Status == engine.StatusCanceled {
		r.span.SetStatus(codes.Error, e.Message)
	}
	r.span.End(trace.WithTimestamp(at))
	t.inst.runs.Add(context.Background(), 1, metric.WithAttributes(AttrWorkflow.String(t.workflow), AttrStatus.String(string(e.Status))))
	r.span, r.ctx, r.visitCtx = nil, nil, nil
}

// breakerLevel is the breaker-state gauge's value: 0 closed, 1 half-open, 2 open.
func breakerLevel(state string) int64 {
	switch state {
	case "open":
		return 2
	case "half-open", "half_open":
		return 1
	}
	return 0
}
