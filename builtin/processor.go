package builtin

import (
	"context"
	"fmt"
	"strconv"

	"github.com/kgrun/kgrun/engine"
)

// ProcessResult is what processor's exec returns.
type ProcessResult struct {
	Processed   []Processed `json:"processed" expr:"processed"`
	Failed      []int       `json:"failed" expr:"failed"`
	Total       int         `json:"total" expr:"total"`
	SuccessRate float64     `json:"success_rate" expr:"success_rate"`
}

// processor doubles each record's value and scores its quality; each record fails on its
// own with record_failure_rate. An attempt whose success rate is below min_success_rate
// fails (kind failed), so retries try again and, when they are exhausted, the pipeline
// takes its partial path.
type processor struct{}

// processInput survives encoding/json, for a backend that runs exec elsewhere.
type processInput struct {
	Records     []Record `json:"records"`
	FailureRate float64  `json:"failure_rate"`
	MinSuccess  float64  `json:"min_success"`
}

func processorType() engine.NodeType {
	return engine.NodeType{
		Name:    "processor",
		Doc:     "processes every record; per-record failures, success rate and failed ids in the result",
		Actions: []string{"success"},
		Result:  ProcessResult{},
		Input:   processInput{},
		Params:  processorParams,
		New:     func(engine.NodeSpec) (engine.Node, error) { return processor{}, nil },
	}
}

func (processor) Prep(v *engine.Visit) (any, error) {
	recs, err := recordsFrom(v)
	if err != nil {
		return nil, err
	}
	rate, err := floatParam(v.Param, "record_failure_rate", 0.05, 0, 1)
	if err != nil {
		return nil, engine.WithKind(engine.Data, err)
	}
	minSuccess, err := floatParam(v.Param, "min_success_rate", 0.5, 0, 1)
	if err != nil {
		return nil, engine.WithKind(engine.Data, err)
	}
	return processInput{Records: recs, FailureRate: rate, MinSuccess: minSuccess}, nil
}

func (processor) Exec(ctx context.Context, a *engine.Attempt, in any) (any, error) {
	p := in.(processInput)
	rng := a.Rand()
	res := ProcessResult{Total: len(p.Records), Processed: make([]Processed, 0, len(p.Records))}
	for _, r := range p.Records {
		if rng.Float64() < p.FailureRate {
			res.Failed = append(res.Failed, r.ID)
			continue
		}
		res.Processed = append(res.Processed, Processed{ID: r.ID, Value: r.Value * 2, Quality: 0.5 + rng.Float64()/2})
	}
	if res.Total > 0 {
		res.SuccessRate = float64(len(res.Processed)) / float64(res.Total)
	}
	if res.SuccessRate < p.MinSuccess {
		return nil, engine.Errorf(engine.Failed, "success rate %.2f is below min_success_rate %.2f (%d of %d records failed)",
			res.SuccessRate, p.MinSuccess, len(res.Failed), res.Total)
	}
	return res, nil
}

func (processor) Post(v *engine.Visit, _, out any) (string, error) {
	r := out.(ProcessResult)
	v.Set("processed", r.Processed)
	v.Set("failed_records", r.Failed)
	v.Set("success_rate", r.SuccessRate)
	v.Set("processing_mode", "full")
	return "success", nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func percent(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }
