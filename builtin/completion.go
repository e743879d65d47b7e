package builtin

import (
	"context"

	"github.com/kgrun/kgrun/engine"
)

// CompletionReport is what completion stores under "completion".
type CompletionReport struct {
	Processed int    `json:"processed" expr:"processed"`
	Delivered int    `json:"delivered" expr:"delivered"`
	Alternate int    `json:"alternate" expr:"alternate"`
	Mode      string `json:"processing_mode" expr:"processing_mode"`
	Source    string `json:"data_source" expr:"data_source"`
	Verdict   string `json:"verdict" expr:"verdict"`
}

// completion checks what was delivered (by channels or the alternate path) against what
// was processed, and settles the run's status: failed when nothing reached anyone,
// degraded when something is missing or a fallback path was taken.
type completion struct{}

func completionType() engine.NodeType {
	return engine.NodeType{
		Name:    "completion",
		Doc:     "checks delivered against processed and settles the final status",
		Actions: []string{"complete"},
		Result:  CompletionReport{},
		Input:   CompletionReport{},
		Params:  engine.NoParams,
		New:     func(engine.NodeSpec) (engine.Node, error) { return completion{}, nil },
	}
}

func (completion) Prep(v *engine.Visit) (any, error) {
	processed, err := processedFrom(v)
	if err != nil {
		return nil, err
	}
	rep := CompletionReport{Processed: len(processed)}
	if dr, ok, err := engine.SharedAs[DeliveryResult](v, "delivery"); err != nil {
		return nil, err
	} else if ok {
		rep.Delivered = dr.Delivered
	}
	if ar, ok, err := engine.SharedAs[AlternateResult](v, "alternate_delivery"); err != nil {
		return nil, err
	} else if ok {
		rep.Alternate = ar.Records
	}
	rep.Mode, _ = stringOf(v, "processing_mode")
	rep.Source, _ = stringOf(v, "data_source")
	return rep, nil
}

func stringOf(v *engine.Visit, key string) (string, bool) {
	x, ok := v.Get(key)
	s, _ := x.(string)
	return s, ok
}

func (completion) Exec(_ context.Context, _ *engine.Attempt, in any) (any, error) {
	rep := in.(CompletionReport)
	switch reached := max(rep.Delivered, rep.Alternate); {
	case rep.Processed == 0:
		rep.Verdict = "nothing to deliver"
	case reached == 0:
		rep.Verdict = "nothing delivered"
	case reached < rep.Processed:
		rep.Verdict = "partially delivered"
	default:
		rep.Verdict = "delivered"
	}
	return rep, nil
}

func (completion) Post(v *engine.Visit, _, out any) (string, error) {
	rep := out.(CompletionReport)
	v.Set("completion", rep)
	switch rep.Verdict {
	case "nothing to deliver", "nothing delivered":
		v.Fail(rep.Verdict + " (" + itoa(rep.Processed) + " records processed)")
	case "partially delivered":
		v.Degrade("delivered " + itoa(max(rep.Delivered, rep.Alternate)) + " of " + itoa(rep.Processed) + " records")
	}
	return "complete", nil
}
