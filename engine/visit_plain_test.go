package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// phaseNode misbehaves in one phase as its params say: fail (an error of kind
// network), panic, goexit, or (in post) return an undeclared or empty action.
type phaseNode struct {
	phase, how string
}

func (p *phaseNode) act(phase string) error {
	if p.phase != phase {
		return nil
	}
	switch p.how {
	case "fail":
		return Errorf(Network, "%s failed", phase)
	case "panic":
		panic(phase + " panicked")
	case "goexit":
		runtime.Goexit()
	case "bad_error":
		return badError{}
	}
	return nil
}

// badError panics when asked for its message, as a careless error type may.
type badError struct{}

func (badError) Error() string { panic("no message") }

func (p *phaseNode) Prep(v *Visit) (any, error) {
	v.Set("prep", v.Number())
	return "in", p.act("prep")
}

func (p *phaseNode) Exec(_ context.Context, a *Attempt, in any) (any, error) {
	if err := p.act("exec"); err != nil {
		return nil, err
	}
	return fmt.Sprintf("%v:%d:%d", in, a.Number(), a.Call()), nil
}

func (p *phaseNode) Post(v *Visit, _, out any) (string, error) {
	if err := p.act("post"); err != nil {
		return "", err
	}
	v.Set("out", out)
	switch p.how {
	case "undeclared":
		return "nowhere", nil
	case "empty":
		return "", nil
	}
	return "next", nil
}

// TestPlainVisitsMatch runs workflows whose nodes fail, panic, end their goroutine or
// return odd actions in each phase, once on the plain path (no tracer) and once on the
// general one (a tracer makes every visit take visitNode), and requires the same
// result: status, path, failures, shared values and calls.
func TestPlainVisitsMatch(t *testing.T) {
	reg := NewRegistry()
	err := reg.Register(NodeType{Name: "phase", Actions: []string{"next", "default"},
		New: func(s NodeSpec) (Node, error) {
			ph, _ := s.Params["phase"].(string)
			how, _ := s.Params["how"].(string)
			return &phaseNode{phase: ph, how: how}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, phase := range []string{"prep", "exec", "post"} {
		for _, how := range []string{"fail", "panic", "goexit", "bad_error"} {
			cases = append(cases, fmt.Sprintf("{phase: %s, how: %s}", phase, how))
		}
	}
	cases = append(cases, "{how: undeclared}", "{how: empty}", "{}")
	routings := []string{"on: {next: b, default: b, error: b}", "on: {next: b, default: b}", "fallback: b",
		// With a breaker that two counted failures open: exec's failures and panics
		// are recorded, later visits refused.
		"breaker: svc, on: {next: b, default: b, error: b, circuit_open: b}", "breaker: svc, fallback: b"}
	ran, rejected := 0, 0
	for _, params := range cases {
		for _, routing := range routings {
			src := fmt.Sprintf(`
version: 1
name: plain
start: a
max_steps: 20
breakers:
  svc: {failure_threshold: 2, open_timeout: 1h}
nodes:
  a: {type: phase, params: %s, %s}
  b: {type: phase, on: {next: c}}
  c: {type: phase, params: %s, %s}
`, params, routing, params, strings.ReplaceAll(routing, ": b", ": a"))
			name := params + " " + routing
			// Each run gets its own graph: breakers keep their state across a
			// graph's runs.
			load := func() *Graph {
				g, ds := Load("plain.yaml", []byte(src), reg)
				if ds.HasErrors() {
					return nil // an unrouted failure action: not a runnable case
				}
				for _, n := range g.nodes {
					if !n.plain {
						t.Fatalf("%s: node %s does not take the plain path", name, n.name)
					}
				}
				return g
			}
			g := load()
			if g == nil {
				continue
			}
			ran++
			plain := runResult(t, g, nil)
			general := runResult(t, load(), &Recorder{})
			if strings.Contains(plain, `"circuit_open"`) {
				rejected++
			}
			if plain != general {
				t.Errorf("%s:\nplain   %s\ngeneral %s", name, plain, general)
			}
		}
	}
	if ran < 50 || rejected < 5 {
		t.Errorf("only %d cases ran, %d with visits the breaker refused", ran, rejected)
	}
}

func runResult(t *testing.T, g *Graph, tr Tracer) string {
	t.Helper()
	opts := RunOptions{Clock: NewVirtualClock(Epoch)}
	if tr != nil {
		opts.Tracer = tr
	}
	res, err := g.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, f := range res.Failures {
		msgs = append(msgs, fmt.Sprintf("%s/%s/%s/%d/%v", f.Node, f.Kind, f.Phase, f.Attempts, errors.Unwrap(f) != nil))
	}
	b, err := json.Marshal(struct {
		R *Result
		F []string
	}{res, msgs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
