package schema

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

func TestParamCoerce(t *testing.T) {
	list, m := []any{1, 2}, map[string]any{"a": 1}
	cases := []struct {
		typ  ParamType
		in   any
		want any // nil with ok false: refused
		ok   bool
	}{
		{ParamInt, 3, 3, true},
		{ParamInt, int64(3), 3, true},
		{ParamInt, 30.0, 30, true},
		{ParamInt, 2.5, nil, false},
		{ParamInt, math.Inf(1), nil, false},
		{ParamInt, "3", nil, false},
		{ParamInt, list, nil, false},
		{ParamInt, nil, nil, false},
		{ParamInt, true, nil, false},
		{ParamFloat, 0.5, 0.5, true},
		{ParamFloat, 2, 2.0, true},
		{ParamFloat, math.NaN(), nil, false},
		{ParamFloat, "0.5", nil, false},
		{ParamString, "x", "x", true},
		{ParamString, 7, nil, false},
		{ParamBool, false, false, true},
		{ParamBool, "true", nil, false},
		{ParamList, list, list, true},
		{ParamList, m, nil, false},
		{ParamMap, m, m, true},
		{ParamMap, list, nil, false},
		{ParamAny, nil, nil, true},
		{ParamAny, list, list, true},
	}
	for _, c := range cases {
		p := &Param{Name: "p", Type: c.typ}
		got, err := p.Coerce(c.in)
		if (err == nil) != c.ok || (c.ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("%s param, value %#v: got %#v, %v; want %#v (ok %v)", c.typ, c.in, got, err, c.want, c.ok)
		}
	}
}

func TestParamParse(t *testing.T) {
	cases := []struct {
		typ  ParamType
		text string
		want any
		err  string
	}{
		{ParamInt, "30", 30, ""},
		{ParamInt, "[1,2]", nil, "param p must be an int, not a list ([1,2])"},
		{ParamInt, "abc", nil, `param p must be an int, not the string "abc"`},
		{ParamInt, "2.5", nil, "param p must be an int, not a fractional number (2.5)"},
		{ParamInt, "", nil, "param p must be an int, not null"},
		{ParamFloat, "1", 1.0, ""},
		{ParamFloat, "{a: 1}", nil, `param p must be a float, not a map ({"a":1})`},
		{ParamString, "123", "123", ""}, // a string param takes the text as written
		{ParamString, "[x", "[x", ""},
		{ParamBool, "true", true, ""},
		{ParamBool, "yes", nil, `param p must be a bool, not the string "yes"`},
		{ParamList, "[a, 1]", []any{"a", 1}, ""},
		{ParamMap, "{a: [1]}", map[string]any{"a": []any{1}}, ""},
		{ParamMap, "{1: x}", map[string]any{"1": "x"}, ""},
		{ParamAny, "[1", "[1", ""}, // not YAML: the text itself
	}
	for _, c := range cases {
		p := &Param{Name: "p", Type: c.typ}
		got, err := p.Parse(c.text)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s %q: error %v, want %q", c.typ, c.text, err, c.err)
		case c.err == "" && (err != nil || !reflect.DeepEqual(got, c.want)):
			t.Errorf("%s %q: got %#v, %v; want %#v", c.typ, c.text, got, err, c.want)
		}
	}
}

const typedParams = `version: 1
name: typed
start: a
params:
  batch_size: 50
  rate: 0.05
  who: world
  channels: {primary: 1, backup: 2}
  mode: {type: string, description: how to run}
  limit: {type: int, default: 10}
  ratio: {type: float, default: 1}
  anything: ~
scenarios:
  s:
    params: {rate: 1, limit: 20.0, other: [1]}
tests:
  - name: t
    params: {who: earth, batch_size: 7}
    expect: {status: success}
nodes:
  a: {type: t}
`

