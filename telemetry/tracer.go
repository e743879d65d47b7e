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
// A visit is on the hot path of every traced run, so its spans are made with as little
// as the SDK allows: attribute lists and metric options built once per node, the visit's
// and attempt's attributes given to their span in one call when it ends (spans are
// exported only once ended, so what is exported is the same), option slices reused, and
// one timestamp option shared by the attempt and the visit that end at the same instant.
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
	vNode    *nodeAttrs
	vNumber  int
	vKind    engine.Kind         // the visit's error kind, set by node_end
	visitEnd trace.SpanEndOption // the visit's end time, set by node_end; it ends at the next visit or run end
	action   string              // the open visit's action and next node, set when it ends
	to       string
	attempt  trace.Span
	aNode    *nodeAttrs
	aNumber  int
	attStart time.Time
	startOpt [1]trace.SpanStartOption // reused for each span's start timestamp
	endOpt   [1]trace.SpanEndOption   // reused for each span's end timestamp
	scratch  []attribute.KeyValue     // reused to build a span's attributes
	last     *nodeAttrs               // the node looked up last
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
	return &Tracer{tracer: tp.Tracer(ScopeName), inst: inst, clock: clock, workflow: w.Name, nodes: nodes, parent: parent,
		scratch: make([]attribute.KeyValue, 0, 8)}, nil
}

// nodeAttrs are one node's attributes, built once: the span attributes every visit and
// attempt carries, and the attempt-latency metric's options by outcome.
type nodeAttrs struct {
	span           []attribute.KeyValue
	visit, attempt string // the spans' names
	ok             []metric.RecordOption
	failed         map[engine.Kind][]metric.RecordOption
	workflow, node string
}

func newNodeAttrs(workflow, node, typ string) *nodeAttrs {
	return &nodeAttrs{
		span:     []attribute.KeyValue{AttrWorkflow.String(workflow), AttrNode.String(node), AttrNodeType.String(typ)},
		visit:    "visit " + node,
		attempt:  "attempt " + node,
		ok:       []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(AttrWorkflow.String(workflow), AttrNode.String(node), attribute.String("kgrun.outcome", "ok")))},
		failed:   map[engine.Kind][]metric.RecordOption{},
		workflow: workflow, node: node,
	}
}

// outcome is the attempt-latency options for an attempt that ended with kind ("" for
// success).
func (n *nodeAttrs) outcome(kind engine.Kind) []metric.RecordOption {
	if kind == "" {
		return n.ok
	}
	o, ok := n.failed[kind]
	if !ok {
		o = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(AttrWorkflow.String(n.workflow), AttrNode.String(n.node),
			attribute.String("kgrun.outcome", "error"), AttrErrorKind.String(string(kind))))}
		n.failed[kind] = o
	}
	return o
}

