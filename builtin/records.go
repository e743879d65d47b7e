package builtin

import (
	"fmt"
	"sync"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// Record is one item collected from a source.
type Record struct {
	ID        int    `json:"id" expr:"id"`
	Value     int    `json:"value" expr:"value"`
	Timestamp string `json:"timestamp" expr:"timestamp"`
	Source    string `json:"source" expr:"source"`
}

// Processed is a record after processing.
type Processed struct {
	ID      int     `json:"id" expr:"id"`
	Value   int     `json:"value" expr:"value"`
	Quality float64 `json:"quality" expr:"quality"`
}

// recordsFrom reads the records a previous node left in the shared store.
func recordsFrom(v *engine.Visit) ([]Record, error) {
	recs, ok, err := engine.SharedAs[[]Record](v, "records")
	if !ok {
		return nil, engine.Errorf(engine.Data, "no records in the shared store: route a data_collector or fallback_data node here first")
	}
	return recs, err
}

// processedFrom reads processed records from the shared store.
func processedFrom(v *engine.Visit) ([]Processed, error) {
	p, ok, err := engine.SharedAs[[]Processed](v, "processed")
	if !ok {
		return nil, engine.Errorf(engine.Data, "no processed records in the shared store: route a processor or partial_processor here first")
	}
	return p, err
}

// Cache keeps the last good batch of each source, so fallback_data can serve it when the
// source fails. It is safe for concurrent use by many runs.
type Cache struct {
	mu      sync.Mutex
	batches map[string]cachedBatch
}

type cachedBatch struct {
	records []Record
	at      time.Time
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{batches: map[string]cachedBatch{}} }

// Put stores a source's latest good batch.
func (c *Cache) Put(source string, records []Record, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches[source] = cachedBatch{records: append([]Record(nil), records...), at: at}
}

// Get returns a source's last good batch and when it was stored.
func (c *Cache) Get(source string) ([]Record, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.batches[source]
	if !ok {
		return nil, time.Time{}, false
	}
	return append([]Record(nil), b.records...), b.at, true
}

// CachedBatch is a source's last good batch as Export and Import exchange it.
type CachedBatch struct {
	Records []Record  `json:"records"`
	At      time.Time `json:"at"`
}

// Export returns every source's batch, for saving across processes.
func (c *Cache) Export() map[string]CachedBatch {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]CachedBatch, len(c.batches))
	for src, b := range c.batches {
		out[src] = CachedBatch{Records: append([]Record(nil), b.records...), At: b.at}
	}
	return out
}

// Import adds saved batches, replacing those of the same sources.
func (c *Cache) Import(batches map[string]CachedBatch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for src, b := range batches {
		c.batches[src] = cachedBatch{records: append([]Record(nil), b.Records...), at: b.At}
	}
}

func shortDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return fmt.Sprint(d.Round(time.Millisecond))
}
