package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// noopNode does nothing and always emits "next": the cheapest possible node, so the
// benchmarks measure the engine, not the work.
type noopNode struct{}

func (noopNode) Prep(*Visit) (any, error)                         { return nil, nil }
func (noopNode) Exec(context.Context, *Attempt, any) (any, error) { return nil, nil }
func (noopNode) Post(*Visit, any, any) (string, error)            { return "next", nil }

type countResult struct {
	N int `expr:"n"`
}

// countNode's result carries a number, for guards to test.
type countNode struct{}

func (countNode) Prep(*Visit) (any, error) { return nil, nil }
func (countNode) Exec(context.Context, *Attempt, any) (any, error) {
	return &countResult{N: 1}, nil
}
func (countNode) Post(*Visit, any, any) (string, error) { return "next", nil }

func benchRegistry(b testing.TB) *Registry {
	reg := NewRegistry()
	for _, t := range []NodeType{
		{Name: "noop", Actions: []string{"next"}, New: func(NodeSpec) (Node, error) { return noopNode{}, nil }},
		{Name: "count", Actions: []string{"next"}, Result: &countResult{}, New: func(NodeSpec) (Node, error) { return countNode{}, nil }},
	} {
		if err := reg.Register(t); err != nil {
			b.Fatal(err)
		}
	}
	return reg
}

func benchLoad(b *testing.B, src string) *Graph {
	g, ds := Load("bench.yaml", []byte(src), benchRegistry(b))
	if ds.HasErrors() {
		b.Fatal(ds)
	}
	return g
}

// runSteps runs g for exactly b.N node visits (the loop never ends by itself) and
// reports the time per visit, which is one transition.
func runSteps(b *testing.B, g *Graph) { runStepsOn(b, g, NewVirtualClock(Epoch)) }

func runStepsOn(b *testing.B, g *Graph, clock Clock) {
	b.ReportAllocs()
	b.ResetTimer()
	res, err := g.Run(context.Background(), RunOptions{MaxSteps: b.N, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	if res.Status != StatusFailed || res.Steps() != b.N {
		b.Fatalf("ran %d steps, status %s", res.Steps(), res.Status)
	}
}

// BenchmarkTransition: two no-op nodes looping, no policies, no trace.
func BenchmarkTransition(b *testing.B) {
	runSteps(b, benchLoad(b, `
version: 1
name: loop
start: a
nodes:
  a: {type: noop, on: {next: b}}
  b: {type: noop, on: {next: a}}
`))
}

// BenchmarkDirect is the baseline: the same no-op node's methods called in a loop by hand,
// choosing the next node by a switch, with no engine at all.
func BenchmarkDirect(b *testing.B) {
	b.ReportAllocs()
	nodes := [2]Node{noopNode{}, noopNode{}}
	ctx := context.Background()
	cur := 0
	var v Visit
	var a Attempt
	for i := 0; i < b.N; i++ {
		n := nodes[cur]
		in, err := n.Prep(&v)
		if err != nil {
			b.Fatal(err)
		}
		out, err := n.Exec(ctx, &a, in)
		if err != nil {
			b.Fatal(err)
		}
		action, err := n.Post(&v, in, out)
		if err != nil {
			b.Fatal(err)
		}
		switch action {
		case "next":
			cur = 1 - cur
		default:
			b.Fatal(action)
		}
	}
}

// BenchmarkTransitionGuarded: the same loop with one expr guard on each edge.
func BenchmarkTransitionGuarded(b *testing.B) {
	runSteps(b, benchLoad(b, `
version: 1
name: guarded
start: a
nodes:
  a: {type: count, on: {next: [{to: b, when: "result.n > 0"}]}}
  b: {type: count, on: {next: [{to: a, when: "result.n > 0"}]}}
`))
}

// BenchmarkPolicyStack: one node's success path through retry, breaker, bulkhead and
// per-attempt timeout, on the virtual clock that tests and simulations use.
func BenchmarkPolicyStack(b *testing.B) { runSteps(b, benchLoad(b, policyStack)) }

// BenchmarkPolicyStackRealClock is the same on the wall clock, where the timeout needs a
// real timer and exec runs in its own goroutine so the timeout can cut it.
func BenchmarkPolicyStackRealClock(b *testing.B) {
	runStepsOn(b, benchLoad(b, policyStack), RealClock{})
}

const policyStack = `
version: 1
name: policies
start: a
breakers:
  api: {failure_threshold: 5, open_timeout: 30s}
nodes:
  a:
    type: noop
    retry: {attempts: 3, delay: 100ms, backoff: exponential}
    breaker: api
    bulkhead: {max_concurrent: 4, max_wait: 1s}
    timeout: 1s
    on: {next: b}
  b:
    type: noop
    retry: {attempts: 3, delay: 100ms, backoff: exponential}
    breaker: api
    bulkhead: {max_concurrent: 4, max_wait: 1s}
    timeout: 1s
    on: {next: a}
`

// generated returns a workflow of n nodes in a chain, each with a guarded edge and a
// retry policy, for compile benchmarks.
func generated(n int) []byte {
	var sb strings.Builder
	sb.WriteString("version: 1\nname: generated\nstart: n0\nnodes:\n")
	for i := 0; i < n; i++ {
		next := fmt.Sprintf("n%d", (i+1)%n)
		fmt.Fprintf(&sb, "  n%d:\n    type: count\n    retry: {attempts: 2, delay: 10ms}\n    on:\n      next:\n        - {to: %s, when: \"result.n > %d\"}\n        - {to: %s}\n",
			i, next, i%7, next)
	}
	return []byte(sb.String())
}

func BenchmarkCompile(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		src := generated(n)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			reg := benchRegistry(b)
			b.ReportAllocs()
			b.SetBytes(int64(len(src)))
			for i := 0; i < b.N; i++ {
				if g, ds := Load("gen.yaml", src, reg); g == nil {
					b.Fatal(ds)
				}
			}
		})
	}
}
