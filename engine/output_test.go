package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

const inputWorkflow = `
version: 1
name: io
start: a
input:
  properties:
    n: {type: integer, minimum: 1}
    label: {type: string, default: plain}
  required: [n]
output:
  doubled: shared.a
  label: input.label
  kind: error.kind
nodes:
  a:
    type: echo
    params: {value: "${{ input.n * 2 }}"}
    on:
      success:
        - {to: big, when: 'input.n > 10'}
        - {to: b}
  b: {type: echo, params: {value: "${{ input.label }}"}}
  big: {type: echo, params: {value: big}}
`

// TestInputAndOutput: the input reaches templates and guards, defaults fill in, and the
// output is computed from the state the run ends with.
func TestInputAndOutput(t *testing.T) {
	g := mustLoad(t, inputWorkflow)
	for _, tc := range []struct {
		name  string
		input map[string]any
		path  string
		out   string
	}{
		{"small", map[string]any{"n": 3}, "a b", `{"doubled":6,"kind":"","label":"plain"}`},
		{"big", map[string]any{"n": 11, "label": "x"}, "a big", `{"doubled":22,"kind":"","label":"x"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := runVirtual(t, g, RunOptions{Input: tc.input})
			if res.Status != StatusSuccess {
				t.Fatalf("status %s: %v", res.Status, res.Err)
			}
			if got := strings.Join(res.PathNodes(), " "); got != tc.path {
				t.Errorf("path %q, want %q", got, tc.path)
			}
			if b, _ := json.Marshal(res.Output); string(b) != tc.out {
				t.Errorf("output %s, want %s", b, tc.out)
			}
		})
	}
}

// TestInputRefused: a run whose input does not fit the declaration does not start, and
// the error names each wrong value.
func TestInputRefused(t *testing.T) {
	g := mustLoad(t, inputWorkflow)
	for _, tc := range []struct {
		input map[string]any
		want  []string
	}{
		{nil, []string{"missing property 'n'"}},
		{map[string]any{"n": 0, "label": 5}, []string{"n: minimum: got 0, want 1", "label: got number, want string"}},
		{map[string]any{"n": 1.5}, []string{"n: got number, want integer"}},
	} {
		_, err := g.Run(context.Background(), RunOptions{Input: tc.input, Clock: NewVirtualClock(Epoch)})
		if err == nil {
			t.Errorf("input %v: the run started", tc.input)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("input %v: error %q does not say %q", tc.input, err, w)
			}
		}
	}
	g2 := mustLoad(t, `
version: 1
name: none
start: a
nodes:
  a: {type: echo}
`)
	if _, err := g2.Run(context.Background(), RunOptions{Input: map[string]any{"x": 1}}); err == nil || !strings.Contains(err.Error(), "declares no input") {
		t.Errorf("a workflow without input took one: %v", err)
	}
}

// TestOutputFailureFailsRun: an output expression that fails at the end turns a
// successful run into a failed one, and is recorded as a failure of phase output.
func TestOutputFailureFailsRun(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: out
start: a
output:
  ratio: 10 / (shared.a - 1)
  first: shared.a
  broken: shared.missing.deeper.size
nodes:
  a: {type: echo, params: {value: 1}}
`)
	res, _ := runVirtual(t, g, RunOptions{})
	if res.Status != StatusFailed {
		t.Fatalf("status %s, want failed", res.Status)
	}
	if res.Output["first"] != 1 {
		t.Errorf("output %v: the values that could be computed are missing", res.Output)
	}
	last := res.Failures[len(res.Failures)-1]
	if last.Phase != "output" || !strings.Contains(last.Err.Error(), "output.broken") {
		t.Errorf("failure %+v does not name output.broken", last)
	}
	if len(res.Degradations) != 1 || !strings.HasPrefix(res.Degradations[0], "output: output.broken") {
		t.Errorf("degradations %q", res.Degradations)
	}

	// A run that failed on its own keeps its status and error; the output it could not
	// compute is recorded, not given as the reason.
	g = mustLoad(t, `
version: 1
name: out
start: a
output:
  broken: shared.missing.deeper
nodes:
  a: {type: echo, params: {action: oops}}
`)
	res, _ = runVirtual(t, g, RunOptions{})
	if res.Status != StatusFailed || !strings.Contains(res.Err.Error(), "not routed") && !strings.Contains(res.Err.Error(), "oops") {
		t.Fatalf("status %s, error %v", res.Status, res.Err)
	}
	if last := res.Failures[len(res.Failures)-1]; last.Phase != "output" || len(res.Degradations) != 0 {
		t.Errorf("last failure %+v, degradations %q", last, res.Degradations)
	}
}

// TestInputJournaledAndResumed: the input rides on the first checkpoint only, and a run
// resumed from the checkpoints reads it without being given it again.
func TestInputJournaledAndResumed(t *testing.T) {
	g := mustLoad(t, inputWorkflow)
	var cps []*Checkpoint
	j := journalFunc(func(cp *Checkpoint) error {
		c := *cp
		cps = append(cps, &c)
		return nil
	})
	res, _ := runVirtual(t, g, RunOptions{Input: map[string]any{"n": 11}, Journal: j})
	if res.Status != StatusSuccess || len(cps) != 2 {
		t.Fatalf("status %s after %d checkpoints", res.Status, len(cps))
	}
	if string(cps[0].Input) != `{"label":"plain","n":11}` || cps[1].Input != nil {
		t.Fatalf("inputs journaled: %s, %s", cps[0].Input, cps[1].Input)
	}
	st := NewRunState()
	if err := st.Apply(cps[0]); err != nil {
		t.Fatal(err)
	}
	resumed, _ := runVirtual(t, g, RunOptions{Resume: st})
	if got := strings.Join(resumed.PathNodes(), " "); got != "a big" || resumed.Output["label"] != "plain" {
		t.Fatalf("resumed path %q, output %v", got, resumed.Output)
	}
	if resumed.Output["doubled"] != float64(22) { // rebuilt from the journal as JSON
		t.Errorf("resumed output %v", resumed.Output)
	}
}

// TestInputInEveryExpression: hooks see input too, and an expression that misspells it
// gets a suggestion at load.
func TestInputInEveryExpression(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: hooks
start: a
input:
  properties: {limit: {type: integer, default: 2}}
nodes:
  a:
    type: echo
    hooks:
      after_exec:
        - set: {limit_seen: input.limit + 1}
`)
	res, _ := runVirtual(t, g, RunOptions{})
	if res.Shared["limit_seen"] != 3 {
		t.Errorf("shared %v", res.Shared)
	}
	_, ds := Load("bad.yaml", []byte("version: 1\nname: x\nstart: a\nnodes:\n  a: {type: echo, on: {success: {to: a, when: 'inptu.x > 1'}}}\n"), testRegistry(t))
	if !strings.Contains(ds.Error(), `did you mean "input"?`) {
		t.Errorf("diagnostics %s", ds)
	}
}
