package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

const everyKeyFile = "../testdata/valid/every_key.yaml"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	if err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("workflow.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("workflow.schema.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	return sch
}

// TestSchemaValidAgainstMetaSchema validates the embedded schema against the draft
// 2020-12 meta-schema explicitly (compiling it above checks this too).
func TestSchemaValidAgainstMetaSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	meta, err := c.Compile("https://json-schema.org/draft/2020-12/schema")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.Validate(doc); err != nil {
		t.Fatalf("schema fails its meta-schema: %v", err)
	}
	compileSchema(t)
}

// TestSchemaMatchesDecoder proves the schema and the decoder know the same keys, both ways.
func TestSchemaMatchesDecoder(t *testing.T) {
	var s struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(JSONSchema(), &s); err != nil {
		t.Fatal(err)
	}
	for kind, keys := range Keys {
		def, ok := s.Defs[kind]
		if !ok {
			t.Errorf("decoder knows object %q; the schema has no $defs/%s", kind, kind)
			continue
		}
		var schemaKeys []string
		for k := range def.Properties {
			schemaKeys = append(schemaKeys, k)
		}
		want := slices.Clone(keys)
		sort.Strings(want)
		sort.Strings(schemaKeys)
		if !slices.Equal(want, schemaKeys) {
			t.Errorf("object %q: decoder keys %v, schema properties %v", kind, want, schemaKeys)
		}
	}
	for name, def := range s.Defs {
		if len(def.Properties) > 0 {
			if _, ok := Keys[name]; !ok {
				t.Errorf("schema $defs/%s has properties the decoder does not know", name)
			}
		}
	}
	var kinds struct {
		Defs struct {
			ErrorKind struct {
				Enum []string `json:"enum"`
			} `json:"errorKind"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(JSONSchema(), &kinds); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(kinds.Defs.ErrorKind.Enum, ErrorKinds) {
		t.Errorf("schema error kinds %v, decoder %v", kinds.Defs.ErrorKind.Enum, ErrorKinds)
	}
}

// TestEveryKeyFile checks that the reference file uses every key, decodes without
// diagnostics, and validates against the schema.
func TestEveryKeyFile(t *testing.T) {
	data, err := os.ReadFile(everyKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	w, diags := Decode(everyKeyFile, data)
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", diags)
	}
	if w.Name != "every-key" || len(w.Nodes) != 9 || len(w.Tests) != 1 {
		t.Fatalf("decoded %q with %d nodes, %d tests", w.Name, len(w.Nodes), len(w.Tests))
	}

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i < len(n.Content); i += 2 {
				used[n.Content[i].Value] = true
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
	for kind, keys := range Keys {
		for _, k := range keys {
			if !used[k] {
				t.Errorf("%s does not use key %q of %s", filepath.Base(everyKeyFile), k, kind)
			}
		}
	}

	var generic any
	if err := yaml.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(generic)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t).Validate(inst); err != nil {
		t.Fatalf("every_key.yaml fails the schema: %v", err)
	}
}

func TestDecodedValues(t *testing.T) {
	data, err := os.ReadFile(everyKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := Decode("f.yaml", data)
	c := w.Node("collect")
	r := c.Retry
	if r.Attempts != 3 || r.Backoff != "exponential" || r.Multiplier != 2 || r.Jitter != "full" || r.MaxDelay.String() != "1s" {
		t.Errorf("retry decoded as %+v", r)
	}
	if c.Timeout.String() != "2s" || c.Bulkhead.MaxConcurrent != 4 || c.Fallback.Name != "cached" {
		t.Errorf("node decoded as %+v", c)
	}
	if got := c.Breaker.Pos.String(); got != "f.yaml:31:14" {
		t.Errorf("breaker reference at %s, want f.yaml:31:14", got)
	}
	p := w.Node("process")
	if len(p.Edges) != 2 || p.Edges[0].When == nil || p.Edges[1].When != nil {
		t.Fatalf("process edges %+v", p.Edges)
	}
	// The guard is a quoted scalar; column 7 of the expression ("success_rate") maps one past the quote.
	if got := p.Edges[0].When.At(1, 7).String(); got != "f.yaml:55:39" {
		t.Errorf("guard position %s, want f.yaml:55:39", got)
	}
	f := w.Scenarios[0].Faults[0]
	if f.Rate != 0.2 || f.RateMax != 0.4 || f.Kind.Name != "network" || len(f.Script) != 2 {
		t.Errorf("fault %+v", f)
	}
	if s := f.Script[0]; s.FirstCall != 1 || s.LastCall != 2 || s.Fail.Name != "network" {
		t.Errorf("script step %+v", s)
	}
	if s := f.Script[1]; s.FirstCall != 3 || s.LastCall != 3 || s.Fail.Name != "" {
		t.Errorf("script step %+v", s)
	}
}

func TestSuggest(t *testing.T) {
	cases := []struct {
		name       string
		candidates []string
		want       string
	}{
		{"proces", []string{"process", "deliver"}, "process"},
		{"retyr", []string{"retry", "timeout"}, "retry"},
		{"zzz", []string{"process"}, ""},
		{"breakr", []string{"breaker", "breakers"}, "breaker"},
		{"x", []string{"y"}, "y"},
		{"processing_node", []string{"process"}, ""},
		{strings.Repeat("a", 100), []string{strings.Repeat("a", 99)}, ""},
	}
	for _, c := range cases {
		if got := Suggest(c.name, c.candidates); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
