package builtin

import (
	"context"

	"github.com/kgrun/kgrun/engine"
)

// FallbackResult is what fallback_data serves.
type FallbackResult struct {
	Records []Record `json:"records" expr:"records"`
	Count   int      `json:"count" expr:"count"`
	// Origin is "cache" (the source's last good batch) or "defaults".
	Origin string `json:"origin" expr:"origin"`
	// Age is how old the cached batch is, on the run's clock ("" for defaults).
	Age string `json:"age" expr:"age"`
}

// fallbackData serves the collector's last good batch for a source, or configured
// default records when nothing was ever cached. Either way the run is degraded.
type fallbackData struct {
	source   string
	defaults int
	cache    *Cache
}

func fallbackType(cache *Cache) engine.NodeType {
	return engine.NodeType{
		Name:    "fallback_data",
		Doc:     "serves the collector's last good batch, else default records, and reports their age",
		Actions: []string{"fallback_data"},
		Result:  FallbackResult{},
		Input:   FallbackResult{},
		Params:  fallbackParams,
		New: func(s engine.NodeSpec) (engine.Node, error) {
			get := mapGetter(s.Params)
			src, err := stringParam(get, "source", "primary_api")
			if err != nil {
				return nil, err
			}
			n, err := intParam(get, "default_records", 10, 0, 1_000_000)
			if err != nil {
				return nil, err
			}
			return &fallbackData{source: src, defaults: n, cache: cache}, nil
		},
	}
}

func (f *fallbackData) Prep(v *engine.Visit) (any, error) {
	recs, at, ok := f.cache.Get(f.source)
	if ok {
		return FallbackResult{Records: recs, Count: len(recs), Origin: "cache", Age: shortDuration(v.Clock().Now().Sub(at))}, nil
	}
	recs = make([]Record, f.defaults)
	for i := range recs {
		recs[i] = Record{ID: i + 1, Value: 0, Source: "defaults"}
	}
	return FallbackResult{Records: recs, Count: len(recs), Origin: "defaults"}, nil
}

func (f *fallbackData) Exec(_ context.Context, _ *engine.Attempt, in any) (any, error) {
	return in, nil
}

func (f *fallbackData) Post(v *engine.Visit, _, out any) (string, error) {
	r := out.(FallbackResult)
	v.Set("records", r.Records)
	v.Set("data_source", r.Origin)
	v.Set("data_age", r.Age)
	if r.Origin == "cache" {
		v.Degrade("served " + itoa(r.Count) + " cached records (age " + r.Age + ") instead of the source")
	} else {
		v.Degrade("served " + itoa(r.Count) + " default records: nothing was cached for " + f.source)
	}
	return "fallback_data", nil
}
