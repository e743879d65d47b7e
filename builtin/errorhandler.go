package builtin

import (
	"context"
	"sort"

	"github.com/kgrun/kgrun/engine"
)

// ErrorReport is what error_handler stores under "error_report".
type ErrorReport struct {
	// Cause is the failure that reached the handler.
	Cause           string         `json:"cause" expr:"cause"`
	CauseKind       string         `json:"cause_kind" expr:"cause_kind"`
	ByKind          map[string]int `json:"by_kind" expr:"by_kind"`
	Warnings        []string       `json:"warnings" expr:"warnings"`
	Recommendations []string       `json:"recommendations" expr:"recommendations"`
	CleanedUp       []string       `json:"cleaned_up" expr:"cleaned_up"`
	Status          string         `json:"status" expr:"status"`
}

// recommendations says what to do about each kind of error.
var recommendations = map[engine.Kind]string{
	engine.Network:     "check connectivity to the failing service; its breaker limits the damage meanwhile",
	engine.Timeout:     "raise the node's timeout or find out why responses are slow",
	engine.Resource:    "raise bulkhead limits or add capacity",
	engine.Data:        "validate the input upstream; retrying bad data cannot help",
	engine.CircuitOpen: "wait for the breaker's open_timeout, or fix the service behind it",
	engine.Canceled:    "the run was interrupted; resume or run it again",
	engine.Internal:    "a node broke its contract: read the error, and report it to the node type's authors",
	engine.Failed:      "read the error message of the failing node",
}

// errorHandler is the workflow's central error management: it classifies every failure
// of the run by kind, lists warnings and recommendations, removes intermediate data the
// failed run leaves behind (cleanup_keys), and settles the status. Reaching it with a
// failure means nothing closer could handle it, so the run is failed (set fail_run:
// false to report the run as degraded instead).
type errorHandler struct {
	cleanup []string
	failRun bool
}

func errorHandlerType() engine.NodeType {
	return engine.NodeType{
		Name:    "error_handler",
		Doc:     "classifies errors, recommends, cleans up and settles the final status",
		Actions: []string{"handled"},
		Result:  ErrorReport{},
		Input:   ErrorReport{},
		Params:  errorHandlerParams,
		New: func(s engine.NodeSpec) (engine.Node, error) {
			h := &errorHandler{failRun: true, cleanup: []string{"records", "processed"}}
			if v, ok := s.Params["fail_run"]; ok {
				b, ok := v.(bool)
				if !ok {
					return nil, errorf("param fail_run must be true or false, not %v", v)
				}
				h.failRun = b
			}
			if v, ok := s.Params["cleanup_keys"]; ok {
				list, ok := v.([]any)
				if !ok {
					return nil, errorf("param cleanup_keys must be a list of shared keys")
				}
				h.cleanup = h.cleanup[:0]
				for _, k := range list {
					s, ok := k.(string)
					if !ok {
						return nil, errorf("param cleanup_keys must list strings, not %v", k)
					}
					h.cleanup = append(h.cleanup, s)
				}
			}
			return h, nil
		},
	}
}

func (h *errorHandler) Prep(v *engine.Visit) (any, error) {
	rep := ErrorReport{ByKind: map[string]int{}}
	if f := v.Failure(); f != nil {
		rep.Cause = f.Error()
		rep.CauseKind = string(f.Kind)
	}
	seen := map[string]bool{}
	for _, f := range v.Failures() {
		rep.ByKind[string(f.Kind)]++
		rep.Warnings = append(rep.Warnings, f.Error())
		if line := string(f.Kind) + ": " + RecommendationFor(f); !seen[line] {
			seen[line] = true
			rep.Recommendations = append(rep.Recommendations, line)
		}
	}
	for _, d := range v.Degradations() {
		rep.Warnings = append(rep.Warnings, d)
	}
	sort.Strings(rep.Recommendations)
	return rep, nil
}

func (h *errorHandler) Exec(_ context.Context, _ *engine.Attempt, in any) (any, error) {
	return in, nil
}

func (h *errorHandler) Post(v *engine.Visit, _, out any) (string, error) {
	rep := out.(ErrorReport)
	for _, k := range h.cleanup {
		if _, ok := v.Get(k); ok {
			delete(v.Shared(), k)
			rep.CleanedUp = append(rep.CleanedUp, k)
		}
	}
	rep.Status = "degraded"
	if f := v.Failure(); f != nil && f.Kind == engine.Canceled {
		// An interrupted run ends canceled whatever the handler says; it only cleans up.
		rep.Status = "canceled"
	} else if f != nil && h.failRun {
		rep.Status = "failed"
		v.Fail("error handler: " + rep.CauseKind + " failure that nothing closer handled")
	} else {
		v.Degrade("error handler ran")
	}
	v.Set("error_report", rep)
	return "handled", nil
}

// Recommendation says what to do about failures of a kind.
func Recommendation(k engine.Kind) string { return recommendations[k] }

// RecommendationFor says what to do about one failure: what the engine recognises in it
// (a panic, a guard that held nowhere, max_steps, a journal that could not commit), else
// the advice for its kind.
func RecommendationFor(f *engine.NodeError) string {
	if d := engine.Diagnose(f); d != "" {
		return d
	}
	return recommendations[f.Kind]
}
