package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// A workflow's params have types, so that a value that cannot be what a param is (a
// list for a batch size) is refused before a run instead of degrading one. A param is
// declared in the workflow's params either by its default, whose type it takes:
//
//	params: {batch_size: 50}
//
// or in the long form, a mapping with a type key (default and description optional):
//
//	params:
//	  batch_size: {type: int, default: 50, description: records per batch}
//
// A mapping without a type key is a default of type map. Scenario and test params are
// checked against the declarations when the file loads; command-line values are read as
// the declared type (Param.Parse). Params a workflow does not declare stay free-form:
// node types read their own settings from the run's params too.

// ParamType is the type every value of a workflow param must have.
type ParamType string

// The param types. Float accepts whole numbers too; int accepts a float only when it is
// whole. Any accepts everything, null included.
const (
	ParamString ParamType = "string"
	ParamInt    ParamType = "int"
	ParamFloat  ParamType = "float"
	ParamBool   ParamType = "bool"
	ParamList   ParamType = "list"
	ParamMap    ParamType = "map"
	ParamAny    ParamType = "any"
)

// ParamTypes lists the types a param may declare, in the order the documentation gives.
var ParamTypes = []string{"string", "int", "float", "bool", "list", "map", "any"}

// Param is one param declared in a workflow's params.
type Param struct {
	Name string
	Pos  Pos
	Type ParamType
	// Inferred says the type was taken from the default rather than written.
	Inferred    bool
	Description string
	// Default is the param's default; HasDefault is false for a long-form declaration
	// without one (the param is then unset unless a scenario, test or caller sets it).
	Default    any
	HasDefault bool
}

// Param returns the workflow param declared with the given name, or nil.
func (w *Workflow) Param(name string) *Param {
	for _, p := range w.ParamSpecs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// CheckParams checks values for the workflow's params (as an embedding program passes
// them in RunOptions.Params) against their declared types. It returns a copy with each
// value in its param's type (a whole float as an int, an int as a float), or an error
// naming every param whose value cannot be of its type. Undeclared keys pass as given.
func (w *Workflow) CheckParams(values map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(values))
	var problems []string
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := values[k]
		if p := w.Param(k); p != nil {
			c, err := p.Coerce(v)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			v = c
		}
		out[k] = v
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return out, nil
}

// Coerce returns v as a value of the param's type, or an error naming the param, the
// type it must have and what v is.
func (p *Param) Coerce(v any) (any, error) {
	if c, ok := coerce(p.Type, v); ok {
		return c, nil
	}
	return nil, fmt.Errorf("param %s must be %s, not %s", p.Name, typeWithArticle(p.Type), describeValue(v))
}

// Parse reads a value given as text (kgrun's --set KEY=VALUE) as the param's type: a
// string param takes the text as it is; every other type reads it as YAML, so
// batch_size=30 is the number 30 and channels=[a,b] a list.
func (p *Param) Parse(text string) (any, error) {
	if p.Type == ParamString {
		return text, nil
	}
	return p.Coerce(ParseValue(text))
}

// ParseValue reads command-line text as a YAML value (a number stays a number); text
// that is not valid YAML is taken as the string it is.
func ParseValue(text string) any {
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		return text
	}
	return plain(v)
}

// plain turns what yaml.v3 decodes (map[string]any, and map[any]any for odd keys) into
// the plain values params hold elsewhere.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = plain(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	}
	return v
}

// Describe says what the param is, for messages: "int, inferred from its default 50".
func (p *Param) Describe() string {
	if p.Inferred {
		return fmt.Sprintf("%s, inferred from its default %s", p.Type, shortValue(p.Default))
	}
	return string(p.Type)
}

// coerce converts v to type t when v is, or can exactly stand for, a value of t.
func coerce(t ParamType, v any) (any, bool) {
	switch t {
	case ParamAny:
		return v, true
	case ParamString:
		s, ok := v.(string)
		return s, ok
	case ParamBool:
		b, ok := v.(bool)
		return b, ok
	case ParamInt:
		switch x := v.(type) {
		case int:
			return x, true
		case int64:
			if int64(int(x)) == x {
				return int(x), true
			}
		case uint64:
			if x <= math.MaxInt {
				return int(x), true
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
				return int(x), true
			}
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return coerce(t, n)
			}
		}
		return nil, false
	case ParamFloat:
		switch x := v.(type) {
		case float64:
			return x, !math.IsNaN(x)
		case int:
			return float64(x), true
		case int64:
			return float64(x), true
		case uint64:
			return float64(x), true
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f, true
			}
		}
		return nil, false
	case ParamList:
		l, ok := v.([]any)
		return l, ok
	case ParamMap:
		m, ok := v.(map[string]any)
		return m, ok
	}
	return nil, false
}

// inferType is the type a default gives a param.
func inferType(v any) ParamType {
	switch v.(type) {
	case string:
		return ParamString
	case bool:
		return ParamBool
	case int, int64, uint64:
		return ParamInt
	case float64:
		return ParamFloat
	case []any:
		return ParamList
	case map[string]any:
		return ParamMap
	}
	return ParamAny // null: nothing to infer from
}

func typeWithArticle(t ParamType) string {
	if t == ParamInt || t == ParamAny {
		return "an " + string(t)
	}
	return "a " + string(t)
}

