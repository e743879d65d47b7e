package builtin

import (
	"context"

	"github.com/kgrun/kgrun/engine"
)

// partialProcessor is the degraded processing path: it processes only the first limit
// records, conservatively (no per-record failures, quality fixed at 0.5), and marks the
// run degraded.
type partialProcessor struct {
	limit int
}

func partialType() engine.NodeType {
	return engine.NodeType{
		Name:    "partial_processor",
		Doc:     "processes the first limit records conservatively when full processing failed",
		Actions: []string{"partial_result"},
		Result:  ProcessResult{},
		Input:   []Record(nil),
		Params:  partialParams,
		New: func(s engine.NodeSpec) (engine.Node, error) {
			n, err := intParam(mapGetter(s.Params), "limit", 10, 1, 1_000_000)
			if err != nil {
				return nil, err
			}
			return &partialProcessor{limit: n}, nil
		},
	}
}

func (p *partialProcessor) Prep(v *engine.Visit) (any, error) { return recordsFrom(v) }

func (p *partialProcessor) Exec(_ context.Context, _ *engine.Attempt, in any) (any, error) {
	recs := in.([]Record)
	n := min(p.limit, len(recs))
	res := ProcessResult{Total: len(recs), Processed: make([]Processed, n)}
	for i, r := range recs[:n] {
		res.Processed[i] = Processed{ID: r.ID, Value: r.Value * 2, Quality: 0.5}
	}
	if res.Total > 0 {
		res.SuccessRate = float64(n) / float64(res.Total)
	}
	return res, nil
}

func (p *partialProcessor) Post(v *engine.Visit, _, out any) (string, error) {
	r := out.(ProcessResult)
	v.Set("processed", r.Processed)
	v.Set("success_rate", r.SuccessRate)
	v.Set("processing_mode", "partial")
	v.Degrade("partial processing: " + itoa(len(r.Processed)) + " of " + itoa(r.Total) + " records")
	return "partial_result", nil
}
