package bench

import (
	"context"
	"errors"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// payload is what successful work returns: preallocated, so that no side pays for boxing
// a result.
type payload struct{ n int }

var (
	result = &payload{n: 1}
	// errTransient is the failure every side sees: a network error, which kgrun retries
	// and its breakers count by default.
	errTransient = engine.WithKind(engine.Network, errors.New("transient failure"))
	// errOpen is what the hand-written breaker returns when it refuses a call.
	errOpen = errors.New("breaker open")
)

// work succeeds at once. The work functions are never inlined, so that the hand-written
// baselines make a real call, as every library does.
//
//go:noinline
func work() (any, error) { return result, nil }

// failing always fails.
//
//go:noinline
func failing() (any, error) { return nil, errTransient }

// flaky fails on its first two calls after a reset and succeeds on the third.
type flaky struct{ calls int }

//go:noinline
func (f *flaky) call() (any, error) {
	f.calls++
	if f.calls < 3 {
		return nil, errTransient
	}
	return result, nil
}

// workNode is the kgrun node type doing work: Exec is the function under the policies.
type workNode struct{}

func (workNode) Prep(*engine.Visit) (any, error) { return nil, nil }
func (workNode) Exec(context.Context, *engine.Attempt, any) (any, error) {
	return work()
}
func (workNode) Post(*engine.Visit, any, any) (string, error) { return "next", nil }

// flakyNode fails the first two attempts of every visit, like flaky after a reset.
type flakyNode struct{}

func (flakyNode) Prep(*engine.Visit) (any, error) { return nil, nil }
func (flakyNode) Exec(_ context.Context, a *engine.Attempt, _ any) (any, error) {
	if a.Number() < 3 {
		return nil, errTransient
	}
	return result, nil
}
func (flakyNode) Post(*engine.Visit, any, any) (string, error) { return "next", nil }

// failingNode always fails.
type failingNode struct{}

func (failingNode) Prep(*engine.Visit) (any, error) { return nil, nil }
func (failingNode) Exec(context.Context, *engine.Attempt, any) (any, error) {
	return failing()
}
func (failingNode) Post(*engine.Visit, any, any) (string, error) { return "next", nil }

// registry holds the three node types: work, flaky and failing.
func registry(b *testing.B) *engine.Registry {
	reg := engine.NewRegistry()
	for _, t := range []engine.NodeType{
		{Name: "work", Actions: []string{"next"}, New: func(engine.NodeSpec) (engine.Node, error) { return workNode{}, nil }},
		{Name: "flaky", Actions: []string{"next"}, New: func(engine.NodeSpec) (engine.Node, error) { return flakyNode{}, nil }},
		{Name: "failing", Actions: []string{"next"}, New: func(engine.NodeSpec) (engine.Node, error) { return failingNode{}, nil }},
	} {
		if err := reg.Register(t); err != nil {
			b.Fatal(err)
		}
	}
	return reg
}

// compile loads a workflow with registry's node types, failing the benchmark on any
// diagnostic.
func compile(b *testing.B, src string) *engine.Graph {
	b.Helper()
	g, ds := engine.Load("bench.yaml", []byte(src), registry(b))
	if len(ds) > 0 {
		b.Fatal(ds)
	}
	return g
}

// clocks are the two clocks kgrun runs on, named as the benchmarks name them.
var clocks = []struct {
	name string
	new  func() engine.Clock
}{
	{"real", func() engine.Clock { return engine.RealClock{} }},
	{"virtual", func() engine.Clock { return engine.NewVirtualClock(engine.Epoch) }},
}

// runEach measures one whole Graph.Run per op, checking every run's outcome.
func runEach(b *testing.B, g *engine.Graph, clock engine.Clock, check func(*engine.Result) error) {
	b.Helper()
	ctx := context.Background()
	opts := engine.RunOptions{Clock: clock}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		res, err := g.Run(ctx, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := check(res); err != nil {
			b.Fatal(err)
		}
	}
}

// runVisits measures one visit per op: g loops forever, so one run of b.N steps is b.N
// visits.
func runVisits(b *testing.B, g *engine.Graph, clock engine.Clock) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	res, err := g.Run(context.Background(), engine.RunOptions{Clock: clock, MaxSteps: b.N})
	if err != nil {
		b.Fatal(err)
	}
	if res.Steps() != b.N || !errors.Is(res.Err, engine.ErrMaxSteps) {
		b.Fatalf("ran %d of %d steps, ending with %v", res.Steps(), b.N, res.Err)
	}
}

func succeeded(res *engine.Result) error {
	if res.Status != engine.StatusSuccess {
		return errors.New("run ended " + string(res.Status) + ", want success")
	}
	return nil
}
