package schema

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decoding of the composition types' keys (map, parallel, workflow): see spec_compose.go.

// composeKeys says which node keys belong to which composition type.
var composeKeys = map[string]string{
	"items": TypeMap, "max_concurrency": TypeMap, "tolerated_failures": TypeMap, "body": TypeMap,
	"branches": TypeParallel, "join": TypeParallel, "fail_fast": TypeParallel,
	"workflow": TypeWorkflow, "input": TypeWorkflow,
}

// compose decodes the composition keys of node n, refusing those that do not belong to
// its type.
func (d *decoder) compose(n *Node, o *object, what string) {
	for _, f := range o.fields {
		owner, ok := composeKeys[f.name]
		if !ok || owner == n.Type.Name {
			continue
		}
		d.diags.Errorf(d.pos(f.key), fmt.Sprintf("%s is a key of type %s nodes; remove it, or make the node type: %s", f.name, owner, owner),
			"%s: key %q does not apply to type %s", what, f.name, n.Type.Name)
	}
	switch n.Type.Name {
	case TypeMap:
		n.Map = d.mapNode(o, what, n.Name)
	case TypeParallel:
		n.Parallel = d.parallelNode(o, what, n.Name)
	case TypeWorkflow:
		n.Call = d.callNode(o, what)
	}
}

func (d *decoder) mapNode(o *object, what, name string) *Map {
	m := &Map{Pos: d.pos(o.node), MaxConcurrency: DefaultMaxConcurrency}
	switch x := d.resolve(o.get("items")); {
	case x == nil:
		d.diags.Errorf(m.Pos, "add items: ${{ EXPR }} computing the list to map over, or items: [a, b, c]", "%s: a map needs items", what)
	case x.Kind == yaml.SequenceNode:
		m.ItemsPos = d.pos(x)
		if v, ok := d.value(x); ok {
			m.Literal, _ = v.([]any)
			if m.Literal == nil {
				m.Literal = []any{}
			}
		}
	case x.Kind == yaml.ScalarNode && x.Tag == "!!str" && strings.Contains(x.Value, templateOpen):
		m.ItemsPos = d.pos(x)
		if t := d.template(x, []any{"items"}, what); t != nil {
			if !t.Whole {
				d.diags.Errorf(m.ItemsPos, "write the whole value as one ${{ EXPR }}", "%s: items must be a single ${{ EXPR }} that computes a list, not text around one", what)
			} else {
				m.Items = t
			}
		}
	default:
		d.diags.Errorf(d.pos(x), "write ${{ EXPR }} computing the list (for example ${{ input.urls }}), or a list", "%s: items must be a list or ${{ EXPR }}, not %s", what, kindName(x))
	}
	if x := o.get("max_concurrency"); x != nil {
		if v, ok := d.integer(x, what+": max_concurrency", 1); ok {
			m.MaxConcurrency = v
		}
	}
	if x := o.get("tolerated_failures"); x != nil {
		m.Tolerated = d.tolerance(x, what+": tolerated_failures")
	}
	if x := o.get("body"); x != nil {
		m.Body = d.body(x, what+": body", name+"/")
	} else {
		d.diags.Errorf(m.Pos, "add body: with start: and nodes: to run for each item", "%s: a map needs a body", what)
	}
	return m
}

// tolerance decodes a count (3) or a percentage ("10%").
func (d *decoder) tolerance(n *yaml.Node, what string) Tolerance {
	s := d.scalar(n, what, "a count or a percentage")
	if s == nil {
		return Tolerance{}
	}
	t := Tolerance{Pos: d.pos(s)}
	if pct, ok := strings.CutSuffix(strings.TrimSpace(s.Value), "%"); ok && s.Tag == "!!str" {
		v, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || v < 0 || v > 100 {
			d.diags.Errorf(t.Pos, "write a percentage from 0% to 100%, such as 10%", "%s: %q is not a percentage", what, s.Value)
			return Tolerance{}
		}
		t.Value, t.Percent = v, true
		return t
	}
	v, ok := d.integer(s, what, 0)
	if !ok {
		return Tolerance{}
	}
	t.Value = float64(v)
	return t
}

