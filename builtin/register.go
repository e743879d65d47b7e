package builtin

import (
	"fmt"

	"github.com/kgrun/kgrun/engine"
)

// Options configure the built-in types.
type Options struct {
	// Cache holds the collector's last good batch per source, for fallback_data. Runs
	// that share a Cache share it; nil gives the registry a fresh one.
	Cache *Cache
}

// Types returns the built-in node types.
func Types(opts Options) []engine.NodeType {
	cache := opts.Cache
	if cache == nil {
		cache = NewCache()
	}
	return []engine.NodeType{
		collectorType(cache),
		processorType(),
		deliveryType(),
		completionType(),
		fallbackType(cache),
		partialType(),
		alternateType(),
		errorHandlerType(),
	}
}

// Register adds the built-in types to reg.
func Register(reg *engine.Registry, opts Options) error {
	for _, t := range Types(opts) {
		if err := reg.Register(t); err != nil {
			return fmt.Errorf("builtin: %w", err)
		}
	}
	return nil
}

// Registry returns a new registry holding the built-in types.
func Registry(opts Options) *engine.Registry {
	reg := engine.NewRegistry()
	if err := Register(reg, opts); err != nil {
		// The built-in names are fixed and distinct; this cannot happen.
		panic(err)
	}
	return reg
}
