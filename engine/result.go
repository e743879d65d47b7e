package engine

import "github.com/kgrun/kgrun/engine/policy"

// Status is a run's final status.
type Status string

// The statuses a run can end with.
const (
	// StatusSuccess: every node did its work; nothing was degraded.
	StatusSuccess Status = "success"
	// StatusDegraded: the run completed, but a failure was handled along the way or a
	// node reported a degradation (cached data, partial results, an alternate channel).
	StatusDegraded Status = "degraded"
	// StatusFailed: a failure reached nothing that could handle it, or a node declared
	// the run failed.
	StatusFailed Status = "failed"
	// StatusCanceled: the run's context was canceled.
	StatusCanceled Status = "canceled"
)

// Step is one node visit in a run's path.
type Step struct {
	Node     string `json:"node"`
	Visit    int    `json:"visit"`
	Attempts int    `json:"attempts,omitempty"`
	Action   string `json:"action,omitempty"`
	To       string `json:"to,omitempty"`
	Guard    string `json:"guard,omitempty"`
	// Route says how the next node was chosen: edge, hook, fallback, error_handler, end.
	Route   string    `json:"route"`
	Failure *StepFail `json:"failure,omitempty"`
	At      Duration  `json:"at"`
}

// StepFail summarises a visit's failure.
type StepFail struct {
	Kind    Kind   `json:"kind"`
	Phase   string `json:"phase"`
	Message string `json:"message"`
}

// Result is what a run produced: its status, the path it took, the shared store at the
// end, every failure, and the counts a report needs.
type Result struct {
	Workflow string `json:"workflow"`
	Scenario string `json:"scenario,omitempty"`
	Seed     int64  `json:"seed"`
	Status   Status `json:"status"`
	Path     []Step `json:"path"`
	// PathDropped counts steps beyond RunOptions.PathLimit that Path does not keep.
	PathDropped int            `json:"path_dropped,omitempty"`
	Shared      map[string]any `json:"shared"`
	// Output holds the workflow's output values, computed when the run ended (nil when
	// the workflow declares none).
	Output map[string]any `json:"output,omitempty"`
	// Failures holds the node failures, handled or not, in order: the first
	// RunOptions.PathLimit of them, as Path keeps the first steps, so that a long run
	// failing over and over keeps bounded memory.
	Failures []*NodeError `json:"-"`
	// FailuresDropped counts the failures beyond the limit that Failures does not keep.
	FailuresDropped int `json:"failures_dropped,omitempty"`
	// Degradations are the reasons for a degraded or failed status.
	Degradations []string `json:"degradations,omitempty"`
	// Err is the failure that ended the run, for failed and canceled runs.
	Err error `json:"-"`
	// Calls counts exec calls per node (attempts that reached exec, faults included).
	Calls    map[string]int    `json:"calls"`
	Breakers []policy.Snapshot `json:"breakers,omitempty"`
	Elapsed  Duration          `json:"elapsed"`

	steps int
}

// PathNodes returns the names of the nodes visited, in order.
func (r *Result) PathNodes() []string {
	out := make([]string, len(r.Path))
	for i, s := range r.Path {
		out[i] = s.Node
	}
	return out
}

// Visited reports whether the run visited the named node.
func (r *Result) Visited(node string) bool {
	for _, s := range r.Path {
		if s.Node == node {
			return true
		}
	}
	return false
}

// Steps returns the number of node visits the run made.
func (r *Result) Steps() int { return r.steps }
