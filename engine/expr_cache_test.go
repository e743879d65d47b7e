package engine

import (
	"errors"
	"strings"
	"testing"
)

// Guards written alike on nodes of the same type share one compiled program, and each
// still fails at its own position.
func TestSharedGuardKeepsItsPosition(t *testing.T) {
	src := `
version: 1
name: shared
start: a
error_handler: handler
nodes:
  a:
    type: echo
    params: {value: 0}
    on:
      success:
        - {to: b, when: "[0][result.value] == 0"}
  b:
    type: echo
    params: {value: 3}
    on:
      success:
        - {to: handler, when: "[0][result.value] == 0"}
  handler: {type: echo}
`
	g := mustLoad(t, src)
	ga, gb := g.byName["a"].routes["success"][0].guard, g.byName["b"].routes["success"][0].guard
	if ga.prog != gb.prog {
		t.Errorf("the two guards were compiled twice")
	}
	if ga.expr == gb.expr || ga.expr.Pos == gb.expr.Pos {
		t.Errorf("the two guards share their position %v", ga.expr.Pos)
	}
	if g.exprs != nil {
		t.Errorf("the graph keeps its compile-time cache")
	}
	res, _ := runVirtual(t, g, RunOptions{})
	var ge *GuardError
	if len(res.Failures) != 1 || !errors.As(res.Failures[0], &ge) || ge.Pos.String() != "test.yaml:17:35" {
		t.Fatalf("failures %v, want b's guard failing at test.yaml:17:35", res.Failures)
	}
}

// A guard that does not compile is reported wherever it is written, however often.
func TestBrokenGuardReportedAtEachPosition(t *testing.T) {
	src := `
version: 1
name: broken
start: a
nodes:
  a:
    type: echo
    on: {success: [{to: b, when: "result.valeu > 1"}]}
  b:
    type: echo
    on: {success: [{to: a, when: "result.valeu > 1"}]}
`
	_, ds := Load("test.yaml", []byte(strings.TrimLeft(src, "\n")), testRegistry(t))
	var at []string
	for _, d := range ds.Errors() {
		at = append(at, d.Pos.String())
	}
	if strings.Join(at, " ") != "test.yaml:7:42 test.yaml:10:42" {
		t.Fatalf("errors at %v, want 7:42 and 10:42:\n%s", at, ds)
	}
}
