package engine

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kgrun/kgrun/schema"
)

// ParamType is the type of a node param's value, as written in YAML.
type ParamType string

// The param types. YAML integers fit number; whole floats (5.0) fit integer.
const (
	ParamString   ParamType = "string"
	ParamInt      ParamType = "integer"
	ParamNumber   ParamType = "number"
	ParamBool     ParamType = "boolean"
	ParamDuration ParamType = "duration" // a string with a unit: 500ms, 5s, 1m30s
	ParamList     ParamType = "list"     // elements of type Items
	ParamMap      ParamType = "map"      // string keys, values of type Items
	ParamScalar   ParamType = "scalar"   // a string, a number or a boolean
	ParamAny      ParamType = "any"
)

// Param declares one param of a node type. The declarations are checked when a
// workflow loads (unknown names, wrong types, values not allowed, required ones missing)
// and carried into the JSON Schema that `kgrun schema` prints.
type Param struct {
	Name string
	Type ParamType
	// Items is the type of a list's elements or a map's values; empty means any.
	Items ParamType
	// Required params must be given by the node or, since nodes fall back to the run's
	// params, by the workflow's params.
	Required bool
	// Default is the value the type uses when the param is not given (documentation and
	// schema only: the type applies it itself).
	Default any
	// Doc says in one line what the param does.
	Doc string
	// Allowed, when not empty, lists the only values accepted.
	Allowed []any
}

// NoParams declares that a type takes no params at all. A NodeType whose Params is nil
// has not declared them, and its params are not checked.
var NoParams = []Param{}

// exprMarker starts a value computed from the run; such strings are typed when they are
// evaluated, not at load.
const exprMarker = "${{"

// checkParamDecls validates a type's declarations when it is registered.
func checkParamDecls(t NodeType) error {
	seen := map[string]bool{}
	for _, p := range t.Params {
		if p.Name == "" {
			return fmt.Errorf("register node type %q: a param has no name", t.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("register node type %q: param %q declared twice", t.Name, p.Name)
		}
		seen[p.Name] = true
		if !p.Type.known() || (p.Items != "" && !p.Items.known()) {
			return fmt.Errorf("register node type %q: param %q has unknown type %q", t.Name, p.Name, p.Type)
		}
		if p.Default != nil {
			if msg := p.check(p.Default); msg != "" {
				return fmt.Errorf("register node type %q: default of param %q: %s", t.Name, p.Name, msg)
			}
		}
	}
	return nil
}

func (pt ParamType) known() bool {
	switch pt {
	case ParamString, ParamInt, ParamNumber, ParamBool, ParamDuration, ParamList, ParamMap, ParamScalar, ParamAny:
		return true
	}
	return false
}

// lookupParam returns the type's declaration of name.
func (t *NodeType) lookupParam(name string) (Param, bool) {
	for _, p := range t.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

func (t *NodeType) paramNames() []string {
	names := make([]string, len(t.Params))
	for i, p := range t.Params {
		names[i] = p.Name
	}
	return names
}

// check returns "" when v fits the declaration, else what is wrong ("must be ...").
func (p Param) check(v any) string {
	if s, ok := v.(string); ok && strings.Contains(s, exprMarker) {
		return ""
	}
	if msg := checkType(p.Type, p.Items, v); msg != "" {
		return msg
	}
	if len(p.Allowed) > 0 && !slices.ContainsFunc(p.Allowed, func(a any) bool { return sameValue(a, v) }) {
		return "must be one of " + formatAllowed(p.Allowed) + ", not " + describe(v)
	}
	return ""
}

func checkType(pt, items ParamType, v any) string {
	ok := true
	switch pt {
	case ParamString:
		_, ok = v.(string)
	case ParamInt:
		switch x := v.(type) {
		case int, int64:
		case float64:
			ok = x == math.Trunc(x) && !math.IsInf(x, 0)
		default:
			ok = false
		}
	case ParamNumber:
		switch v.(type) {
		case int, int64, float64:
		default:
			ok = false
		}
	case ParamBool:
		_, ok = v.(bool)
	case ParamScalar:
		switch v.(type) {
		case string, bool, int, int64, float64:
		default:
			ok = false
		}
	case ParamDuration:
		s, isStr := v.(string)
		if !isStr {
			ok = false
			break
		}
		if _, err := time.ParseDuration(s); err != nil || strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r == 'µ' }) < 0 {
			return "must be " + article(pt) + ", not " + describe(v)
		}
	case ParamList:
		xs, isList := v.([]any)
		if !isList {
			ok = false
			break
		}
		for i, x := range xs {
			if msg := checkType(elem(items), "", x); msg != "" {
				return fmt.Sprintf("element %d %s", i, msg)
			}
		}
	case ParamMap:
		m, isMap := v.(map[string]any)
		if !isMap {
			ok = false
			break
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if msg := checkType(elem(items), "", m[k]); msg != "" {
				return fmt.Sprintf("key %q %s", k, msg)
			}
		}
	}
	if !ok {
		return "must be " + article(pt) + ", not " + describe(v)
	}
	return ""
}

