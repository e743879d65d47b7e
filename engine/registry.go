package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/kgrun/kgrun/schema"
)

// Node is the Go side of a node: Prep reads the shared store, Exec does the work (and is
// what policies retry, time out and guard), Post writes results and chooses the action.
//
// One Node value serves every run of a Graph, possibly at the same time, so it must keep
// per-run state in the shared store (through Visit), never in its own fields.
type Node interface {
	// Prep prepares Exec's input from the shared store and parameters.
	Prep(v *Visit) (any, error)
	// Exec does the work. It must not touch the shared store, should honour ctx, and
	// should take time, randomness and sleeps from a (so runs are reproducible).
	Exec(ctx context.Context, a *Attempt, input any) (any, error)
	// Post stores results and returns the action that selects the next edge; "" means
	// "default".
	Post(v *Visit, input, output any) (string, error)
}

// BeforePrepHook is implemented by node types that check conditions before Prep; an error
// fails the visit (with kind data unless the error carries one).
type BeforePrepHook interface {
	BeforePrep(v *Visit) error
}

// AfterExecHook is implemented by node types that validate or record Exec's result
// before Post sees it.
type AfterExecHook interface {
	AfterExec(v *Visit, input, output any) error
}

// ErrorHook is implemented by node types that recover from their own failures. Returning
// handled=true suppresses the error and continues along action, which must be one of the
// type's actions routed by the node. It runs after the node's YAML on_error hooks.
type ErrorHook interface {
	OnError(v *Visit, err *NodeError) (action string, handled bool)
}

// NodeType describes a kind of node that workflows name in "type:".
type NodeType struct {
	// Name is what workflows write in "type:".
	Name string
	// Doc says in one line what the node does.
	Doc string
	// Actions lists the actions Post may return. Failure actions (circuit_open,
	// retry_exhausted, timeout, error) are implied for every type.
	Actions []string
	// Failures lists which of Actions are failure outcomes (a delivery that delivered
	// nothing, say): a workflow must route each of them (leaving one unrouted is a
	// validation error), and a run that nonetheless ends on one is failed.
	Failures []string
	// Result is a zero value of Exec's result type. When set, guards and hooks that read
	// "result" are type-checked against it at load time. A backend that runs exec in
	// another process (see Backend) decodes exec's result into a new value of this type,
	// so it must survive encoding/json unchanged; without it the result arrives as
	// plain JSON values (maps, lists, strings, float64s).
	Result any
	// Input is a zero value of Exec's input type (what Prep returns), for the same
	// backends: they encode the input with encoding/json and decode it into a new value
	// of this type on the other side, so it too must survive encoding/json unchanged.
	Input any
	// Params declares the params the type takes; they are checked at load and carried
	// into the JSON Schema. Nil means undeclared (not checked); NoParams means none.
	Params []Param
	// NoRetry says the type's exec is pure and deterministic, so a retry could only fail
	// again: a node of the type that declares retry is a load error.
	NoRetry bool
	// Redact, when set, gives what the trace (and so the report and the journal) shows
	// for a param computed by a ${{ }} template: path leads to it from the visit's
	// params, which are all computed. A type whose params can carry secrets returns a
	// redacted value for them.
	Redact func(path []any, value any, params map[string]any) any
	// New builds the node for one workflow node from its params. Errors become
	// diagnostics at the node's position.
	New func(spec NodeSpec) (Node, error)
}

// NodeSpec is what NewNode receives: the node's name, params and position.
type NodeSpec struct {
	Name   string
	Params map[string]any
	Pos    schema.Pos
}

// FailureActions are the actions a node emits when its exec finally fails.
var FailureActions = []string{"circuit_open", "retry_exhausted", "timeout", "error"}

// Registry maps type names to node types. Embedding programs build one explicitly
// (package builtin offers its types through a function, not through init), so what a
// program can run is visible in its own code. A Registry is safe for concurrent reads
// once registration is finished.
type Registry struct {
	types map[string]*NodeType
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]*NodeType{}} }

// Register adds a node type; registering a name twice or a type without New is an error.
func (r *Registry) Register(t NodeType) error {
	switch {
	case t.Name == "":
		return fmt.Errorf("register node type: empty name")
	case t.New == nil:
		return fmt.Errorf("register node type %q: New is nil", t.Name)
	}
	if err := checkParamDecls(t); err != nil {
		return err
	}
	if _, dup := r.types[t.Name]; dup {
		return fmt.Errorf("register node type %q: already registered", t.Name)
	}
	for _, a := range t.Actions {
		for _, f := range FailureActions {
			if a == f {
				return fmt.Errorf("register node type %q: action %q is reserved for failures", t.Name, a)
			}
		}
	}
	for _, f := range t.Failures {
		if !slices.Contains(t.Actions, f) {
			return fmt.Errorf("register node type %q: failure action %q is not one of its actions", t.Name, f)
		}
	}
	r.types[t.Name] = &t
	return nil
}

// Lookup returns the type registered under name.
func (r *Registry) Lookup(name string) (*NodeType, bool) {
	t, ok := r.types[name]
	return t, ok
}

// Names returns the registered type names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.types))
	for n := range r.types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
