package engine

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/kgrun/kgrun/engine/policy"
)

// Kind classifies an error so that policies can decide what to retry and what a breaker
// counts. Node types attach kinds with WithKind or Errorf.
type Kind string

// The error kinds. Their names are the ones workflow files use.
const (
	// Network: a connection failed or was reset; usually worth retrying.
	Network Kind = "network"
	// Timeout: an attempt ran past its per-attempt timeout.
	Timeout Kind = "timeout"
	// Resource: a limit was hit (memory, disk, connections, a full bulkhead).
	Resource Kind = "resource"
	// Data: the input is wrong; retrying cannot help, and breakers do not count it.
	Data Kind = "data"
	// CircuitOpen: a breaker refused the call; never retried, never counted as a failure.
	CircuitOpen Kind = "circuit_open"
	// Canceled: the run was canceled; not retried, not counted.
	Canceled Kind = "canceled"
	// Internal: a node panicked or broke its contract.
	Internal Kind = "internal"
	// Failed: any other failure, and the kind of errors that carry none.
	Failed Kind = "failed"
	// Limit: an expression reached its step or byte limit (limits.expr_steps,
	// limits.expr_bytes); evaluating it again cannot help, so it is not retried.
	Limit Kind = "limit"
)

// Kinds lists every kind, in the order documentation presents them.
var Kinds = []Kind{Network, Timeout, Resource, Data, CircuitOpen, Canceled, Internal, Failed, Limit}

// kindError attaches a Kind to an error.
type kindError struct {
	kind Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

// WithKind returns err classified as kind. A nil err stays nil.
func WithKind(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

// Errorf formats an error of the given kind, like fmt.Errorf (so %w wraps).
func Errorf(kind Kind, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

// KindOf returns the kind of err: the innermost kind attached with WithKind wins over
// outer wrapping only when no outer one was attached; context errors map to timeout and
// canceled; an unclassified error is Failed.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	// The common shapes first, without errors.As's reflection: a kinded error or a
	// NodeError itself (errors.As would find them first too).
	switch e := err.(type) {
	case *kindError:
		return e.kind
	case *NodeError:
		return e.Kind
	}
	var ke *kindError
	if errors.As(err, &ke) {
		return ke.kind
	}
	var ne *NodeError
	if errors.As(err, &ne) {
		return ne.Kind
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, policy.ErrBulkheadFull):
		return Resource
	}
	return Failed
}

// Sentinel errors, for errors.Is.
var (
	// ErrCircuitOpen is wrapped by every rejection from an open or saturated breaker.
	ErrCircuitOpen = errors.New("circuit breaker is open")
	// ErrMaxSteps is wrapped when a run exceeds its max_steps.
	ErrMaxSteps = errors.New("max_steps exceeded")
	// ErrUnrouted is wrapped when a failure reaches no hook, edge, fallback or handler.
	ErrUnrouted = errors.New("failure not handled")
)

// NodeError is the final failure of one node visit, as routing sees it. It is read-only
// once made: the visits that a breaker refuses share one.
type NodeError struct {
	Node string
	Kind Kind
	// Phase is where it happened: before_prep, prep, exec, after_exec, post or route.
	Phase string
	// Attempts is the number of exec attempts made (0 when exec was not reached).
	Attempts int
	Err      error

	exhausted bool
	// action is a composite node's own failure action (map_failed, parallel_failed).
	action string
}

func (e *NodeError) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("node %q: %s (%s, after %d attempts): %v", e.Node, e.Phase, e.Kind, e.Attempts, e.Err)
	}
	return fmt.Sprintf("node %q: %s (%s): %v", e.Node, e.Phase, e.Kind, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// noEdgeError is a routing failure: edges exist for the action, but no guard held.
type noEdgeError struct{ action string }

func (e *noEdgeError) Error() string {
	return fmt.Sprintf("no edge for action %q matched: every guard was false; add an unguarded edge last", e.action)
}

// Diagnose says what happened in a failure the engine itself recognises (a node that
// panicked or ended its goroutine, a guard that held nowhere, max_steps, a journal that
// could not commit) and what to do about it. It returns "" for failures that are the
// node's own business, where the kind says enough.
func Diagnose(e *NodeError) string {
	var (
		pe *panicError
		ge *goexitErr
		ne *noEdgeError
	)
	switch {
	case errors.Is(e, ErrMaxSteps):
		return "the run made max_steps visits without reaching an end: check the exit condition of the loop through " + fmt.Sprintf("%q", e.Node) + ", or raise max_steps"
	case errors.As(e, &pe):
		return fmt.Sprintf("node %q panicked in %s: a bug in its type; report it with the trace", e.Node, e.Phase)
	case errors.As(e, &ge):
		return fmt.Sprintf("node %q called runtime.Goexit in %s: its type must return errors instead", e.Node, e.Phase)
	case errors.As(e, &ne):
		return fmt.Sprintf("no guard held on the edges of node %q for action %q: add an unguarded edge last, or correct the guards", e.Node, ne.action)
	case e.Phase == "route":
		return fmt.Sprintf("a guard on node %q's edges could not be evaluated: correct the expression the error names", e.Node)
	case e.Phase == "journal":
		return "the journal could not record a visit: check the store (space, permissions), then resume the run"
	case e.Phase == "resume":
		return "the run could not be resumed from its journal: check that the workflow still has the node it continues at"
	}
	return ""
}

// panicError is what a recovered panic inside a node becomes.
type panicError struct {
	value any
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// MaxMessageLen bounds the error messages copied into trace events and steps, so that a
// node failing with a megabyte of text cannot swell a trace, a report or a journal. The
// full error stays in Result.Err and Result.Failures.
const MaxMessageLen = 1024

// ShortMessage returns err's message, cut at MaxMessageLen bytes on a character boundary
// with a note of how much was left out.
func ShortMessage(err error) string {
	msg := err.Error()
	if len(msg) <= MaxMessageLen {
		return msg
	}
	cut := MaxMessageLen
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", msg[:cut], len(msg)-cut)
}

// containError returns err unless reading it panics (its Error, Unwrap or As method), in
// which case it returns an internal error that says so: a node's error is read by the
// run loop, outside the node's own protection, so it must be known safe before that.
func containError(err error) (safe error) {
	if err == nil {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			safe = WithKind(Internal, fmt.Errorf("reading the node's error (a %T) panicked: %v; return errors whose methods do not panic", err, p))
		}
	}()
	_ = err.Error()
	_ = KindOf(err)
	return err
}