// describeValue says what a value is and shows it, briefly: "a list ([1,2])".
func describeValue(v any) string {
	var kind string
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %s", shortValue(x))
	case bool:
		kind = "a bool"
	case int, int64, uint64:
		kind = "an int"
	case float64:
		if x == math.Trunc(x) {
			kind = "a float"
		} else {
			kind = "a fractional number"
		}
	case []any:
		kind = "a list"
	case map[string]any:
		kind = "a map"
	default:
		kind = fmt.Sprintf("a %T", v)
	}
	return fmt.Sprintf("%s (%s)", kind, shortValue(v))
}

// shortValue renders a value as compact JSON, cut to a readable length.
func shortValue(v any) string {
	b, err := json.Marshal(v)
	s := string(b)
	if err != nil {
		s = fmt.Sprint(v)
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// workflowParams decodes the workflow's params: defaults, and a declaration for each.
func (d *decoder) workflowParams(n *yaml.Node) (map[string]any, []*Param) {
	r := d.resolve(n)
	if r == nil {
		return nil, nil
	}
	if r.Kind != yaml.MappingNode {
		if r.Tag != "!!null" {
			d.diags.Errorf(d.pos(r), "", "params must be a mapping of names to defaults or declarations, not %s", kindName(r))
		}
		return nil, nil
	}
	defaults := make(map[string]any, len(r.Content)/2)
	var specs []*Param
	seen := map[string]bool{}
	for i := 0; i+1 < len(r.Content); i += 2 {
		k := d.resolve(r.Content[i])
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.diags.Errorf(d.pos(k), "", "params keys must be names, not %s", kindName(k))
			continue
		}
		if seen[k.Value] {
			d.diags.Errorf(d.pos(k), "keep one", "duplicate key %q in params", k.Value)
			continue
		}
		seen[k.Value] = true
		p := &Param{Name: k.Value, Pos: d.pos(k)}
		v := d.resolve(r.Content[i+1])
		if v != nil && v.Kind == yaml.MappingNode && d.mappingHasKey(v, "type") {
			if !d.paramDeclaration(p, v) {
				continue
			}
		} else {
			val, ok := d.value(r.Content[i+1])
			if !ok {
				continue
			}
			p.Type, p.Inferred, p.Default, p.HasDefault = inferType(val), true, val, true
		}
		if p.HasDefault {
			defaults[p.Name] = p.Default
		}
		specs = append(specs, p)
	}
	return defaults, specs
}

// mappingHasKey reports whether the mapping n has the plain key.
func (d *decoder) mappingHasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := d.resolve(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return true
		}
	}
	return false
}

// paramDeclaration decodes the long form {type, default, description} into p.
func (d *decoder) paramDeclaration(p *Param, n *yaml.Node) bool {
	what := fmt.Sprintf("param %q", p.Name)
	o := d.mapping(n, "param", what, "type")
	if o == nil {
		return false
	}
	ok := true
	if x := o.get("type"); x != nil {
		before := len(d.diags)
		t, _ := d.enum(x, what+": type", ParamTypes...)
		ok = len(d.diags) == before
		p.Type = ParamType(t)
	}
	if x := o.get("description"); x != nil {
		p.Description, _ = d.str(x, what+": description")
	}
	if x := o.get("default"); x != nil {
		val, vok := d.value(x)
		if !vok {
			return false
		}
		if ok {
			c, good := coerce(p.Type, val)
			if !good {
				d.diags.Errorf(d.pos(d.resolve(x)), "make the default one, or change the type",
					"%s: the default must be %s, not %s", what, typeWithArticle(p.Type), describeValue(val))
				return false
			}
			val = c
		}
		p.Default, p.HasDefault = val, true
	}
	return ok
}

// checkParamValues checks the values a scenario or test gives params (already decoded
// into vals from the mapping n) against the workflow's declarations, at each value's
// position, and stores each in its param's type. An undeclared key close to a declared
// one is most likely a typo and is warned about.
func (d *decoder) checkParamValues(n *yaml.Node, vals map[string]any, what string) {
	r := d.resolve(n)
	if r == nil || r.Kind != yaml.MappingNode || vals == nil {
		return
	}
	declared := make([]string, len(d.declared))
	for i, p := range d.declared {
		declared[i] = p.Name
	}
	for i := 0; i+1 < len(r.Content); i += 2 {
		k := d.resolve(r.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		val, ok := vals[k.Value]
		if !ok {
			continue
		}
		p := d.param(k.Value)
		if p == nil {
			if s := Suggest(k.Value, declared); s != "" {
				d.diags.Warnf(d.pos(k), fmt.Sprintf("did you mean %q? (a node type may read %s itself; if so, ignore this)", s, k.Value),
					"%s: params.%s is not a param the workflow declares", what, k.Value)
			}
			continue
		}
		c, err := p.Coerce(val)
		if err != nil {
			d.diags.Errorf(d.pos(d.resolve(r.Content[i+1])), fmt.Sprintf("the workflow declares %s at %d:%d as %s", p.Name, p.Pos.Line, p.Pos.Col, p.Describe()),
				"%s: %v", what, err)
			delete(vals, k.Value)
			continue
		}
		vals[k.Value] = c
	}
}

// param returns the declaration the decoder has seen for name, or nil.
func (d *decoder) param(name string) *Param {
	for _, p := range d.declared {
		if p.Name == name {
			return p
		}
	}
	return nil
}
