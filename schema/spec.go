package schema

import "time"

// Workflow is a decoded workflow file. Every named element keeps the position it was
// declared at so that later stages (compile, run) can point back into the file.
type Workflow struct {
	File        string
	Pos         Pos
	Version     int
	Name        string
	Description string
	Start       Ident
	// Params are the workflow's default parameters; scenarios and callers override them.
	Params map[string]any
	// ParamSpecs declare the workflow's params, with their types, in file order.
	ParamSpecs []*Param
	// Input declares the run's input (nil when the workflow takes none).
	Input *Input
	// Output names values computed from the run's state when it ends, in file order.
	Output []*Assignment
	// Env lists the environment variables expressions may read as env.NAME.
	Env          []*EnvVar
	ErrorHandler Ident
	// MaxSteps bounds the number of node visits in one run (cycles are legal).
	MaxSteps int
	// Limits bound every evaluation of an expression.
	Limits    ExprLimits
	Breakers  []*Breaker
	Nodes     []*Node
	Scenarios []*Scenario
	Tests     []*Test
}

// Ident is a name that refers to something declared elsewhere (a node, a breaker, an
// error kind), with the position of the reference. An empty Name means "not given".
type Ident struct {
	Name string
	Pos  Pos
}

// Breaker declares a named circuit breaker shared by every node and run that names it.
type Breaker struct {
	Name             string
	Pos              Pos
	FailureThreshold int
	OpenTimeout      time.Duration
	HalfOpenMaxCalls int
	// Count lists the error kinds that count as failures; empty means the default set.
	Count []Ident
}

// Node declares one node of the graph.
type Node struct {
	Name        string
	Pos         Pos
	Type        Ident
	Description string
	Params      map[string]any
	ParamsPos   map[string]Pos // where each key of Params is written
	// Templates are the strings in Params that hold ${{ EXPR }}.
	Templates []*ParamTemplate
	Retry     *Retry
	Breaker   Ident
	// Timeout bounds each attempt of exec; zero means no per-attempt timeout.
	Timeout  time.Duration
	Bulkhead *Bulkhead
	Fallback Ident
	Hooks    Hooks
	// Edges are in file order: actions in the order written, and for each action its
	// guarded edges in the order written. The first matching edge wins.
	Edges []*Edge
	// Map, Parallel and Call hold what a node of type map, parallel or workflow declares
	// (see spec_compose.go); nil for other types.
	Map      *Map
	Parallel *Parallel
	Call     *Call
}

// Retry declares how failed attempts are retried.
type Retry struct {
	Pos Pos
	// Attempts counts all attempts, the first included: 1 means no retry.
	Attempts int
	Delay    time.Duration
	// Backoff is "fixed" or "exponential".
	Backoff     string
	BackoffPos  Pos
	Multiplier  float64
	MaxDelay    time.Duration
	Jitter      string
	JitterPos   Pos
	MaxDuration time.Duration
	// On lists the error kinds that are retried; empty means the default set.
	On []Ident
}

// Bulkhead limits how many executions of a node may run at once across all runs.
type Bulkhead struct {
	Pos           Pos
	MaxConcurrent int
	MaxWait       time.Duration
}

// Hooks are the YAML-declared hooks of a node, each a list run in order.
type Hooks struct {
	BeforePrep []*Hook
	AfterExec  []*Hook
	OnError    []*Hook
}

// Hook is one YAML hook: an optional condition, then an assertion, assignments to the
// shared store and (for on_error) an action that suppresses the error and routes on.
type Hook struct {
	Pos     Pos
	When    *Expr
	Assert  *Expr
	Message string
	Set     []*Assignment
	Action  Ident
}

// Assignment sets a shared-store key to the value of an expression.
type Assignment struct {
	Key   string
	Pos   Pos
	Value *Expr
}

// Edge leads from a node to the next one when the node's action matches and the guard,
// if any, holds.
type Edge struct {
	Action    string
	ActionPos Pos
	To        Ident
	When      *Expr
}

// Expr is an expr-lang expression with enough about the YAML scalar it came from to map
// a line and column inside the expression back to the file.
type Expr struct {
	Source string
	Pos    Pos
	// Block is true for literal and folded block scalars, whose text starts on the line
	// after the indicator, at column Indent.
	Block  bool
	Indent int
	// Quoted is true for single- and double-quoted scalars (the text starts one column in).
	Quoted bool
}

// At maps a 1-based line and 0-based column inside the expression's source (as expr
// reports them) to a position in the file.
func (e *Expr) At(line, col int) Pos {
	if e == nil {
		return Pos{}
	}
	p := e.Pos
	if line < 1 {
		line = 1
	}
	switch {
	case e.Block:
		p.Line += line
		p.Col = e.Indent + col
	case line == 1:
		p.Col += col
		if e.Quoted {
			p.Col++
		}
	default:
		// Multi-line flow scalars fold their lines; the start of the scalar is the
		// closest position that is certainly right.
	}
	return p
}

// Scenario is a named set of parameter overrides and injected faults.
type Scenario struct {
	Name        string
	Pos         Pos
	Description string
	Params      map[string]any
	ParamsPos   map[string]Pos // where each key of Params is written
	Faults      []*Fault
}

// Fault injects failures and latency into one node's exec, innermost in its policy stack.
type Fault struct {
	Node Ident
	Pos  Pos
	// Rate is the probability that an attempt fails; RateMax > Rate makes it a range from
	// which one rate is drawn per run.
	Rate    float64
	RateMax float64
	Kind    Ident
	Message string
	// Latency delays each affected attempt; LatencyRate is the share of attempts delayed.
	Latency     time.Duration
	LatencyRate float64
	Script      []*FaultStep
}

// FaultStep scripts the outcome of a range of calls to a node's exec, counted from 1
// across the whole run, in the manner of a mock: fail calls 1-2, then succeed.
type FaultStep struct {
	Pos       Pos
	FirstCall int
	// LastCall is 0 for an open range ("3-").
	LastCall int
	Fail     Ident
	Latency  time.Duration
	Message  string
}

// Test is a case in the workflow's own test suite.
type Test struct {
	Name      string
	Pos       Pos
	Scenario  Ident
	Seed      int64
	Params    map[string]any
	ParamsPos map[string]Pos // where each key of Params is written
	// Input is the run's input (nil when the test gives none).
	Input    map[string]any
	InputPos Pos
	Expect   Expect
}

// Expect states what a test run must show.
type Expect struct {
	Pos        Pos
	Status     string
	StatusPos  Pos
	Path       []Ident
	Visited    []Ident
	NotVisited []Ident
	// Output and Shared are values the run's output and shared store must hold, by
	// name (nil when not checked); OutputPos and SharedPos say where each is written.
	Output    map[string]any
	OutputPos map[string]Pos
	Shared    map[string]any
	SharedPos map[string]Pos
}

// Node returns the node declared with the given name, or nil.
func (w *Workflow) Node(name string) *Node {
	for _, n := range w.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Scenario returns the scenario declared with the given name, or nil.
func (w *Workflow) Scenario(name string) *Scenario {
	for _, s := range w.Scenarios {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Breaker returns the breaker declared with the given name, or nil.
func (w *Workflow) Breaker(name string) *Breaker {
	for _, b := range w.Breakers {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// NodeNames lists the declared node names in file order.
func (w *Workflow) NodeNames() []string {
	names := make([]string, len(w.Nodes))
	for i, n := range w.Nodes {
		names[i] = n.Name
	}
	return names
}
