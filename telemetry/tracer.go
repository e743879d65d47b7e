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
type Tracer struct {
	tracer   trace.Tracer
	inst     *instruments
	clock    engine.Clock
	workflow string
	nodes    map[string]*nodeAttrs // precomputed per node, so a visit builds no attribute sets
	parent   context.Context

	mu       sync.Mutex
	base     time.Time // the run's clock at At = 0
	runCtx   context.Context
	run      trace.Span
	visitCtx context.Context
	visit    trace.Span
	visitEnd time.Time // set by node_end; the visit span ends at the next visit or run end
	attempt  trace.Span
	attStart time.Time
	attNode  *nodeAttrs
	scratch  []attribute.KeyValue // reused to build a span's start attributes
	action   string               // the open visit's action and next node, set when it ends
	to       string
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
		nodes[n.Name] = newNodeAttrs(w.Name, n.Name, n.Type.Name)
	}
	return &Tracer{tracer: tp.Tracer(ScopeName), inst: inst, clock: clock, workflow: w.Name, nodes: nodes, parent: parent}, nil
}

// nodeAttrs are one node's attributes, built once: the span attributes every visit and
// attempt carries, and the attempt-latency metric's attribute sets by outcome.
type nodeAttrs struct {
	span           []attribute.KeyValue
	visit, attempt string // the spans' names
	ok             metric.MeasurementOption
	failed         map[engine.Kind]metric.MeasurementOption
	workflow, node string
}

func newNodeAttrs(workflow, node, typ string) *nodeAttrs {
	return &nodeAttrs{
		span:     []attribute.KeyValue{AttrWorkflow.String(workflow), AttrNode.String(node), AttrNodeType.String(typ)},
		visit:    "visit " + node,
		attempt:  "attempt " + node,
		ok:       metric.WithAttributeSet(attribute.NewSet(AttrWorkflow.String(workflow), AttrNode.String(node), attribute.String("kgrun.outcome", "ok"))),
		failed:   map[engine.Kind]metric.MeasurementOption{},
		workflow: workflow, node: node,
	}
}

// outcome is the attempt-latency attribute set for an attempt that ended with kind
// ("" for success).
func (n *nodeAttrs) outcome(kind engine.Kind) metric.MeasurementOption {
	if kind == "" {
		return n.ok
	}
	o, ok := n.failed[kind]
	if !ok {
		o = metric.WithAttributeSet(attribute.NewSet(AttrWorkflow.String(n.workflow), AttrNode.String(n.node),
			attribute.String("kgrun.outcome", "error"), AttrErrorKind.String(string(kind))))
		n.failed[kind] = o
	}
	return o
}

// node returns name's attributes; a name the graph does not have (which the engine
// never sends) gets its own.
func (t *Tracer) node(name string) *nodeAttrs {
	n, ok := t.nodes[name]
	if !ok {
		n = newNodeAttrs(t.workflow, name, "")
		t.nodes[name] = n
	}
	return n
}

// AttemptContext returns ctx carrying the current attempt's span, so what the node does
// (an http request) continues the trace.
func (t *Tracer) AttemptContext(ctx context.Context) context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.attempt == nil {
		return ctx
	}
	return trace.ContextWithSpan(ctx, t.attempt)
}

