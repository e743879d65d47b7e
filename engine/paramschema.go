package engine

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/kgrun/kgrun/schema"
)

// JSONSchema returns the workflow JSON Schema with one branch per registered type that
// declares its params: when a node's type is that type, its params must fit the
// declaration. So an embedding program's `kgrun schema` covers its own types, and an
// editor completes and checks params as the loader does. Required params are not
// required by the schema, since a node may take them from the workflow's params.
func (r *Registry) JSONSchema() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(schema.JSONSchema(), &doc); err != nil {
		return nil, fmt.Errorf("read the base schema: %w", err)
	}
	defs, _ := doc["$defs"].(map[string]any)
	nodeDef, _ := defs["node"].(map[string]any)
	if nodeDef == nil {
		return nil, fmt.Errorf("the base schema has no $defs/node")
	}
	var branches, names []any
	for _, name := range r.Names() {
		t := r.types[name]
		names = append(names, name)
		if t.Params == nil && !t.NoRetry {
			continue
		}
		then := map[string]any{}
		if t.Params != nil {
			then["properties"] = map[string]any{"params": paramsSchema(t)}
		}
		if t.NoRetry {
			then["not"] = map[string]any{"required": []any{"retry"}, "description": "type " + name + " is never retried"}
		}
		branches = append(branches, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"type": map[string]any{"const": name}}, "required": []any{"type"}},
			"then": then,
		})
	}
	if props, ok := nodeDef["properties"].(map[string]any); ok {
		if typeProp, ok := props["type"].(map[string]any); ok && len(names) > 0 {
			typeProp["examples"] = names // completion offers them; others may be registered
		}
	}
	delete(nodeDef, "allOf")
	if len(branches) > 0 {
		nodeDef["allOf"] = branches
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("write the schema: %w", err)
	}
	return buf.Bytes(), nil
}

func paramsSchema(t *NodeType) map[string]any {
	props := map[string]any{}
	for _, p := range t.Params {
		s := typeSchema(p.Type, p.Items)
		if p.Doc != "" {
			s["description"] = p.Doc
		}
		if p.Default != nil {
			s["default"] = p.Default
		}
		if len(p.Allowed) > 0 {
			s["enum"] = p.Allowed
		}
		// A value computed from the run is checked when it is evaluated.
		props[p.Name] = map[string]any{"anyOf": []any{s, map[string]any{"type": "string", "pattern": `\$\{\{`}}}
	}
	return map[string]any{
		"type":                 []any{"object", "null"},
		"description":          fmt.Sprintf("Params of type %s.", t.Name),
		"properties":           props,
		"additionalProperties": false,
	}
}

func typeSchema(pt, items ParamType) map[string]any {
	switch pt {
	case ParamString:
		return map[string]any{"type": "string"}
	case ParamInt:
		return map[string]any{"type": "integer"}
	case ParamNumber:
		return map[string]any{"type": "number"}
	case ParamBool:
		return map[string]any{"type": "boolean"}
	case ParamDuration:
		return map[string]any{"$ref": "#/$defs/duration"}
	case ParamScalar:
		return map[string]any{"type": []any{"string", "number", "boolean"}}
	case ParamList:
		return map[string]any{"type": "array", "items": typeSchema(elem(items), "")}
	case ParamMap:
		return map[string]any{"type": "object", "additionalProperties": typeSchema(elem(items), "")}
	}
	return map[string]any{}
}
