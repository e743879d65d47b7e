package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParamCheck(t *testing.T) {
	cases := []struct {
		p    Param
		v    any
		want string // "" when accepted, else a fragment of the message
	}{
		{Param{Type: ParamString}, "x", ""},
		{Param{Type: ParamString}, 3, "must be a string, not 3 (an integer)"},
		{Param{Type: ParamInt}, 3, ""},
		{Param{Type: ParamInt}, 3.0, ""},
		{Param{Type: ParamInt}, 3.5, "must be an integer"},
		{Param{Type: ParamInt}, "ten", `not "ten" (a string)`},
		{Param{Type: ParamNumber}, 3, ""},
		{Param{Type: ParamNumber}, true, "must be a number"},
		{Param{Type: ParamBool}, false, ""},
		{Param{Type: ParamBool}, "no", "must be true or false"},
		{Param{Type: ParamDuration}, "5s", ""},
		{Param{Type: ParamDuration}, "5", "duration with a unit"},
		{Param{Type: ParamDuration}, 5, "duration with a unit"},
		{Param{Type: ParamList, Items: ParamString}, []any{"a", "b"}, ""},
		{Param{Type: ParamList, Items: ParamString}, []any{"a", 2}, "element 1 must be a string"},
		{Param{Type: ParamList}, "a", "must be a list"},
		{Param{Type: ParamMap, Items: ParamString}, map[string]any{"a": "x"}, ""},
		{Param{Type: ParamMap, Items: ParamString}, map[string]any{"a": 1}, `key "a" must be a string`},
		{Param{Type: ParamAny}, nil, ""},
		{Param{Type: ParamMap, Items: ParamScalar}, map[string]any{"a": 1, "b": "x", "c": true}, ""},
		{Param{Type: ParamMap, Items: ParamScalar}, map[string]any{"a": []any{"json"}}, `key "a" must be a string, a number or a boolean, not a list`},
		{Param{Type: ParamString, Allowed: []any{"GET", "POST"}}, "POST", ""},
		{Param{Type: ParamString, Allowed: []any{"GET", "POST"}}, "PUT", `must be one of GET, POST, not "PUT"`},
		{Param{Type: ParamInt, Allowed: []any{1, 2}}, 2.0, ""},
		{Param{Type: ParamInt}, "${{ params.n }}", ""}, // typed when evaluated
	}
	for _, c := range cases {
		got := c.p.check(c.v)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s %v: got %q, want %q", c.p.Type, c.v, got, c.want)
		}
	}
}

func TestRegisterChecksParamDecls(t *testing.T) {
	newNode := func(NodeSpec) (Node, error) { return &echoNode{action: "success"}, nil }
	cases := map[string][]Param{
		"no name":        {{Type: ParamString}},
		"declared twice": {{Name: "a", Type: ParamString}, {Name: "a", Type: ParamInt}},
		"unknown type":   {{Name: "a", Type: "text"}},
		"default of":     {{Name: "a", Type: ParamInt, Default: "x"}},
	}
	for want, ps := range cases {
		err := NewRegistry().Register(NodeType{Name: "t", New: newNode, Params: ps})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: got %v, want an error about %q", ps, err, want)
		}
	}
}

