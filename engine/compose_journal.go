package engine

import (
	"encoding/json"
	"fmt"
)

// A map's items and a parallel node's branches are journaled one by one as they end,
// before the composite node's visit completes: a run killed in the middle of a map of a
// thousand items is resumed with only the items that had not ended. (Visits inside an
// item are not journaled: an item cut off is run again whole, at least once like any
// visit.) Only the run's own composite nodes journal their children; those nested inside
// bodies are part of their item.

// ItemRecord is how one item of a map, or one branch of a parallel node, ended.
type ItemRecord struct {
	// Seq is the run's visit the item belongs to: the composite node's visit, which
	// commits after its items.
	Seq   int    `json:"seq"`
	Node  string `json:"node"`
	Index int    `json:"index"`
	// Status is the item's run's; Output its output (JSON), Error its failure.
	Status       Status          `json:"status"`
	Output       json.RawMessage `json:"output,omitempty"`
	Error        string          `json:"error,omitempty"`
	Degradations []string        `json:"degradations,omitempty"`
}

// ItemJournal is a Journal that also takes children's outcomes; a Journal that is not
// one gets only the composite node's visit, and a resumed run runs all its items again.
type ItemJournal interface {
	Journal
	CommitItem(rec *ItemRecord) error
}

// AddItem keeps an item record of the visit the run resumes at (Seq+1), so that the
// item is not run again. Records of other visits are ignored.
func (s *RunState) AddItem(rec *ItemRecord) error {
	if rec.Seq != s.Seq+1 {
		return nil
	}
	if s.items == nil {
		s.items = map[string]map[int]*ItemRecord{}
	}
	if s.items[rec.Node] == nil {
		s.items[rec.Node] = map[int]*ItemRecord{}
	}
	s.items[rec.Node][rec.Index] = rec
	return nil
}

// resumedItem returns the journaled outcome of item index of the composite node n's
// current visit, when the run resumed into that very visit.
func (f *fanout) resumedItem(index int) (childOutcome, bool) {
	pr := f.parent
	if pr.resume == nil || pr.compose != nil || pr.res.steps != pr.resume.Seq {
		return childOutcome{}, false
	}
	rec := pr.resume.items[f.node.name][index]
	if rec == nil {
		return childOutcome{}, false
	}
	o := childOutcome{status: rec.Status, degradations: rec.Degradations}
	if rec.Error != "" {
		o.err = fmt.Errorf("%s", rec.Error)
	}
	if len(rec.Output) > 0 {
		if err := json.Unmarshal(rec.Output, &o.output); err != nil {
			return childOutcome{}, false
		}
	}
	return o, true
}

// commitItem journals how item index ended, when the run journals items.
func (f *fanout) commitItem(index int, o childOutcome) error {
	pr := f.parent
	if pr.journal == nil || pr.compose != nil {
		return nil
	}
	ij, ok := pr.journal.journal.(ItemJournal)
	if !ok {
		return nil
	}
	rec := &ItemRecord{Seq: pr.res.steps + 1, Node: f.node.name, Index: index, Status: o.status, Degradations: o.degradations}
	if o.err != nil {
		rec.Error = ShortMessage(o.err)
	}
	if o.output != nil {
		b, err := json.Marshal(o.output)
		if err != nil {
			return fmt.Errorf("node %q: the output of item %d cannot be journaled (%w): output plain data", f.node.name, index, err)
		}
		rec.Output = b
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ij.CommitItem(rec); err != nil {
		return fmt.Errorf("journal: cannot commit item %d of %s: %w", index, f.node.name, err)
	}
	return nil
}
