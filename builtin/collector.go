package builtin

import (
	"context"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// CollectResult is what data_collector's exec returns; guards read it as "result".
type CollectResult struct {
	Records []Record `json:"records" expr:"records"`
	Count   int      `json:"count" expr:"count"`
	Source  string   `json:"source" expr:"source"`
}

// collector reads a batch from a simulated source. The batch is drawn from the attempt's
// seeded stream; failures of the source come from scenario faults. Its after-exec hook
// caches the batch as the source's last good one.
type collector struct {
	source string
	cache  *Cache
}

// collectInput survives encoding/json, for a backend that runs exec elsewhere.
type collectInput struct {
	Batch int `json:"batch"`
}

func collectorType(cache *Cache) engine.NodeType {
	return engine.NodeType{
		Name:    "data_collector",
		Doc:     "collects batch_size records from a simulated source and caches the last good batch",
		Actions: []string{"success"},
		Result:  CollectResult{},
		Input:   collectInput{},
		Params:  collectorParams,
		New: func(s engine.NodeSpec) (engine.Node, error) {
			src, err := stringParam(mapGetter(s.Params), "source", "primary_api")
			if err != nil {
				return nil, err
			}
			return &collector{source: src, cache: cache}, nil
		},
	}
}

func (c *collector) Prep(v *engine.Visit) (any, error) {
	n, err := intParam(v.Param, "batch_size", 50, 1, 1_000_000)
	if err != nil {
		return nil, engine.WithKind(engine.Data, err)
	}
	return collectInput{Batch: n}, nil
}

func (c *collector) Exec(ctx context.Context, a *engine.Attempt, in any) (any, error) {
	batch := in.(collectInput).Batch
	rng := a.Rand()
	now := a.Clock().Now().UTC().Format(time.RFC3339)
	recs := make([]Record, batch)
	for i := range recs {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		recs[i] = Record{ID: i + 1, Value: 1 + rng.IntN(1000), Timestamp: now, Source: c.source}
	}
	return CollectResult{Records: recs, Count: batch, Source: c.source}, nil
}

// AfterExec caches the good batch, as the example's after_exec hook does.
func (c *collector) AfterExec(v *engine.Visit, _, out any) error {
	r := out.(CollectResult)
	c.cache.Put(r.Source, r.Records, v.Clock().Now())
	return nil
}

func (c *collector) Post(v *engine.Visit, _, out any) (string, error) {
	r := out.(CollectResult)
	v.Set("records", r.Records)
	v.Set("data_source", r.Source)
	return "success", nil
}