func TestParamDeclarations(t *testing.T) {
	w, ds := Decode("f.yaml", []byte(typedParams))
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	type decl struct {
		name     string
		typ      ParamType
		inferred bool
		def      any
		has      bool
		pos      string
	}
	var got []decl
	for _, p := range w.ParamSpecs {
		got = append(got, decl{p.Name, p.Type, p.Inferred, p.Default, p.HasDefault, p.Pos.String()})
	}
	want := []decl{
		{"batch_size", ParamInt, true, 50, true, "f.yaml:5:3"},
		{"rate", ParamFloat, true, 0.05, true, "f.yaml:6:3"},
		{"who", ParamString, true, "world", true, "f.yaml:7:3"},
		{"channels", ParamMap, true, map[string]any{"primary": 1, "backup": 2}, true, "f.yaml:8:3"},
		{"mode", ParamString, false, nil, false, "f.yaml:9:3"},
		{"limit", ParamInt, false, 10, true, "f.yaml:10:3"},
		{"ratio", ParamFloat, false, 1.0, true, "f.yaml:11:3"},
		{"anything", ParamAny, true, nil, true, "f.yaml:12:3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("declarations\n%+v\nwant\n%+v", got, want)
	}
	if w.Param("mode").Description != "how to run" || w.Param("nope") != nil {
		t.Errorf("mode %+v", w.Param("mode"))
	}
	// Defaults, as the engine reads them: a declaration without a default sets nothing.
	wantDefaults := map[string]any{"batch_size": 50, "rate": 0.05, "who": "world", "channels": map[string]any{"primary": 1, "backup": 2},
		"limit": 10, "ratio": 1.0, "anything": nil}
	if !reflect.DeepEqual(w.Params, wantDefaults) {
		t.Errorf("defaults %v, want %v", w.Params, wantDefaults)
	}
	// Scenario and test values are stored in their param's type; undeclared keys pass.
	if got, want := w.Scenarios[0].Params, (map[string]any{"rate": 1.0, "limit": 20, "other": []any{1}}); !reflect.DeepEqual(got, want) {
		t.Errorf("scenario params %#v, want %#v", got, want)
	}
	if got, want := w.Tests[0].Params, (map[string]any{"who": "earth", "batch_size": 7}); !reflect.DeepEqual(got, want) {
		t.Errorf("test params %#v, want %#v", got, want)
	}

	checked, err := w.CheckParams(map[string]any{"batch_size": 30.0, "free": "x"})
	if err != nil || !reflect.DeepEqual(checked, map[string]any{"batch_size": 30, "free": "x"}) {
		t.Errorf("CheckParams: %v, %v", checked, err)
	}
	if _, err := w.CheckParams(map[string]any{"batch_size": []any{1}, "who": 3, "free": 1}); err == nil ||
		err.Error() != "param batch_size must be an int, not a list ([1]); param who must be a string, not an int (3)" {
		t.Errorf("CheckParams of bad values: %v", err)
	}
}

func TestParamDiagnostics(t *testing.T) {
	cases := []struct {
		params, more string
		want         []string
	}{
		{"  size: {type: int, default: big}\n", "", []string{`f.yaml:5:30: error: param "size": the default must be an int, not the string "big"`}},
		{"  size: {type: integer}\n", "", []string{`f.yaml:5:16: error: param "size": type: unknown value "integer"`}},
		{"  size: {type: int, defualt: 3}\n", "", []string{`f.yaml:5:21: error: unknown key "defualt" in param "size"`}},
		// A mapping default with a type key must take the long form.
		{"  config: {type: x, size: 3}\n", "", []string{`f.yaml:5:18: error: param "config": type: unknown value "x"`, `f.yaml:5:21: error: unknown key "size" in param "config"`}},
		{"  size: {type: int, default: [1, 2]}\n", "", []string{`f.yaml:5:30: error: param "size": the default must be an int, not a list ([1,2])`}},
		{"  - a\n", "", []string{`f.yaml:5:3: error: params must be a mapping of names to defaults or declarations, not a list`}},
		{"  size: 3\n", "scenarios:\n  big:\n    params: {size: [1, 2]}\n",
			[]string{`f.yaml:10:20: error: scenario "big": param size must be an int, not a list ([1,2])`}},
		{"  size: 3\n", "tests:\n  - name: t\n    params: {size: x}\n    expect: {status: success}\n",
			[]string{`f.yaml:10:20: error: test "t": param size must be an int, not the string "x"`}},
		{"  size: 3\n", "tests:\n  - name: t\n    params: {sise: 4}\n    expect: {status: success}\n",
			[]string{`f.yaml:10:14: warning: test "t": params.sise is not a param the workflow declares`}},
	}
	for _, c := range cases {
		src := "version: 1\nname: p\nstart: a\nparams:\n" + c.params + "nodes:\n  a: {type: t}\n" + c.more
		_, ds := Decode("f.yaml", []byte(src))
		var got []string
		for _, d := range ds {
			got = append(got, d.Pos.String()+": "+d.Severity.String()+": "+d.Summary)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("params:\n%s%s\ngot  %q\nwant %q", c.params, c.more, got, c.want)
		}
	}
	_, ds := Decode("f.yaml", []byte("version: 1\nname: p\nstart: a\nparams:\n  size: {type: int, defualt: 3}\nnodes:\n  a: {type: t}\n"))
	if len(ds) != 1 || ds[0].Detail != `did you mean "default"?` {
		t.Errorf("no did-you-mean for defualt: %v", ds)
	}
}

// TestParamSchema checks the JSON Schema agrees with the decoder on params: the same
// types, the long form checked, other mappings left alone as defaults.
func TestParamSchema(t *testing.T) {
	var s struct {
		Defs struct {
			Param struct {
				Properties struct {
					Type struct {
						Enum []string `json:"enum"`
					} `json:"type"`
				} `json:"properties"`
			} `json:"param"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(JSONSchema(), &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Defs.Param.Properties.Type.Enum; !slices.Equal(got, ParamTypes) {
		t.Errorf("schema param types %v, decoder %v", got, ParamTypes)
	}
	sch := compileSchema(t)
	for _, c := range []struct {
		params string
		valid  bool
	}{
		{"{batch_size: 50}", true},
		{"{batch_size: {type: int, default: 50, description: d}}", true},
		{"{channels: {primary: 1}}", true},
		{"{batch_size: {type: integer}}", false},
		{"{batch_size: {type: int, defualt: 3}}", false},
	} {
		src := "version: 1\nname: p\nstart: a\nparams: " + c.params + "\nnodes:\n  a: {type: t}\n"
		var generic any
		if err := yaml.Unmarshal([]byte(src), &generic); err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(generic)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		err = sch.Validate(inst)
		if (err == nil) != c.valid {
			t.Errorf("params %s: schema says %v, want valid %v", c.params, err, c.valid)
		}
		_, ds := Decode("f.yaml", []byte(src))
		if ds.HasErrors() == c.valid {
			t.Errorf("params %s: decoder says %v, want valid %v", c.params, ds, c.valid)
		}
	}
}

// FuzzParamParse reads arbitrary text as each param type: it must never panic, and a
// value it accepts must be accepted again unchanged (the stored value has the type).
func FuzzParamParse(f *testing.F) {
	for _, s := range []string{"30", "[1,2]", "{a: 1}", "2.5", "true", "", "~", "abc", "1e400", "-0", "0x1F", "!!binary aGk=", "&a [*a]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, typ := range ParamTypes {
			p := &Param{Name: "p", Type: ParamType(typ)}
			v, err := p.Parse(text)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "param p must be ") {
					t.Fatalf("%s %q: error %q does not say what p must be", typ, text, err)
				}
				continue
			}
			again, err := p.Coerce(v)
			if err != nil || !reflect.DeepEqual(again, v) && !(typ == "float" && math.IsNaN(asFloat(v))) {
				t.Fatalf("%s %q: parsed %#v, then coerced to %#v, %v", typ, text, v, again, err)
			}
		}
	})
}

func asFloat(v any) float64 {
	f, _ := v.(float64)
	return f
}
