package ionodes

import (
	"fmt"
	"net/http"

	"github.com/kgrun/kgrun/engine"
)

// Options configure the I/O types.
type Options struct {
	// HTTPClient makes the http type's requests; nil gives one with its own transport
	// (keep-alive connections are reused across attempts and runs). Its Timeout should be
	// zero: each attempt is bounded by the node's timeout through its context.
	HTTPClient *http.Client
}

// Types returns the I/O node types.
func Types(opts Options) []engine.NodeType {
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return []engine.NodeType{httpType(client), commandType(), fileType(), transformType()}
}

// Register adds the I/O types to reg.
func Register(reg *engine.Registry, opts Options) error {
	for _, t := range Types(opts) {
		if err := reg.Register(t); err != nil {
			return fmt.Errorf("ionodes: %w", err)
		}
	}
	return nil
}
