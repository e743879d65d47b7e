package temporal

import (
	"fmt"
	"sync"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// Where a run's named breakers and bulkheads live.
const (
	// SharedCluster keeps them in workflows of their own, shared by every worker and
	// run: the local engine's sharing across runs, across machines.
	SharedCluster = "cluster"
	// SharedRun keeps them in the run: fresh for each run, as the local engine's tests
	// have them (a fresh graph per test).
	SharedRun = "run"
)

// Options configure the workflows and activities of a worker.
type Options struct {
	// Heartbeat is the exec activities' heartbeat timeout: how long the loss of a worker
	// running an exec goes unnoticed (default 10s).
	Heartbeat time.Duration
	// ExecLimit bounds an attempt of a node without a timeout (default 1h).
	ExecLimit time.Duration
}

func (o *Options) heartbeat() time.Duration {
	if o == nil || o.Heartbeat <= 0 {
		return 10 * time.Second
	}
	return o.Heartbeat
}

func (o *Options) execLimit() time.Duration {
	if o == nil || o.ExecLimit <= 0 {
		return time.Hour
	}
	return o.ExecLimit
}

// graphCache compiles each bundle once per worker process, by content hash. A compiled
// graph is immutable; the breakers and bulkheads it holds are not used on this backend,
// whose runs reach shared state through their own sets.
type graphCache struct {
	reg *engine.Registry
	mu  sync.Mutex
	by  map[string]*engine.Graph
}

func newGraphCache(reg *engine.Registry) *graphCache {
	return &graphCache{reg: reg, by: map[string]*engine.Graph{}}
}

// get returns the graph of the bundle, refusing one whose content does not match hash.
func (c *graphCache) get(hash string, b engine.Bundle) (*engine.Graph, error) {
	c.mu.Lock()
	g := c.by[hash]
	c.mu.Unlock()
	if g != nil {
		return g, nil
	}
	g, err := loadBundle(hash, b, c.reg)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.by[hash] = g
	c.mu.Unlock()
	return g, nil
}

// loadBundle compiles the bundle a run names by hash, refusing one whose content does
// not match it.
func loadBundle(hash string, b engine.Bundle, reg *engine.Registry) (*engine.Graph, error) {
	if got := b.Hash(); got != hash {
		return nil, fmt.Errorf("the workflow bundle's content hash is %s, not the %s the run names", got, hash)
	}
	g, ds := engine.LoadBundle(b, reg)
	if g == nil {
		return nil, fmt.Errorf("the workflow does not compile on this worker (is it a kgrun with the same node types?):\n%s", ds.Error())
	}
	return g, nil
}