func (d *decoder) parallelNode(o *object, what, name string) *Parallel {
	p := &Parallel{Pos: d.pos(o.node), Join: "all"}
	if x := o.get("join"); x != nil {
		p.Join, p.JoinPos = d.enum(x, what+": join", "all", "first")
	}
	if x := o.get("fail_fast"); x != nil {
		if s := d.scalar(x, what+": fail_fast", "true or false"); s != nil {
			v, err := strconv.ParseBool(s.Value)
			if s.Tag != "!!bool" || err != nil {
				d.diags.Errorf(d.pos(s), "write true or false", "%s: fail_fast must be true or false, not %s", what, kindName(s))
			}
			p.FailFast = v
		}
	}
	x := o.get("branches")
	if x == nil {
		d.diags.Errorf(p.Pos, "add branches: with a name for each, and start: and nodes: under it", "%s: a parallel node needs branches", what)
		return p
	}
	for _, e := range d.entries(x, what+": branches") {
		bw := fmt.Sprintf("%s: branch %q", what, e[0].Value)
		if b := d.body(e[1], bw, name+"/"+e[0].Value+"/"); b != nil {
			p.Branches = append(p.Branches, &Branch{Name: e[0].Value, Body: *b})
		}
	}
	if len(p.Branches) == 0 && d.resolve(x) != nil {
		d.diags.Errorf(d.pos(x), "declare at least one branch", "%s: branches is empty", what)
	}
	return p
}

func (d *decoder) callNode(o *object, what string) *Call {
	c := &Call{Pos: d.pos(o.node)}
	if x := o.get("workflow"); x != nil {
		if s := d.scalar(x, what+": workflow", "a file path"); s != nil {
			c.Path, c.PathPos = s.Value, d.pos(s)
			if strings.TrimSpace(c.Path) == "" {
				d.diags.Errorf(c.PathPos, "", "%s: workflow is empty", what)
			}
		}
	} else {
		d.diags.Errorf(c.Pos, "add workflow: with the path of the file to run, relative to this one", "%s: a workflow node needs workflow:", what)
	}
	if x := o.get("input"); x != nil {
		c.Input, c.InputPos = d.paramsAt(x, what+": input")
		c.Templates = d.paramTemplates(x, what+": input")
	}
	return c
}

// body decodes a sub-graph. Its nodes are named in messages by their path: prefix is
// the body's own part of it ("fan/", "both/left/").
func (d *decoder) body(n *yaml.Node, what, prefix string) *Body {
	o := d.mapping(n, "body", what, "start", "nodes")
	if o == nil {
		return nil
	}
	b := &Body{Pos: d.pos(o.node)}
	if x := o.get("description"); x != nil {
		b.Description, _ = d.str(x, what+": description")
	}
	if x := o.get("start"); x != nil {
		b.Start = d.ident(x, what+": start")
	}
	if x := o.get("output"); x != nil {
		if r := d.resolve(x); r != nil && r.Kind == yaml.MappingNode {
			b.Named = d.output(r)
		} else {
			b.Value = d.expr(x, what+": output")
		}
	}
	x := o.get("nodes")
	if x == nil {
		return b
	}
	entries := d.entries(x, what+": nodes")
	if len(entries) == 0 && d.resolve(x) != nil {
		d.diags.Errorf(d.pos(x), "declare at least the start node", "%s: nodes is empty", what)
	}
	outer := d.scope
	d.scope = outer + prefix
	for _, e := range entries {
		if d.countNode(e[0]) {
			if nn := d.node(e[0], e[1]); nn != nil {
				b.Nodes = append(b.Nodes, nn)
			}
		}
	}
	d.scope = outer
	return b
}

// countNode counts a node against the limit on nodes in a file, bodies included.
func (d *decoder) countNode(k *yaml.Node) bool {
	d.nodes++
	if d.nodes == d.limits.MaxNodes+1 {
		d.diags.Errorf(d.pos(k), "split the workflow", "more than the limit of %d nodes, bodies and branches included", d.limits.MaxNodes)
	}
	return d.nodes <= d.limits.MaxNodes
}
