// Package schema owns the workflow file format: the embedded JSON Schema, the typed
// specification that a YAML file decodes into (every element keeps its file:line:col),
// and the diagnostics that explain what is wrong with a file and what to do about it.
//
// Decoding walks the yaml.Node tree directly rather than going through map[string]any,
// so positions survive into every diagnostic. All problems of a file are collected and
// reported together, sorted by position. Checks that need to know the registered node
// types (unknown type, actions a type never emits, guard type errors) live in package
// engine, which adds its diagnostics to the same list.
package schema
