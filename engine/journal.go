package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kgrun/kgrun/schema"
)

// Journal receives a Checkpoint after every completed visit, before the run moves on.
// A run whose Commit fails stops at once with status failed: going on would do work that
// a resumed run could not account for. Commit must not keep cp after it returns.
type Journal interface {
	Commit(cp *Checkpoint) error
}

// Checkpoint is what a run commits after one completed visit: the visit's outcome, what
// it changed in the shared store and where the run goes next. Replaying a run's
// checkpoints in order (RunState.Apply) rebuilds everything needed to continue it.
type Checkpoint struct {
	// Seq numbers the run's completed visits, from 1.
	Seq  int  `json:"seq"`
	Step Step `json:"step"`
	// Next is the node the run goes to; "" when this visit ended the run.
	Next string `json:"next,omitempty"`
	// Failure is the failure that leads to Next (the node there can read it), or the
	// one that ended the run.
	Failure *FailureRecord `json:"failure,omitempty"`
	// Calls is the visited node's count of exec calls in the run after this visit.
	Calls int `json:"calls,omitempty"`
	// Set holds the shared keys this visit added or changed, JSON-encoded; Deleted the
	// keys it removed.
	Set     map[string]json.RawMessage `json:"set,omitempty"`
	Deleted []string                   `json:"deleted,omitempty"`
	// Failures and Degradations are the ones this visit added to the run's.
	Failures     []FailureRecord `json:"failures,omitempty"`
	Degradations []string        `json:"degradations,omitempty"`
	// Handled, Degraded and Failed are the run's flags after this visit.
	Handled  bool `json:"handled,omitempty"`
	Degraded bool `json:"degraded,omitempty"`
	Failed   bool `json:"failed,omitempty"`
	// Input is the run's input, on the run's first checkpoint only: a resumed or
	// redriven run reads it from there.
	Input json.RawMessage `json:"input,omitempty"`
	// Elapsed is the run's time after this visit, on its clock.
	Elapsed Duration `json:"elapsed"`
	// Clock is the reading of the run's clock after this visit, so that a run resumed on
	// a virtual clock continues from the last committed time instead of going back.
	Clock time.Time `json:"clock,omitzero"`
	// RedriveFrom, on a visit that ended a failed run, is the Seq of the visit to run
	// again when the run is redriven: the visit whose failure went unhandled or reached
	// the error handler, or the one that declared the run failed.
	RedriveFrom int `json:"redrive_from,omitempty"`
}

// RunInput is the run's input carried by this checkpoint (the run's first), or nil.
func (cp *Checkpoint) RunInput() map[string]any {
	if cp == nil || cp.Input == nil {
		return nil
	}
	in, err := schema.ParseInput(cp.Input)
	if err != nil {
		return nil
	}
	return in
}

// FailureRecord is a NodeError as a journal keeps it.
type FailureRecord struct {
	Node      string `json:"node"`
	Kind      Kind   `json:"kind"`
	Phase     string `json:"phase"`
	Attempts  int    `json:"attempts,omitempty"`
	Message   string `json:"message"`
	Exhausted bool   `json:"exhausted,omitempty"`
}

func recordOf(e *NodeError) *FailureRecord {
	if e == nil {
		return nil
	}
	msg := ShortMessage(e.Err)
	return &FailureRecord{Node: e.Node, Kind: e.Kind, Phase: e.Phase, Attempts: e.Attempts, Message: msg, Exhausted: e.exhausted}
}

// NodeError rebuilds the failure; its error carries the kind and the recorded message.
func (f *FailureRecord) NodeError() *NodeError {
	if f == nil {
		return nil
	}
	return &NodeError{Node: f.Node, Kind: f.Kind, Phase: f.Phase, Attempts: f.Attempts,
		Err: WithKind(f.Kind, errors.New(f.Message)), exhausted: f.Exhausted}
}

// journalState is what a journaling run keeps between commits.
type journalState struct {
	journal Journal
	cp      Checkpoint
	// encoded holds each shared key's last committed encoding, to commit only changes.
	encoded map[string][]byte
	// touched holds the shared keys read or written since the last commit, the only
	// ones that can have changed; allTouched says the whole map was handed out (or not
	// yet committed), so every key is encoded again. Encoding only touched keys keeps a
	// commit's cost independent of the shared store's size.
	touched    map[string]struct{}
	allTouched bool
	// pending holds the failures since the last checkpoint; degradations counts what
	// earlier checkpoints already carry.
	pending      []*NodeError
	degradations int
	// handlerEntry is the Seq of the last visit routed to the error handler, and
	// firstFailed the Seq of the visit that first declared the run failed.
	handlerEntry, firstFailed int
}

