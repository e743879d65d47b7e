package main

import (
	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/ionodes"
)

// newRegistry returns the node types the command line runs: the built-in pipeline roles
// and the I/O types. cache is the collector's; nil gives a fresh one.
func newRegistry(cache *builtin.Cache) *engine.Registry {
	reg := builtin.Registry(builtin.Options{Cache: cache})
	if err := ionodes.Register(reg, ionodes.Options{}); err != nil {
		// The I/O types' names are fixed and distinct from the built-ins'.
		panic(err)
	}
	return reg
}

// schemaJSON is the JSON Schema of workflow files for the command line's node types.
func schemaJSON() ([]byte, error) { return newRegistry(nil).JSONSchema() }
