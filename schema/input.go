package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// A workflow's run input is declared as a JSON Schema object, so that what a caller
// passes (kgrun --input, RunOptions.Input) is checked before the run starts:
//
//	input:
//	  properties:
//	    endpoint: {type: string, description: where to collect from}
//	    batch: {type: integer, default: 50, minimum: 1}
//	  required: [endpoint]
//
// The loader checks the declaration's shape with positions (types, required names,
// defaults); validation of a given input is done by a real JSON Schema validator, so
// every keyword a property uses (enum, minimum, pattern, items...) means what JSON
// Schema says it means.

// JSONTypes are the type names a JSON Schema may use.
var JSONTypes = []string{"string", "integer", "number", "boolean", "array", "object", "null"}

// Input is a workflow's declared run input.
type Input struct {
	Pos Pos
	// Properties are the declared input values, in file order.
	Properties []*InputProperty
	Required   []Ident
	// Document is the declaration as JSON values, as the validator reads it.
	Document map[string]any
	compiled *jsonschema.Schema
}

// InputProperty is one declared input value.
type InputProperty struct {
	Name        string
	Pos         Pos
	Types       []string
	Description string
	Default     any
	HasDefault  bool
}

// Property returns the property declared with the given name, or nil.
func (in *Input) Property(name string) *InputProperty {
	for _, p := range in.Properties {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Check validates a run's input against the declaration and returns it with the
// defaults of absent properties filled in (a copy; value is not modified). A nil value
// is an empty object. The error names every value that is wrong and why.
func (in *Input) Check(value map[string]any) (map[string]any, error) {
	out := maps.Clone(value)
	if out == nil {
		out = map[string]any{}
	}
	for _, p := range in.Properties {
		if _, ok := out[p.Name]; !ok && p.HasDefault {
			out[p.Name] = p.Default
		}
	}
	if in.compiled == nil {
		return out, nil
	}
	inst, err := jsonValue(out)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	if err := in.compiled.Validate(inst); err != nil {
		return nil, fmt.Errorf("input: %s", validationProblems(err))
	}
	return out, nil
}

// jsonValue gives v the form the validator reads: what a JSON decoder would give, with
// numbers as json.Number so that 3 and 3.0 keep their integer-ness.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("not JSON data: %w", err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

var englishPrinter = message.NewPrinter(language.English)

// validationProblems lists the leaf errors of a validation as "at /batch: want integer,
// but got string", sorted, so that the message names each wrong value.
func validationProblems(err error) string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err.Error()
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			where := "the input"
			if len(e.InstanceLocation) > 0 {
				where = strings.Join(e.InstanceLocation, ".")
			}
			out = append(out, where+": "+e.ErrorKind.LocalizedString(englishPrinter))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	slices.Sort(out)
	out = slices.Compact(out)
	return strings.Join(out, "; ")
}

// ParseInput reads a run's input given as JSON text: an object.
func ParseInput(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("input is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("input holds more than one JSON value; give one object")
	}
	m, ok := plainNumbers(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("input must be a JSON object, not %s", describeValue(plainNumbers(v)))
	}
	return m, nil
}

// plainNumbers turns json.Numbers into int when whole and float64 otherwise, the types
// expressions and params use.
func plainNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = plainNumbers(e)
		}
	}
	return v
}

