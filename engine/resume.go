package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/kgrun/kgrun/schema"
)

// RunState is a run rebuilt from its checkpoints, for RunOptions.Resume. Applying every
// checkpoint continues the run after its last committed visit (a crash, an interruption,
// max_steps); applying those before a checkpoint's RedriveFrom redrives a failed run from
// the visit that failed, with the shared store as it was before that visit.
//
// Shared values come back as JSON values (map[string]any, []any, float64, string, bool);
// nodes read them into their own types with SharedAs.
type RunState struct {
	// Next is where the run continues; "" means the workflow's start.
	Next string
	// Failure is the failure that leads to Next, which the node there can read.
	Failure *FailureRecord
	// Seq is the number of visits applied.
	Seq int
	// Elapsed is the run's time so far.
	Elapsed Duration
	// Clock is the run's clock after the last applied visit (zero when no checkpoint
	// carried one); a resumed run on a virtual clock that reads earlier moves it there.
	Clock time.Time
	// TraceSeq is the number of trace events already recorded, so new ones follow on.
	TraceSeq int

	input        json.RawMessage
	shared       map[string]any
	decoded      bool
	encoded      map[string][]byte
	visits       map[string]int
	calls        map[string]int
	path         []Step
	pathDropped  int
	failures     []FailureRecord
	degradations []string
	handled      bool
	degraded     bool
	failed       bool
	// items are the journaled children of the visit to resume, by node and index.
	items map[string]map[int]*ItemRecord
}

// NewRunState returns the state of a run that has not started.
func NewRunState() *RunState {
	return &RunState{shared: map[string]any{}, encoded: map[string][]byte{}, visits: map[string]int{}, calls: map[string]int{}}
}

// Apply replays one checkpoint. Checkpoints must come in order, from Seq 1.
func (s *RunState) Apply(cp *Checkpoint) error {
	if cp.Seq != s.Seq+1 {
		return fmt.Errorf("checkpoint %d follows %d: the journal is missing visits", cp.Seq, s.Seq)
	}
	// Values are decoded once, when the state is used: a key rewritten by many visits
	// costs one decoding, not one per visit.
	for k, raw := range cp.Set {
		if !json.Valid(raw) {
			return fmt.Errorf("checkpoint %d: shared[%q] is not valid JSON", cp.Seq, k)
		}
		s.encoded[k] = raw
	}
	for _, k := range cp.Deleted {
		delete(s.encoded, k)
	}
	if cp.Input != nil {
		if !json.Valid(cp.Input) {
			return fmt.Errorf("checkpoint %d: the run's input is not valid JSON", cp.Seq)
		}
		s.input = slices.Clone(cp.Input)
	}
	s.decoded = false
	s.Seq = cp.Seq
	s.Next, s.Failure = cp.Next, cp.Failure
	s.Elapsed = cp.Elapsed
	if !cp.Clock.IsZero() {
		s.Clock = cp.Clock
	}
	s.visits[cp.Step.Node] = max(s.visits[cp.Step.Node], cp.Step.Visit)
	s.calls[cp.Step.Node] = cp.Calls
	if len(s.path) < DefaultPathLimit {
		s.path = append(s.path, cp.Step)
	} else {
		s.pathDropped++
	}
	s.failures = append(s.failures, cp.Failures...)
	s.degradations = append(s.degradations, cp.Degradations...)
	s.handled, s.degraded, s.failed = cp.Handled, cp.Degraded, cp.Failed
	return nil
}

// Input returns the run's input as journaled with its first visit, or nil when no
// applied checkpoint carries one.
func (s *RunState) Input() map[string]any {
	if s == nil || s.input == nil {
		return nil
	}
	in, err := schema.ParseInput(s.input)
	if err != nil {
		return nil // Apply checked that it is valid JSON; a non-object is no input
	}
	return in
}

// Shared returns the rebuilt shared store.
func (s *RunState) Shared() map[string]any {
	if !s.decoded {
		clear(s.shared)
		for k, raw := range s.encoded {
			var v any
			_ = json.Unmarshal(raw, &v) // Apply checked that raw is valid JSON
			s.shared[k] = v
		}
		s.decoded = true
	}
	return s.shared
}

// resumeFrom loads a rebuilt state into a new run and returns the node to continue at.
func (r *run) resumeFrom(s *RunState) (*node, *NodeError, error) {
	at := r.g.start
	if s.Next != "" {
		at = r.g.byName[s.Next]
		if at == nil {
			return nil, nil, fmt.Errorf("the run continues at node %q, which the workflow no longer has", s.Next)
		}
	}
	for name, n := range s.visits {
		if nd := r.g.byName[name]; nd != nil {
			r.visits[nd.index] = n
		}
	}
	for name, n := range s.calls {
		if nd := r.g.byName[name]; nd != nil {
			r.calls[nd.index] = n
		}
	}
	maps.Copy(r.shared, s.Shared())
	if r.journal != nil {
		maps.Copy(r.journal.encoded, s.encoded)
	}
	past := s.Result()
	r.res.Path = slices.Clone(past.Path)
	r.res.PathDropped, r.res.steps = past.PathDropped, past.steps
	r.res.Failures = past.Failures
	r.res.Degradations = slices.Clone(past.Degradations)
	r.handled, r.degraded, r.failed = s.handled, s.degraded, s.failed
	r.seq = s.TraceSeq
	if r.journal != nil {
		r.journal.degradations = len(r.res.Degradations)
	}
	return at, s.Failure.NodeError(), nil
}

// SharedAs reads a shared key as a T. A value of another type, such as one rebuilt from
// a journal as generic JSON, is converted by As and stored back as a T, so the
// conversion happens once. ok is false when the key is absent.
func SharedAs[T any](v *Visit, key string) (val T, ok bool, err error) {
	raw, ok := v.r.shared[key]
	if !ok {
		return val, false, nil
	}
	if val, err = As[T](raw); err != nil {
		return val, true, Errorf(Data, "shared[%q]: %w", key, err)
	}
	v.r.shared[key] = val
	v.r.touch(key)
	return val, true, nil
}

// As returns x as a T: x itself when it is one, else x converted through its JSON
// encoding (how values rebuilt from a journal get their types back).
func As[T any](x any) (T, error) {
	if t, ok := x.(T); ok {
		return t, nil
	}
	var val T
	b, err := json.Marshal(x)
	if err == nil {
		err = json.Unmarshal(b, &val)
	}
	if err != nil {
		return val, fmt.Errorf("a %T does not convert to %T: %v", x, val, err)
	}
	return val, nil
}

// Result returns what the rebuilt run had produced, for reporting a past run. The caller
// fills in what checkpoints do not carry: workflow, scenario, seed, status and error.
func (s *RunState) Result() *Result {
	res := &Result{Path: s.path, PathDropped: s.pathDropped, Shared: s.Shared(), Degradations: s.degradations,
		Calls: maps.Clone(s.calls), Elapsed: s.Elapsed, steps: s.Seq}
	for i := range s.failures {
		res.Failures = append(res.Failures, s.failures[i].NodeError())
	}
	return res
}