// node returns name's attributes; a name the graph does not have (which the engine
// never sends) gets its own. The last one is kept: an attempt's node is its visit's.
func (t *Tracer) node(name string) *nodeAttrs {
	if n := t.last; n != nil && n.node == name {
		return n
	}
	n, ok := t.nodes[name]
	if !ok {
		n = newNodeAttrs(t.workflow, name, "")
		t.nodes[name] = n
	}
	t.last = n
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
	switch e.Kind {
	case engine.EventNodeStart:
		t.endVisit()
		n := t.node(e.Node)
		t.vNode, t.vNumber, t.vKind, t.visitEnd = n, e.Visit, "", nil
		t.startOpt[0] = trace.WithTimestamp(at)
		t.visitCtx, t.visit = t.tracer.Start(t.runCtx, n.visit, t.startOpt[:]...)
	case engine.EventAttempt:
		t.endAttempt(at, nil, nil)
		n := t.node(e.Node)
		t.startOpt[0] = trace.WithTimestamp(at)
		_, t.attempt = t.tracer.Start(t.visitCtx, n.attempt, t.startOpt[:]...)
		t.aNode, t.aNumber, t.attStart = n, e.Attempt, at
	case engine.EventAttemptFailed:
		t.endAttempt(at, nil, &e)
	case engine.EventFaultInjected:
		ts := trace.WithTimestamp(at)
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
		t.endAttempt(at, nil, nil)
		ts := trace.WithTimestamp(at)
		t.inst.retries.Add(context.Background(), 1, metric.WithAttributes(AttrWorkflow.String(t.workflow), AttrNode.String(e.Node), AttrErrorKind.String(string(e.ErrKind))))
		attrs := []attribute.KeyValue{AttrAttempt.Int(e.Attempt), AttrErrorKind.String(string(e.ErrKind)), AttrWait.String(e.Delay.String())}
		if e.RetryAfter > 0 {
			attrs = append(attrs, attribute.String("kgrun.retry_after", e.RetryAfter.String()))
		}
		t.span().AddEvent("retry", ts, trace.WithAttributes(attrs...))
		t.span().AddEvent("wait", ts, trace.WithAttributes(AttrWait.String(e.Delay.String()), AttrReason.String("retry")))
	case engine.EventBreakerState:
		t.inst.breaker.Record(context.Background(), breakerLevel(e.State), metric.WithAttributes(AttrBreaker.String(e.Breaker)))
		t.current().AddEvent("breaker_transition", trace.WithTimestamp(at), trace.WithAttributes(AttrBreaker.String(e.Breaker), AttrFrom.String(e.From), AttrState.String(e.State)))
	case engine.EventBreakerRejected:
		t.span().AddEvent("breaker_rejected", trace.WithTimestamp(at), trace.WithAttributes(AttrBreaker.String(e.Breaker), AttrAttempt.Int(e.Attempt), AttrErrorKind.String(string(e.ErrKind))))
	case engine.EventFallback:
		attrs := []attribute.KeyValue{AttrTo.String(e.To), AttrErrorKind.String(string(e.ErrKind)), AttrAction.String(e.Action)}
		if e.Message == "error_handler" {
			attrs = append(attrs, AttrReason.String("error_handler"))
		} else {
			attrs = append(attrs, AttrReason.String("fallback"))
		}
		t.span().AddEvent("fallback", trace.WithTimestamp(at), trace.WithAttributes(attrs...))
	case engine.EventHook:
		attrs := []attribute.KeyValue{AttrHook.String(e.Hook)}
		if e.Action != "" {
			attrs = append(attrs, AttrAction.String(e.Action))
		}
		if e.ErrKind != "" {
			attrs = append(attrs, AttrErrorKind.String(string(e.ErrKind)))
		}
		t.span().AddEvent("hook", trace.WithTimestamp(at), trace.WithAttributes(attrs...))
	case engine.EventNodeEnd:
		// The attempt and the visit end at this instant: one timestamp option for both.
		end := trace.WithTimestamp(at)
		t.endAttempt(at, end, nil)
		if t.visit != nil {
			t.action = e.Action
			if e.ErrKind != "" {
				t.vKind = e.ErrKind
				t.visit.SetStatus(codes.Error, e.Message)
			}
			t.visitEnd = end
		}
	case engine.EventTransition:
		t.to = e.To
	case engine.EventRunEnd:
		t.endAttempt(at, nil, nil)
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
		t.endAttempt(t.base, nil, nil)
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

// endAttempt ends the open attempt span at at (end, when given, is that time's option),
// as failed when failed is set, and records its latency.
func (t *Tracer) endAttempt(at time.Time, end trace.SpanEndOption, failed *engine.Event) {
	if t.attempt == nil {
		return
	}
	n := t.aNode
	t.scratch = append(append(t.scratch[:0], n.span...), AttrVisit.Int(t.vNumber), AttrAttempt.Int(t.aNumber))
	var kind engine.Kind
	if failed != nil {
		kind = failed.ErrKind
		t.scratch = append(t.scratch, AttrErrorKind.String(string(kind)))
		t.attempt.SetStatus(codes.Error, failed.Message)
	}
	t.attempt.SetAttributes(t.scratch...)
	if end == nil {
		end = trace.WithTimestamp(at)
	}
	t.endOpt[0] = end
	t.attempt.End(t.endOpt[:]...)
	t.inst.attempt.Record(context.Background(), at.Sub(t.attStart).Seconds(), n.outcome(kind)...)
	t.attempt = nil
}

// endVisit ends the open visit span where its node ended (or now, if it never did).
func (t *Tracer) endVisit() {
	if t.visit == nil {
		return
	}
	t.scratch = append(append(t.scratch[:0], t.vNode.span...), AttrVisit.Int(t.vNumber))
	if t.action != "" {
		t.scratch = append(t.scratch, AttrAction.String(t.action))
		if t.to != "" {
			t.scratch = append(t.scratch, AttrTo.String(t.to))
		}
	}
	if t.vKind != "" {
		t.scratch = append(t.scratch, AttrErrorKind.String(string(t.vKind)))
	}
	t.visit.SetAttributes(t.scratch...)
	t.action, t.to = "", ""
	if t.visitEnd == nil {
		t.visit.End()
	} else {
		t.endOpt[0] = t.visitEnd
		t.visit.End(t.endOpt[:]...)
	}
	t.visit, t.visitCtx, t.visitEnd = nil, t.runCtx, nil
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
