package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/kgrun/kgrun/engine"
)

// schemaBlind lists the invalid files the JSON Schema accepts, and why it cannot see
// their errors: they are about meaning, not shape, and only the loader checks them.
var schemaBlind = map[string]string{
	"action_never_emitted":    "which actions a type emits is known to the registry, not to a schema",
	"breaker_undeclared":      "references between keys (a node naming a breaker) are not expressible",
	"edge_unknown_node":       "references between keys (an edge naming a node) are not expressible",
	"guard_block_scalar":      "expressions are compiled and type-checked only by the loader",
	"guard_not_bool":          "expressions are compiled and type-checked only by the loader",
	"guard_syntax":            "expressions are compiled and type-checked only by the loader",
	"guard_unknown_field":     "expressions are compiled and type-checked only by the loader",
	"guard_unknown_name":      "expressions are compiled and type-checked only by the loader",
	"hook_problems":           "hook expressions and on_error routing are checked only by the loader",
	"scenario_unknown_node":   "references between keys (a fault naming a node) are not expressible",
	"unknown_start":           "references between keys (start naming a node) are not expressible",
	"unreachable_node":        "reachability is a graph property",
	"expr_too_costly":         "an expression's cost is estimated only by the loader",
	"unrouted_failure_action": "which actions are failures is known to the registry, not to a schema",
	"unknown_node_type":       "node types are open in the schema: an embedding program registers its own",
	"multiple_documents":      "the YAML reader used here reads the first document only",
	"bad_output":              "output expressions are compiled only by the loader, and a default checked against its own property is not expressible",
	"input_test_values":       "a test's input is checked against the workflow's own input declaration, a reference the schema cannot follow",
}

// TestSchemaAgreesWithDecoder validates every file of the valid and invalid corpora (and
// the shipped workflows) against the JSON Schema `kgrun schema` prints, with a real JSON
// Schema library, and checks that it accepts exactly the files the loader accepts, but
// for the invalid files listed in schemaBlind, each with the reason it may differ.
func TestSchemaAgreesWithDecoder(t *testing.T) {
	raw, err := schemaJSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("workflow.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("workflow.schema.json")
	if err != nil {
		t.Fatalf("schema does not compile: %v", err)
	}
	var files []string
	for _, glob := range []string{"../../testdata/valid/*.yaml", "../../testdata/invalid/*.yaml", "../../ionodes/testdata/invalid/*.yaml", "../../workflows/*.yaml"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	if len(files) < 30 {
		t.Fatalf("only %d files found", len(files))
	}
	reg := newRegistry(nil)
	blindSeen := map[string]bool{}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		invalidCorpus := strings.Contains(path, "/invalid/")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, ds := engine.Load(path, data, reg)
		loaderOK := !ds.HasErrors()
		schemaErr := validateYAML(sch, data)
		schemaOK := schemaErr == nil
		if invalidCorpus == loaderOK {
			t.Errorf("%s: loader accepted=%v, against the corpus it is in", path, loaderOK)
		}
		if reason, blind := schemaBlind[name]; blind && invalidCorpus {
			blindSeen[name] = true
			if schemaOK {
				continue
			}
			t.Errorf("%s: listed as invisible to the schema (%s), but the schema rejects it: %v", path, reason, schemaErr)
			continue
		}
		if schemaOK != loaderOK {
			t.Errorf("%s: loader accepted=%v, schema accepted=%v (schema: %v; loader: %v)", path, loaderOK, schemaOK, schemaErr, ds.Errors())
		}
	}
	for name := range schemaBlind {
		if !blindSeen[name] {
			t.Errorf("schemaBlind lists %s, which is not in the invalid corpus", name)
		}
	}
}

// validateYAML reads data as YAML, converts it to JSON values and validates them.
func validateYAML(sch *jsonschema.Schema, data []byte) error {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}