// Event turns one run event into spans, span events and measurements.
func (t *Tracer) Event(e engine.Event) {
	if e.Scope != "" {
		// A child run of a map, parallel or workflow node: its visits happen within the
		// composite node's visit span and are not exported as spans of their own yet.
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.Kind == engine.EventRunStart || e.Kind == engine.EventRunResumed {
		t.startRun(e)
		return
	}
	if t.run == nil {
		return // events of a run this tracer did not see start
	}
	at := t.base.Add(time.Duration(e.At))
	ts := trace.WithTimestamp(at)
	switch e.Kind {
	case engine.EventNodeStart:
		t.endVisit()
		t.visitEnd = time.Time{}
		t.scratch = append(append(t.scratch[:0], t.node(e.Node).span...), AttrVisit.Int(e.Visit))
		t.visitCtx, t.visit = t.tracer.Start(t.runCtx, t.node(e.Node).visit, ts, trace.WithAttributes(t.scratch...))
	case engine.EventAttempt:
		t.endAttempt(at, nil)
		t.scratch = append(append(t.scratch[:0], t.node(e.Node).span...), AttrVisit.Int(e.Visit), AttrAttempt.Int(e.Attempt))
		_, t.attempt = t.tracer.Start(t.visitCtx, t.node(e.Node).attempt, ts, trace.WithAttributes(t.scratch...))
		t.attStart, t.attNode = at, t.node(e.Node)
	case engine.EventAttemptFailed:
		t.endAttempt(at, &e)
	case engine.EventFaultInjected:
		attrs := []attribute.KeyValue{AttrAttempt.Int(e.Attempt)}
		if e.ErrKind != "" {
			attrs = append(attrs, AttrErrorKind.String(string(e.ErrKind)))
		}
		if e.Delay > 0 {
			attrs = append(attrs, AttrWait.String(e.Delay.String()))
			t.current().AddEvent("wait", ts, trace.WithAttributes(AttrWait.String(e.Delay.String()), AttrReason.String("injected latency")))
		}
		t.current().AddEvent("fault_injected", ts, trace.WithAttributes(attrs...))
	case engine.EventRetryScheduled:
		t.endAttempt(at, nil)
		t.inst.retries.Add(context.Background(), 1, metric.WithAttributes(AttrWorkflow.String(t.workflow), AttrNode.String(e.Node), AttrErrorKind.String(string(e.ErrKind))))
		attrs := []attribute.KeyValue{AttrAttempt.Int(e.Attempt), AttrErrorKind.String(string(e.ErrKind)), AttrWait.String(e.Delay.String())}
		if e.RetryAfter > 0 {
			attrs = append(attrs, attribute.String("kgrun.retry_after", e.RetryAfter.String()))
		}
		t.span().AddEvent("retry", ts, trace.WithAttributes(attrs...))
		t.span().AddEvent("wait", ts, trace.WithAttributes(AttrWait.String(e.Delay.String()), AttrReason.String("retry")))
	case engine.EventBreakerState:
		t.inst.breaker.Record(context.Background(), breakerLevel(e.State), metric.WithAttributes(AttrBreaker.String(e.Breaker)))
		t.current().AddEvent("breaker_transition", ts, trace.WithAttributes(AttrBreaker.String(e.Breaker), AttrFrom.String(e.From), AttrState.String(e.State)))
	case engine.EventBreakerRejected:
		t.span().AddEvent("breaker_rejected", ts, trace.WithAttributes(AttrBreaker.String(e.Breaker), AttrAttempt.Int(e.Attempt), AttrErrorKind.String(string(e.ErrKind))))
	case engine.EventFallback:
		attrs := []attribute.KeyValue{AttrTo.String(e.To), AttrErrorKind.String(string(e.ErrKind)), AttrAction.String(e.Action)}
		if e.Message == "error_handler" {
			attrs = append(attrs, AttrReason.String("error_handler"))
		} else {
			attrs = append(attrs, AttrReason.String("fallback"))
		}
		t.span().AddEvent("fallback", ts, trace.WithAttributes(attrs...))
	case engine.EventHook:
		attrs := []attribute.KeyValue{AttrHook.String(e.Hook)}
		if e.Action != "" {
			attrs = append(attrs, AttrAction.String(e.Action))
		}
		if e.ErrKind != "" {
			attrs = append(attrs, AttrErrorKind.String(string(e.ErrKind)))
		}
		t.span().AddEvent("hook", ts, trace.WithAttributes(attrs...))
	case engine.EventNodeEnd:
		t.endAttempt(at, nil)
		if t.visit != nil {
			t.action = e.Action
			if e.ErrKind != "" {
				t.visit.SetAttributes(AttrErrorKind.String(string(e.ErrKind)))
				t.visit.SetStatus(codes.Error, e.Message)
			}
			t.visitEnd = at
		}
	case engine.EventTransition:
		t.to = e.To
	case engine.EventRunEnd:
		t.endAttempt(at, nil)
		t.endVisit()
		t.run.SetAttributes(AttrStatus.String(string(e.Status)))
		if e.Status == engine.StatusFailed || e.Status == engine.StatusCanceled {
			t.run.SetStatus(codes.Error, e.Message)
		}
		t.run.End(trace.WithTimestamp(at))
		t.inst.runs.Add(context.Background(), 1, metric.WithAttributes(AttrWorkflow.String(t.workflow), AttrStatus.String(string(e.Status))))
		t.run, t.runCtx, t.visitCtx = nil, nil, nil
	}
}

func (t *Tracer) startRun(e engine.Event) {
	if t.run != nil { // the previous run never ended: close what it left open
		t.endAttempt(t.base, nil)
		t.endVisit()
		t.run.End()
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
	t.runCtx, t.run = t.tracer.Start(t.parent, name, trace.WithTimestamp(t.base), trace.WithAttributes(attrs...))
	t.visitCtx = t.runCtx
}

// endAttempt ends the open attempt span at at, as failed when failed is set.
func (t *Tracer) endAttempt(at time.Time, failed *engine.Event) {
	if t.attempt == nil {
		return
	}
	var kind engine.Kind
	if failed != nil {
		kind = failed.ErrKind
		t.attempt.SetAttributes(AttrErrorKind.String(string(kind)))
		t.attempt.SetStatus(codes.Error, failed.Message)
	}
	t.attempt.End(trace.WithTimestamp(at))
	t.inst.attempt.Record(context.Background(), at.Sub(t.attStart).Seconds(), t.attNode.outcome(kind))
	t.attempt = nil
}

// endVisit ends the open visit span where its node ended (or now, if it never did).
func (t *Tracer) endVisit() {
	if t.visit == nil {
		return
	}
	switch {
	case t.action != "" && t.to != "":
		t.visit.SetAttributes(AttrAction.String(t.action), AttrTo.String(t.to))
	case t.action != "":
		t.visit.SetAttributes(AttrAction.String(t.action))
	}
	t.action, t.to = "", ""
	if t.visitEnd.IsZero() {
		t.visit.End()
	} else {
		t.visit.End(trace.WithTimestamp(t.visitEnd))
	}
	t.visit, t.visitCtx = nil, t.runCtx
}

// current is the innermost open span: the attempt's, else the visit's, else the run's.
func (t *Tracer) current() trace.Span {
	if t.attempt != nil {
		return t.attempt
	}
	return t.span()
}

// span is the open visit's span, else the run's.
func (t *Tracer) span() trace.Span {
	if t.visit != nil {
		return t.visit
	}
	return t.run
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
