package engine

import (
	"strings"
	"testing"
)

// TestFailureActionsMustBeDeclaredActions: a type cannot declare a failure outcome it
// never emits.
func TestFailureActionsMustBeDeclaredActions(t *testing.T) {
	err := NewRegistry().Register(NodeType{Name: "send", Actions: []string{"sent"}, Failures: []string{"lost"},
		New: func(NodeSpec) (Node, error) { return &echoNode{}, nil }})
	if err == nil || !strings.Contains(err.Error(), `failure action "lost" is not one of its actions`) {
		t.Fatalf("err %v", err)
	}
}

// TestUnroutedFailureActionIsAnError: leaving a failure outcome without an edge is an
// error at the node's position, even on a node that routes nothing else; routed, it
// loads.
func TestUnroutedFailureActionIsAnError(t *testing.T) {
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "send", Actions: []string{"success", "lost"}, Failures: []string{"lost"},
		New: func(NodeSpec) (Node, error) { return &echoNode{action: "success"}, nil }}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ on, want string }{
		{"", `send.yaml:5:3: error: node "work": failure action "lost" of type send is not routed`},
		{"on: {success: done}", `send.yaml:5:3: error: node "work": failure action "lost" of type send is not routed`},
		{"on: {success: done, lost: done}", ""},
	} {
		src := "version: 1\nname: send\nstart: work\nnodes:\n  work:\n    type: send\n    " + c.on + "\n  done: {type: echo}\n"
		if c.on == "" {
			src = "version: 1\nname: send\nstart: work\nnodes:\n  work:\n    type: send\n"
		}
		_, ds := Load("send.yaml", []byte(src), reg)
		got := ""
		if ds.HasErrors() {
			got = ds.Error()
		}
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("on %q: diagnostics %q, want %q", c.on, got, c.want)
		}
	}
}

// TestRunEndingOnFailureActionFails: a run that ends on an action its type declares a
// failure (possible only if the type changed after the workflow was loaded) is failed,
// with the reason recorded.
func TestRunEndingOnFailureActionFails(t *testing.T) {
	reg := testRegistry(t)
	g, ds := Load("end.yaml", []byte("version: 1\nname: end\nstart: work\nnodes:\n  work: {type: echo}\n"), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	res, _ := runVirtual(t, g, RunOptions{})
	if res.Status != StatusSuccess {
		t.Fatalf("status %s before the type declares success a failure", res.Status)
	}
	typ, _ := reg.Lookup("echo")
	typ.Failures = []string{"success"}
	res, _ = runVirtual(t, g, RunOptions{})
	if res.Status != StatusFailed || len(res.Degradations) != 1 || !strings.Contains(res.Degradations[0], `ended on failure action "success"`) {
		t.Fatalf("status %s, reasons %q", res.Status, res.Degradations)
	}
}

// TestDiagnoseSaysWhatHappened: the recommendation for a failure the engine recognises
// names what happened, not a generic "a node panicked".
func TestDiagnoseSaysWhatHappened(t *testing.T) {
	for _, c := range []struct{ name, src, want string }{
		{"max_steps", `
version: 1
name: loop
start: a
max_steps: 3
nodes:
  a: {type: echo, on: {success: b}}
  b: {type: echo, on: {success: a}}
`, `the run made max_steps visits without reaching an end: check the exit condition of the loop through "b"`},
		{"no guard held", `
version: 1
name: guards
start: a
nodes:
  a: {type: echo, on: {success: [{to: b, when: "result.value > 5"}]}}
  b: {type: echo}
`, `no guard held on the edges of node "a" for action "success"`},
		{"panic", `
version: 1
name: panics
start: a
nodes:
  a: {type: panic}
`, `node "a" panicked in exec: a bug in its type`},
		{"injected network failure", `
version: 1
name: network
start: a
nodes:
  a: {type: echo}
scenarios:
  down: {faults: {a: {rate: 1, kind: network}}}
`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := RunOptions{}
			if c.name == "injected network failure" {
				opts.Scenario = "down"
			}
			res, _ := runVirtual(t, mustLoad(t, c.src), opts)
			if len(res.Failures) == 0 {
				t.Fatalf("no failure: %s", pathString(res))
			}
			got := Diagnose(res.Failures[0])
			if c.want == "" && got != "" || !strings.Contains(got, c.want) {
				t.Fatalf("diagnosis %q, want %q", got, c.want)
			}
		})
	}
}
