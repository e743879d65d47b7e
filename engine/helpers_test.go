package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// echoNode is a test node type: exec returns {value: params.value}, post returns the
// "action" param (default "success"). Failures come from scenario faults.
type echoNode struct{ action string }

type echoResult struct {
	Value   int `expr:"value"`
	Attempt int `expr:"attempt"`
}

func (e *echoNode) Prep(v *Visit) (any, error) { return nil, nil }
func (e *echoNode) Exec(ctx context.Context, a *Attempt, _ any) (any, error) {
	val, _ := a.Param("value")
	n, _ := val.(int)
	return echoResult{Value: n, Attempt: a.Number()}, nil
}
func (e *echoNode) Post(v *Visit, _, out any) (string, error) {
	v.Set(v.Node(), out.(echoResult).Value)
	return e.action, nil
}

// sleepNode sleeps on the clock for its "sleep" param, then succeeds.
type sleepNode struct{ echoNode }

func (s *sleepNode) Exec(ctx context.Context, a *Attempt, in any) (any, error) {
	d, _ := a.Param("sleep")
	if err := a.Sleep(ctx, parseDur(d)); err != nil {
		return nil, err
	}
	return s.echoNode.Exec(ctx, a, in)
}

// panicNode panics in exec.
type panicNode struct{ echoNode }

func (p *panicNode) Exec(context.Context, *Attempt, any) (any, error) { panic("boom") }

// recoverNode handles its own failures in Go and continues along "recovered".
type recoverNode struct{ echoNode }

func (p *recoverNode) Exec(context.Context, *Attempt, any) (any, error) {
	return nil, Errorf(Network, "unreachable")
}
func (p *recoverNode) OnError(v *Visit, err *NodeError) (string, bool) {
	return "recovered", err.Kind == Network
}

func testRegistry(t testing.TB) *Registry {
	t.Helper()
	reg := NewRegistry()
	mk := func(name string, actions []string, build func(action string) Node) {
		err := reg.Register(NodeType{Name: name, Actions: actions, Result: echoResult{}, New: func(s NodeSpec) (Node, error) {
			a, _ := s.Params["action"].(string)
			if a == "" {
				a = "success"
			}
			return build(a), nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	acts := []string{"success", "other", "default"}
	mk("echo", acts, func(a string) Node { return &echoNode{action: a} })
	mk("sleep", acts, func(a string) Node { return &sleepNode{echoNode{action: a}} })
	mk("panic", acts, func(a string) Node { return &panicNode{echoNode{action: a}} })
	mk("recover", append(acts, "recovered"), func(a string) Node { return &recoverNode{echoNode{action: a}} })
	return reg
}

func mustLoad(t testing.TB, src string) *Graph {
	t.Helper()
	g, ds := Load("test.yaml", []byte(strings.TrimLeft(src, "\n")), testRegistry(t))
	if ds.HasErrors() {
		t.Fatalf("load failed:\n%s", ds)
	}
	return g
}

// runVirtual runs g on a fresh virtual clock with a recorder and returns both.
func runVirtual(t testing.TB, g *Graph, opts RunOptions) (*Result, []Event) {
	t.Helper()
	rec := &Recorder{}
	opts.Clock = NewVirtualClock(Epoch)
	opts.Tracer = rec
	res, err := g.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res, rec.Events()
}

func eventsOf(events []Event, kind EventKind) []Event {
	var out []Event
	for _, e := range events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func delays(events []Event) string {
	var parts []string
	for _, e := range eventsOf(events, EventRetryScheduled) {
		parts = append(parts, e.Delay.String())
	}
	return strings.Join(parts, " ")
}

func pathString(r *Result) string {
	var parts []string
	for _, s := range r.Path {
		p := s.Node
		if s.Action != "" {
			p += "(" + s.Action + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " → ") + " = " + string(r.Status)
}

func parseDur(v any) time.Duration {
	d, err := time.ParseDuration(fmt.Sprint(v))
	if err != nil {
		panic(err)
	}
	return d
}
