package schema

import _ "embed"

//go:embed workflow.schema.json
var jsonSchema []byte

// JSONSchema returns the JSON Schema (draft 2020-12) for workflow files. Editors that
// understand a "# yaml-language-server: $schema=..." comment use it for completion.
func JSONSchema() []byte {
	out := make([]byte, len(jsonSchema))
	copy(out, jsonSchema)
	return out
}