// commit writes the checkpoint for the visit to n just completed; next and failure are
// where it leads.
func (r *run) commit(n, next *node, failure *NodeError) error {
	j := r.journal
	cp := &j.cp
	*cp = Checkpoint{Seq: r.res.steps, Step: r.last, Failure: recordOf(failure), Calls: r.calls[n.index],
		Handled: r.handled, Degraded: r.degraded, Failed: r.failed}
	now := r.clock.Now()
	cp.Elapsed, cp.Clock = Duration(now.Sub(r.start)), now
	if next != nil {
		cp.Next = next.name
	}
	if err := r.encodeShared(cp); err != nil {
		return err
	}
	if cp.Seq == 1 && r.input != nil {
		b, err := json.Marshal(r.input)
		if err != nil {
			return fmt.Errorf("the run's input cannot be journaled: %w", err)
		}
		cp.Input = b
	}
	for _, f := range j.pending {
		cp.Failures = append(cp.Failures, *recordOf(f))
	}
	clear(j.pending)
	j.pending = j.pending[:0]
	cp.Degradations = r.res.Degradations[j.degradations:]
	j.degradations = len(r.res.Degradations)
	if r.last.Route == "error_handler" {
		j.handlerEntry = cp.Seq
	}
	if r.failed && j.firstFailed == 0 {
		j.firstFailed = cp.Seq
	}
	if next == nil {
		switch {
		case r.res.Err != nil:
			cp.RedriveFrom = cp.Seq
		case r.failed && j.handlerEntry > 0:
			cp.RedriveFrom = j.handlerEntry
		case r.failed:
			cp.RedriveFrom = j.firstFailed
		}
	}
	if err := j.journal.Commit(cp); err != nil {
		return fmt.Errorf("journal: cannot commit visit %d (%s): %w", cp.Seq, r.last.Node, err)
	}
	return nil
}

// touch notes that the visit read or wrote shared[key], so the next commit encodes it.
func (r *run) touch(key string) {
	if r.journal != nil {
		r.journal.touched[key] = struct{}{}
	}
	if r.compose != nil && r.compose.written != nil {
		r.compose.written[key] = struct{}{}
	}
}

// encodeShared puts into cp the shared keys whose encoding changed since the last
// commit, and the keys that disappeared.
func (r *run) encodeShared(cp *Checkpoint) error {
	j := r.journal
	enc := j.encoded
	var keys []string
	if j.allTouched {
		keys = sortedKeys(r.shared)
	} else {
		keys = make([]string, 0, len(j.touched))
		for k := range j.touched {
			keys = append(keys, k)
		}
		slices.Sort(keys)
	}
	for _, k := range keys {
		v, ok := r.shared[k]
		if !ok {
			if _, was := enc[k]; was {
				cp.Deleted = append(cp.Deleted, k)
				delete(enc, k)
			}
			continue
		}
		b, err := marshalContained(v)
		if err != nil {
			return fmt.Errorf("node %q left shared[%q] holding a %T, which cannot be journaled (%v): store plain data (numbers, strings, lists, maps, structs) in the shared store",
				r.last.Node, k, v, err)
		}
		if old, ok := enc[k]; ok && string(old) == string(b) {
			continue
		}
		if cp.Set == nil {
			cp.Set = map[string]json.RawMessage{}
		}
		cp.Set[k] = b
		enc[k] = b
	}
	if j.allTouched {
		for k := range enc {
			if _, ok := r.shared[k]; !ok {
				cp.Deleted = append(cp.Deleted, k)
				delete(enc, k)
			}
		}
	}
	slices.Sort(cp.Deleted)
	clear(j.touched)
	j.allTouched = false
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// marshalContained is json.Marshal with a panic in a value's MarshalJSON (or
// MarshalText) turned into an error.
func marshalContained(v any) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			b, err = nil, fmt.Errorf("encoding it panicked: %v", p)
		}
	}()
	return json.Marshal(v)
}