func elem(items ParamType) ParamType {
	if items == "" {
		return ParamAny
	}
	return items
}

func article(pt ParamType) string {
	switch pt {
	case ParamInt:
		return "an integer"
	case ParamList:
		return "a list"
	case ParamMap:
		return "a mapping"
	case ParamBool:
		return "true or false"
	case ParamDuration:
		return "a duration with a unit (500ms, 5s, 1m30s)"
	case ParamScalar:
		return "a string, a number or a boolean"
	}
	return "a " + string(pt)
}

// describe names a YAML value and its type for a diagnostic.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q (a string)", x)
	case bool:
		return fmt.Sprintf("%v (a boolean)", x)
	case int, int64:
		return fmt.Sprintf("%v (an integer)", x)
	case float64:
		return fmt.Sprintf("%v (a number)", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// sameValue says whether a param value equals an allowed one, a whole number matching its float.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case int:
		switch y := b.(type) {
		case int:
			return x == y
		case float64:
			return float64(x) == y
		}
		return false
	case string, bool, float64:
		return a == b
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func formatAllowed(vs []any) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		if s, ok := v.(string); ok {
			parts[i] = s
		} else {
			parts[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(parts, ", ")
}

// checkRunParamsOf checks the workflow's, scenarios' and tests' params where they reach
// nodes: a node reads a param it does not set itself from the run's params.
func checkRunParamsOf(w *schema.Workflow, nodes []*node, ds *schema.Diagnostics) {
	// reads maps a param name to the nodes that take it from the run's params.
	reads := map[string][]*node{}
	var runParams []string // names a run param may have: the workflow's, and those nodes read
	for k := range w.Params {
		runParams = append(runParams, k)
	}
	for _, p := range w.ParamSpecs {
		runParams = append(runParams, p.Name) // declared without a default too
	}
	undeclared := false // a type that declares nothing may read any run param
	for _, n := range nodes {
		if n.typ == nil || n.typ.Params == nil {
			undeclared = undeclared || n.typ != nil
			continue
		}
		for _, p := range n.typ.Params {
			if _, set := n.spec.Params[p.Name]; !set {
				reads[p.Name] = append(reads[p.Name], n)
				runParams = append(runParams, p.Name)
			}
		}
	}
	slices.Sort(runParams)
	runParams = slices.Compact(runParams)
	if undeclared {
		runParams = nil
	}
	declared := map[string]schema.Pos{}
	for _, p := range w.ParamSpecs {
		declared[p.Name] = p.Pos
	}
	checkRunParams(w.Params, declared, "params", reads, nil, nil, ds)
	// Scenario and test values of declared params are checked against the declaration
	// by the decoder; here, against the nodes that read the others.
	for _, s := range w.Scenarios {
		checkRunParams(s.Params, s.ParamsPos, fmt.Sprintf("scenario %q: params", s.Name), reads, runParams, declared, ds)
	}
	for _, t := range w.Tests {
		checkRunParams(t.Params, t.ParamsPos, fmt.Sprintf("test %q: params", t.Name), reads, runParams, declared, ds)
	}
}

// checkNodeParams checks a node's params against its type's declaration, before the
// type builds the node from them; it reports whether they passed.
func checkNodeParams(n *node, w *schema.Workflow, ds *schema.Diagnostics) bool {
	sn, typ := n.spec, n.typ
	if typ.Params == nil {
		return true
	}
	before := len(*ds)
	for _, k := range sortedKeys(sn.Params) {
		pos := paramPos(sn.ParamsPos, k, sn.Pos)
		p, ok := typ.lookupParam(k)
		if !ok {
			detail := schema.DidYouMean(k, typ.paramNames())
			if detail == "" {
				detail = takesDetail(typ)
			}
			ds.Errorf(pos, detail, "node %q: type %s has no param %q", sn.Name, typ.Name, k)
			continue
		}
		if msg := p.check(sn.Params[k]); msg != "" {
			ds.Errorf(pos, p.Doc, "node %q: param %s %s", sn.Name, k, msg)
		}
	}
	for _, p := range typ.Params {
		if !p.Required {
			continue
		}
		if _, ok := sn.Params[p.Name]; ok {
			continue
		}
		if _, ok := w.Params[p.Name]; ok {
			continue
		}
		detail := fmt.Sprintf("add %s under the node's params (or the workflow's)", p.Name)
		if p.Doc != "" {
			detail += ": " + p.Doc
		}
		ds.Errorf(sn.Pos, detail,
			"node %q: type %s requires param %q", sn.Name, typ.Name, p.Name)
	}
	return len(*ds) == before
}

// checkRunParams checks params given to the whole run. Names that nodes read are
// type-checked against each reader's declaration; when known is not nil (scenarios,
// tests), a name neither the workflow declares nor any node reads is an error, since
// overriding it could change nothing.
func checkRunParams(params map[string]any, at map[string]schema.Pos, what string, reads map[string][]*node, known []string, typedElsewhere map[string]schema.Pos, ds *schema.Diagnostics) {
	for _, k := range sortedKeys(params) {
		pos := paramPos(at, k, schema.Pos{})
		readers := reads[k]
		if _, typed := typedElsewhere[k]; typed {
			readers = nil
		}
		if known != nil && !slices.Contains(known, k) {
			detail := schema.DidYouMean(k, known)
			if detail == "" {
				detail = "declare it under the workflow's params, or name a param a node reads"
			}
			ds.Errorf(pos, detail, "%s: %q is neither a workflow param nor a param any node reads", what, k)
			continue
		}
		for _, n := range readers {
			p, _ := n.typ.lookupParam(k)
			if msg := p.check(params[k]); msg != "" {
				ds.Errorf(pos, p.Doc, "%s: %s (read by node %q, type %s) %s", what, k, n.name, n.typ.Name, msg)
				break
			}
		}
	}
}

func takesDetail(t *NodeType) string {
	if len(t.Params) == 0 {
		return fmt.Sprintf("type %s takes no params", t.Name)
	}
	return fmt.Sprintf("type %s takes: %s", t.Name, strings.Join(t.paramNames(), ", "))
}

func paramPos(at map[string]schema.Pos, key string, def schema.Pos) schema.Pos {
	if p, ok := at[key]; ok {
		return p
	}
	return def
}

// CheckParams checks params given to a run from outside the file (the command line's
// --set, an embedding program's RunOptions.Params) against the declarations of the nodes
// that read them, as load checks the workflow's own. Names no node reads pass: the
// workflow's expressions may read them.
func (g *Graph) CheckParams(params map[string]any) error {
	var problems []string
	for _, k := range sortedKeys(params) {
		for _, n := range g.nodes {
			if n.typ == nil || n.typ.Params == nil {
				continue
			}
			if _, own := n.spec.Params[k]; own {
				continue
			}
			p, ok := n.typ.lookupParam(k)
			if !ok {
				continue
			}
			if msg := p.check(params[k]); msg != "" {
				problems = append(problems, fmt.Sprintf("param %s (read by node %q, type %s) %s", k, n.name, n.typ.Name, msg))
				break
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}
