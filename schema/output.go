package schema

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// A workflow's output names values computed from the run's state when it ends:
//
//	output:
//	  delivered: shared.delivered_count
//	  channel: shared.channel ?? "none"
//
// Each value is an expression, checked at load like a guard and evaluated under the
// same limits; the report prints the results and kgrun's JSON result carries them.

// output decodes the workflow's output mapping.
func (d *decoder) output(n *yaml.Node) []*Assignment {
	r := d.resolve(n)
	if r == nil {
		return nil
	}
	if r.Kind != yaml.MappingNode {
		d.diags.Errorf(d.pos(r), "write it as name: expression", "output must be a mapping of names to expressions, not %s", kindName(r))
		return nil
	}
	var out []*Assignment
	for _, e := range d.entries(r, "output") {
		if x := d.expr(e[1], "output."+e[0].Value); x != nil {
			out = append(out, &Assignment{Key: e[0].Value, Pos: d.pos(e[0]), Value: x})
		}
	}
	return out
}

// testInput decodes a test's input and checks it against the workflow's declaration.
func (d *decoder) testInput(n *yaml.Node, what string) (map[string]any, Pos) {
	vals, _ := d.paramsAt(n, what)
	at := d.pos(n)
	if vals == nil {
		vals = map[string]any{}
	}
	if d.inputBroken {
		return vals, at
	}
	if d.inputDecl == nil {
		d.diags.Errorf(at, "declare the input under the workflow's input key", "%s: the workflow declares no input", what)
		return vals, at
	}
	if _, err := d.inputDecl.Check(vals); err != nil {
		d.diags.Errorf(at, "give the test an input the declaration accepts", "%s: %s", what, strings.TrimPrefix(err.Error(), "input: "))
	}
	return vals, at
}

// CheckInput validates a run's input against the workflow's declaration and returns it
// with defaults filled in. A workflow that declares no input takes none: its input is
// nil, and a non-empty one given is an error.
func (w *Workflow) CheckInput(value map[string]any) (map[string]any, error) {
	if w.Input == nil {
		if len(value) > 0 {
			return nil, fmt.Errorf("input: %s declares no input; declare one under its input key", w.File)
		}
		return nil, nil
	}
	return w.Input.Check(value)
}
