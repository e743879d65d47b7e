package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// EventKind says what a trace event records.
type EventKind uint8

// The trace event kinds.
const (
	EventRunStart EventKind = iota + 1
	EventRunEnd
	EventNodeStart
	EventNodeEnd
	EventAttempt
	EventAttemptFailed
	EventRetryScheduled
	EventBreakerState
	EventBreakerRejected
	EventFaultInjected
	EventHook
	EventFallback
	EventTransition
	// EventRunResumed starts a run continued from its journal, in place of run_start.
	EventRunResumed
	// EventParams records the values a visit's ${{ }} param templates computed.
	EventParams
	// EventScopeStart and EventScopeEnd open and close a child run in its parent's
	// trace: a map's item, a parallel node's branch, a called workflow. Events between
	// them carry its Scope.
	EventScopeStart
	EventScopeEnd
)

var eventNames = [...]string{
	EventRunStart: "run_start", EventRunEnd: "run_end", EventNodeStart: "node_start", EventNodeEnd: "node_end",
	EventAttempt: "attempt", EventAttemptFailed: "attempt_failed", EventRetryScheduled: "retry_scheduled",
	EventBreakerState: "breaker_state", EventBreakerRejected: "breaker_rejected", EventFaultInjected: "fault_injected",
	EventHook: "hook", EventFallback: "fallback", EventTransition: "transition",
	EventRunResumed: "run_resumed", EventParams: "params", EventScopeStart: "scope_start", EventScopeEnd: "scope_end",
}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return "unknown"
}

// MarshalText writes the kind's name.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name, so stored traces can be read back.
func (k *EventKind) UnmarshalText(b []byte) error {
	for i, name := range eventNames {
		if name != "" && name == string(b) {
			*k = EventKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown trace event %q", b)
}

// Duration marshals as a Go duration string ("1.5s"), which people can read in a trace.
type Duration time.Duration

// MarshalText writes the duration as a string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

func (d Duration) String() string { return time.Duration(d).String() }

// Event is one entry of a run's trace. Fields that do not apply to a kind are empty.
type Event struct {
	Seq  int       `json:"seq"`
	At   Duration  `json:"at"`
	Kind EventKind `json:"event"`
	// Scope names the child run an event belongs to, "" for the run's own: a map's
	// item ("fan[3]"), a parallel node's branch ("both/left"), a called workflow
	// ("sub"), nested with "/" ("both/left/fan[0]"). Node is then the child's node.
	Scope string `json:"scope,omitempty"`
	Node  string `json:"node,omitempty"`
	// Visit counts the node's visits in this run, from 1.
	Visit   int `json:"visit,omitempty"`
	Attempt int `json:"attempt,omitempty"`
	// Action is the action a node emitted (node_end, transition) or a hook chose.
	Action string `json:"action,omitempty"`
	// To is the next node (transition, fallback).
	To string `json:"to,omitempty"`
	// Guard is the source of the guard that chose a transition.
	Guard string `json:"guard,omitempty"`
	// ErrKind and Message describe a failure.
	ErrKind Kind   `json:"error_kind,omitempty"`
	Message string `json:"message,omitempty"`
	// Delay is the wait before a retry, or the latency a fault injected.
	Delay Duration `json:"delay,omitempty"`
	// RetryAfter is the wait the failed call asked for (retry_scheduled), which
	// lengthened Delay up to the retry's max_delay.
	RetryAfter Duration `json:"retry_after,omitempty"`
	// Breaker, From and State describe a breaker event.
	Breaker string `json:"breaker,omitempty"`
	From    string `json:"from,omitempty"`
	State   string `json:"state,omitempty"`
	// Hook names the hook that fired ("before_prep[0]", "on_error[1]", "go:on_error").
	Hook string `json:"hook,omitempty"`
	// Status is the run's final status (run_end).
	Status Status `json:"status,omitempty"`
	// Params are the values of a visit's param templates, by their path in the node's
	// params (params); long strings are cut like messages.
	Params map[string]any `json:"params,omitempty"`
}

// NodePath names the event's node by its path in the workflow file: the node's name for
// the run's own events, "fan/call" for node call of map fan's items, "both/left/call" in
// branch left of parallel node both (the item's index left out).
func (e *Event) NodePath() string {
	if e.Scope == "" {
		return e.Node
	}
	return ScopePath(e.Scope) + "/" + e.Node
}

// ScopePath is a scope without its items' indexes: "both/left/fan[3]" → "both/left/fan".
func ScopePath(scope string) string {
	if !strings.Contains(scope, "[") {
		return scope
	}
	var b strings.Builder
	skip := false
	for _, c := range scope {
		switch {
		case c == '[':
			skip = true
		case c == ']':
			skip = false
		case !skip:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// Tracer receives a run's events in order. Runs call it from their own goroutine; a
// Tracer shared by concurrent runs must be safe for concurrent use.
type Tracer interface {
	Event(e Event)
}

// Recorder is a Tracer that keeps events in memory, for tests and reports. It keeps at
// most Limit events when Limit > 0 (the first ones) and counts the rest as Dropped. It is
// safe for concurrent use.
type Recorder struct {
	Limit int

	mu      sync.Mutex
	events  []Event
	dropped int
}

// Event records e.
func (r *Recorder) Event(e Event) {
	r.mu.Lock()
	if r.Limit > 0 && len(r.events) >= r.Limit {
		r.dropped++
	} else {
		r.events = append(r.events, e)
	}
	r.mu.Unlock()
}

// Events returns a copy of the recorded events.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Dropped returns how many events were not kept because of Limit.
func (r *Recorder) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// JSONLines is a Tracer that streams each event as one JSON object per line, so a trace
// of any length costs constant memory. It is safe for concurrent use; the first write
// error stops output and is kept for Err.
type JSONLines struct {
	mu  sync.Mutex
	enc *json.Encoder
	err error
}

// NewJSONLines returns a tracer writing to w.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{enc: json.NewEncoder(w)} }

// Event writes e as one line.
func (j *JSONLines) Event(e Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err == nil {
		j.err = j.enc.Encode(e)
	}
}

// Err returns the first write error, if any.
func (j *JSONLines) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// ContextTracer is a Tracer that also carries its trace into the context an attempt's
// node runs with (an OpenTelemetry span, so an http node's request continues the trace).
// The run calls AttemptContext right after each attempt event.
type ContextTracer interface {
	Tracer
	AttemptContext(ctx context.Context) context.Context
}

// Tee sends every event to each of the tracers in turn.
type Tee []Tracer

// Event forwards e.
func (t Tee) Event(e Event) {
	for _, tr := range t {
		tr.Event(e)
	}
}

// contextTracerOf returns t as a ContextTracer when it, or a tracer it tees to, carries
// trace context, and nil otherwise, so a run decides once rather than per attempt.
func contextTracerOf(t Tracer) ContextTracer {
	if tee, ok := t.(Tee); ok {
		for _, tr := range tee {
			if contextTracerOf(tr) != nil {
				return tee
			}
		}
		return nil
	}
	ct, _ := t.(ContextTracer)
	return ct
}

// AttemptContext passes ctx through each tracer that is a ContextTracer.
func (t Tee) AttemptContext(ctx context.Context) context.Context {
	for _, tr := range t {
		if ct, ok := tr.(ContextTracer); ok {
			ctx = ct.AttemptContext(ctx)
		}
	}
	return ctx
}