func TestParamsCheckedAtLoad(t *testing.T) {
	reg := NewRegistry()
	err := reg.Register(NodeType{Name: "greet", Actions: []string{"success"},
		Params: []Param{{Name: "who", Type: ParamString, Required: true}, {Name: "times", Type: ParamInt}},
		New:    func(NodeSpec) (Node, error) { return &echoNode{action: "success"}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ src, want string }{
		{"params: {who: x}\nnodes: {a: {type: greet}}", ""},
		{"nodes: {a: {type: greet, params: {who: x}}}", ""},
		{"nodes: {a: {type: greet}}", `w.yaml:4:9: error: node "a": type greet requires param "who"`},
		{"nodes: {a: {type: greet, params: {who: x, tims: 2}}}", `w.yaml:4:43: error: node "a": type greet has no param "tims"` + "\n    did you mean \"times\"?"},
		{"nodes: {a: {type: greet, params: {who: 1}}}", `w.yaml:4:35: error: node "a": param who must be a string, not 1 (an integer)`},
		{"params: {who: x, times: many}\nnodes: {a: {type: greet}}", `params: times (read by node "a", type greet) must be an integer`},
		{"params: {who: x}\nnodes: {a: {type: greet}}\nscenarios: {s: {params: {whoo: y}}}", `scenario "s": params: "whoo" is neither`},
		{"params: {who: x}\nnodes: {a: {type: greet}}\nscenarios: {s: {params: {times: 2}}}", ""},
	}
	for _, c := range cases {
		src := "version: 1\nname: w\nstart: a\n"
		_, ds := Load("w.yaml", []byte(src+c.src+"\n"), reg)
		got := ds.Error()
		if (c.want == "") != !ds.HasErrors() || !strings.Contains(got, c.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", c.src, got, c.want)
		}
	}
}

func TestJSONSchemaCarriesRegisteredTypes(t *testing.T) {
	reg := NewRegistry()
	err := reg.Register(NodeType{Name: "greet", Params: []Param{{Name: "who", Type: ParamString, Doc: "whom to greet", Allowed: []any{"world", "you"}}},
		New: func(NodeSpec) (Node, error) { return &echoNode{action: "success"}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(NodeType{Name: "open", New: func(NodeSpec) (Node, error) { return &echoNode{}, nil }}); err != nil {
		t.Fatal(err)
	}
	raw, err := reg.JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs map[string]struct {
			AllOf []struct {
				If struct {
					Properties struct {
						Type struct{ Const string } `json:"type"`
					} `json:"properties"`
				} `json:"if"`
				Then struct {
					Properties struct {
						Params struct {
							Properties map[string]struct {
								AnyOf []map[string]any `json:"anyOf"`
							} `json:"properties"`
							AdditionalProperties bool `json:"additionalProperties"`
						} `json:"params"`
					} `json:"properties"`
				} `json:"then"`
			} `json:"allOf"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	branches := doc.Defs["node"].AllOf
	if len(branches) != 1 || branches[0].If.Properties.Type.Const != "greet" {
		t.Fatalf("want one branch, for greet (open declares nothing); got %+v", branches)
	}
	who := branches[0].Then.Properties.Params.Properties["who"].AnyOf[0]
	if who["type"] != "string" || who["description"] != "whom to greet" || len(who["enum"].([]any)) != 2 {
		t.Errorf("param who: %v", who)
	}
}

// FuzzParams loads arbitrary params for a node, its workflow and a scenario against a
// type declaring one param of every type: checking must never panic, and every
// diagnostic must point into the file.
func FuzzParams(f *testing.F) {
	for _, s := range []string{"{s: x, i: 3, n: 1.5, b: true, d: 5s, l: [a], m: {k: v}, e: GET}",
		"{i: 3.5, d: 5, l: x, m: [1], e: PUT, zz: 1}", "{l: [1, [2]], m: {k: {x: 1}}}", "[1, 2]", "~", "{s: \"${{ params.x }}\"}"} {
		f.Add(s)
	}
	reg := NewRegistry()
	err := reg.Register(NodeType{Name: "typed", Actions: []string{"success"}, Params: []Param{
		{Name: "s", Type: ParamString}, {Name: "i", Type: ParamInt, Required: true, Default: 1}, {Name: "n", Type: ParamNumber},
		{Name: "b", Type: ParamBool}, {Name: "d", Type: ParamDuration}, {Name: "l", Type: ParamList, Items: ParamString},
		{Name: "m", Type: ParamMap, Items: ParamString}, {Name: "e", Type: ParamString, Allowed: []any{"GET", 2}},
		{Name: "a", Type: ParamAny},
	}, New: func(NodeSpec) (Node, error) { return &echoNode{action: "success"}, nil }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, params string) {
		if strings.ContainsAny(params, "\n\r") {
			return
		}
		src := "version: 1\nname: f\nstart: a\nparams: " + params + "\nnodes:\n  a: {type: typed, params: " + params +
			"}\nscenarios:\n  s: {params: " + params + "}\n"
		_, ds := Load("fuzz.yaml", []byte(src), reg)
		for _, d := range ds {
			if d.Pos.Line < 1 {
				t.Fatalf("diagnostic without a line: %s", d)
			}
		}
	})
}

func TestGraphCheckParams(t *testing.T) {
	reg := NewRegistry()
	err := reg.Register(NodeType{Name: "greet", Actions: []string{"success"},
		Params: []Param{{Name: "who", Type: ParamString}, {Name: "times", Type: ParamInt}},
		New:    func(NodeSpec) (Node, error) { return &echoNode{action: "success"}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	g, ds := Load("w.yaml", []byte("version: 1\nname: w\nstart: a\nnodes: {a: {type: greet, params: {who: x}}}\n"), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if err := g.CheckParams(map[string]any{"times": 2, "who": 3, "other": "free"}); err != nil {
		t.Errorf("who is the node's own and other is read by no node: %v", err)
	}
	err = g.CheckParams(map[string]any{"times": "many"})
	if err == nil || err.Error() != `param times (read by node "a", type greet) must be an integer, not "many" (a string)` {
		t.Errorf("got %v", err)
	}
}