// input decodes a workflow's input declaration.
func (d *decoder) input(n *yaml.Node) *Input {
	o := d.mapping(n, "input", "input")
	if o == nil {
		return nil
	}
	in := &Input{Pos: d.pos(o.node)}
	ok := true
	if x := o.get("type"); x != nil {
		if t, _ := d.str(x, "input.type"); t != "object" {
			d.diags.Errorf(d.pos(x), "a run's input is an object of named values; declare them under properties", "input.type must be object, not %q", t)
			ok = false
		}
	}
	if x := o.get("description"); x != nil {
		_, ok2 := d.str(x, "input.description")
		ok = ok && ok2
	}
	if x := o.get("additionalProperties"); x != nil {
		if r := d.resolve(x); r != nil && !(r.Kind == yaml.ScalarNode && r.Tag == "!!bool") && r.Kind != yaml.MappingNode {
			d.diags.Errorf(d.pos(r), "write true, false or a schema", "input.additionalProperties must be a boolean or a schema, not %s", kindName(r))
			ok = false
		}
	}
	var names []string
	if x := o.get("properties"); x != nil {
		for _, e := range d.entries(x, "input.properties") {
			names = append(names, e[0].Value)
			p := d.inputProperty(e[0], e[1])
			if p == nil {
				ok = false
				continue
			}
			in.Properties = append(in.Properties, p)
		}
	}
	if x := o.get("required"); x != nil {
		for _, id := range d.identList(x, "input.required") {
			if !contains(names, id.Name) {
				detail := DidYouMean(id.Name, names)
				if detail == "" {
					detail = "declare it under input.properties"
				}
				d.diags.Errorf(id.Pos, detail, "input.required names %q, which input.properties does not declare", id.Name)
				ok = false
				continue
			}
			in.Required = append(in.Required, id)
		}
	}
	if !ok {
		d.inputBroken = true
		return nil
	}
	doc, vok := d.value(o.node)
	if !vok {
		d.inputBroken = true
		return nil
	}
	in.Document, _ = doc.(map[string]any)
	if in.Document["type"] == nil {
		in.Document["type"] = "object"
	}
	sch, err := compileInput(in.Document)
	if err != nil {
		d.diags.Errorf(in.Pos, "write each property as a JSON Schema: {type: string}, {type: integer, minimum: 1}...", "input is not a valid JSON Schema: %v", err)
		d.inputBroken = true
		return nil
	}
	in.compiled = sch
	for _, p := range in.Properties {
		if !p.HasDefault {
			continue
		}
		if _, err := in.Check(map[string]any{p.Name: p.Default}); err != nil && defaultWrong(err, p.Name) {
			d.diags.Errorf(p.Pos, "make the default one of the values the property allows", "input.properties.%s: the default does not fit its declaration: %s", p.Name, strings.TrimPrefix(err.Error(), "input: "))
		}
	}
	return in
}

// defaultWrong tells whether a check's error is about the named property itself rather
// than about other required properties absent from the one-property check.
func defaultWrong(err error, name string) bool {
	for _, part := range strings.Split(strings.TrimPrefix(err.Error(), "input: "), "; ") {
		if strings.HasPrefix(part, name+":") || strings.HasPrefix(part, name+".") {
			return true
		}
	}
	return false
}

func compileInput(doc map[string]any) (*jsonschema.Schema, error) {
	v, err := jsonValue(doc)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("input.json", v); err != nil {
		return nil, err
	}
	return c.Compile("input.json")
}

// inputProperty decodes one property of the input declaration. Its keys are checked
// (a misspelt "defualt" would otherwise be an ignored JSON Schema annotation); the
// values of nested schemas (items, properties) are left to the validator.
func (d *decoder) inputProperty(k, v *yaml.Node) *InputProperty {
	what := "input.properties." + k.Value
	o := d.mapping(v, "inputProperty", what)
	if o == nil {
		return nil
	}
	p := &InputProperty{Name: k.Value, Pos: d.pos(k)}
	ok := true
	if x := o.get("type"); x != nil {
		r := d.resolve(x)
		var nodes []*yaml.Node
		if r != nil && r.Kind == yaml.SequenceNode {
			nodes = r.Content
		} else if r != nil {
			nodes = []*yaml.Node{r}
		}
		for _, t := range nodes {
			name, sok := d.str(t, what+".type")
			if !sok {
				ok = false
				continue
			}
			if !contains(JSONTypes, name) {
				detail := DidYouMean(name, JSONTypes)
				if detail == "" {
					detail = "JSON Schema types: " + strings.Join(JSONTypes, ", ")
				}
				if alias, known := jsonTypeAliases[name]; known {
					detail = fmt.Sprintf("JSON Schema calls it %s", alias)
				}
				d.diags.Errorf(d.pos(t), detail, "%s.type: unknown type %q", what, name)
				ok = false
				continue
			}
			p.Types = append(p.Types, name)
		}
	}
	if x := o.get("description"); x != nil {
		p.Description, _ = d.str(x, what+".description")
	}
	if x := o.get("default"); x != nil {
		p.Default, p.HasDefault = d.value(x)
		ok = ok && p.HasDefault
	}
	if !ok {
		return nil
	}
	return p
}

// jsonTypeAliases are the names other type systems (kgrun's params among them) use for
// JSON Schema's types.
var jsonTypeAliases = map[string]string{"int": "integer", "float": "number", "bool": "boolean", "list": "array", "map": "object", "str": "string"}
