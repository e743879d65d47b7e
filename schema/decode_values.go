package schema

// Decoding of free-form values: node and workflow params, and the plain data they hold.

import "gopkg.in/yaml.v3"

// params decodes a free-form parameter mapping.
func (d *decoder) params(n *yaml.Node, what string) map[string]any {
	out, _ := d.paramsAt(n, what)
	return out
}

// paramsAt decodes a free-form parameter mapping and the position of each key, so that
// params checked against a node type's declaration can be pointed at.
func (d *decoder) paramsAt(n *yaml.Node, what string) (map[string]any, map[string]Pos) {
	r := d.resolve(n)
	if r == nil {
		return nil, nil
	}
	if r.Kind != yaml.MappingNode {
		if r.Tag == "!!null" {
			return nil, nil
		}
		d.diags.Errorf(d.pos(r), "", "%s must be a mapping of names to values, not %s", what, kindName(r))
		return nil, nil
	}
	out := make(map[string]any, len(r.Content)/2)
	at := make(map[string]Pos, len(r.Content)/2)
	for i := 0; i+1 < len(r.Content); i += 2 {
		k := d.resolve(r.Content[i])
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.diags.Errorf(d.pos(k), "", "%s keys must be names, not %s", what, kindName(k))
			continue
		}
		if _, dup := out[k.Value]; dup {
			d.diags.Errorf(d.pos(k), "keep one", "duplicate key %q in %s", k.Value, what)
			continue
		}
		v, ok := d.value(r.Content[i+1])
		if !ok {
			continue
		}
		out[k.Value] = v
		at[k.Value] = d.pos(k)
	}
	return out, at
}

// value converts a free-form YAML value into plain Go values (map[string]any, []any,
// string, int, float64, bool, nil), counting aliases against the budget.
func (d *decoder) value(n *yaml.Node) (any, bool) {
	n = d.resolve(n)
	if n == nil {
		return nil, false
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := d.resolve(n.Content[i])
			if k == nil || k.Kind != yaml.ScalarNode {
				if k != nil {
					d.diags.Errorf(d.pos(k), "", "mapping keys must be plain names, not %s", kindName(k))
				}
				return nil, false
			}
			v, ok := d.value(n.Content[i+1])
			if !ok {
				return nil, false
			}
			m[k.Value] = v
		}
		return m, true
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, ok := d.value(c)
			if !ok {
				return nil, false
			}
			s = append(s, v)
		}
		return s, true
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			d.diags.Errorf(d.pos(n), "", "cannot read value %q: %v", n.Value, err)
			return nil, false
		}
		return v, true
	}
	return nil, false
}
