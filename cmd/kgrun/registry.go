package main

import (
	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
)

// newRegistry returns the node types the command line runs: the built-in pipeline roles
// and the I/O types. cache is the collector's; nil gives a fresh one.
func newRegistry(cache *builtin.Cache) *engine.Registry {
	return builtin.Registry(builtin.Options{Cache: cache})
}

// schemaJSON is the JSON Schema of workflow files for the command line's node types.
func schemaJSON() ([]byte, error) { return newRegistry(nil).JSONSchema() }
