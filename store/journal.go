package store

import (
	"encoding/json"
	"fmt"

	"github.com/kgrun/kgrun/engine"
)

// MaxEventsPerInvocation bounds the trace events one process stores for a run; the rest
// are counted in RunMeta.EventsDropped. Checkpoints are never dropped.
const MaxEventsPerInvocation = 100_000

// RunJournal writes one run's checkpoints and trace to a Store: it is the engine.Journal
// and an engine.Tracer of that run. With CommitEvery at 1 each visit is durable before
// the run moves on; a larger value writes every n visits in one transaction, so a crash
// may lose (and a resume redo) up to n-1 visits. A RunJournal serves one run and is not
// safe for concurrent use.
type RunJournal struct {
	store   Store
	meta    *RunMeta
	every   int
	pending Batch
	visits  int
	events  int
	// infoDirty is true until the run's static description is written: once per
	// invocation, so a commit's cost does not depend on the workflow's size.
	infoDirty bool
}

// NewRunJournal prepares a journal for the run meta describes; commitEvery below 1 is 1.
func NewRunJournal(s Store, meta *RunMeta, commitEvery int) *RunJournal {
	return &RunJournal{store: s, meta: meta, every: max(commitEvery, 1)}
}

// Start marks the run running and writes its metadata; a run without an ID is created
// and given one.
func (j *RunJournal) Start() error {
	j.meta.Status = StatusRunning
	j.meta.Error = ""
	if j.meta.ID == "" {
		j.meta.Owner = ""
		if err := j.store.CreateRun(j.meta); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		return nil
	}
	j.meta.Owner = ownerName()
	j.infoDirty = true
	return j.flush()
}

// Restart marks a resumed run running; for a redrive it discards the checkpoints after
// the restart point, which the redriven visits replace.
func (j *RunJournal) Restart(p *ResumePoint) error {
	j.meta.Resumes++
	j.pending.Truncate, j.pending.TruncateAfter = p.Redrive, p.State.Seq
	return j.Start()
}

// Event buffers a trace event; it is written with the next commit.
func (j *RunJournal) Event(e engine.Event) {
	if j.events >= MaxEventsPerInvocation {
		j.meta.EventsDropped++
		return
	}
	data, err := json.Marshal(e)
	if err != nil {
		return // an Event always encodes; nothing to record if it ever did not
	}
	j.events++
	j.pending.Events = append(j.pending.Events, data)
}

// Commit buffers cp and writes the batch when CommitEvery visits are waiting.
func (j *RunJournal) Commit(cp *engine.Checkpoint) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	j.pending.Checkpoints = append(j.pending.Checkpoints, EncodedCheckpoint{Seq: cp.Seq, Data: data})
	j.meta.Visits, j.meta.Elapsed = cp.Seq, cp.Elapsed
	if j.visits++; j.visits < j.every {
		return nil
	}
	return j.flush()
}

// Finish records how the run ended, with state entries (breakers, caches) to save in
// the same transaction, and writes everything still buffered.
func (j *RunJournal) Finish(res *engine.Result, state map[string]any) error {
	j.meta.Status = string(res.Status)
	j.meta.Elapsed = res.Elapsed
	j.meta.Visits = res.Steps()
	j.meta.Breakers = res.Breakers
	j.meta.Output = res.Output
	j.meta.Owner = ""
	if res.Err != nil {
		j.meta.Error = engine.ShortMessage(res.Err)
	}
	j.pending.State = state
	return j.flush()
}

func (j *RunJournal) flush() error {
	j.pending.RunID, j.pending.Progress = j.meta.ID, &j.meta.RunProgress
	if j.infoDirty {
		j.pending.Info = &j.meta.RunInfo
	}
	if err := j.store.Write(&j.pending); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	j.pending = Batch{}
	j.visits = 0
	j.infoDirty = false
	return nil
}

var (
	_ engine.Journal = (*RunJournal)(nil)
	_ engine.Tracer  = (*RunJournal)(nil)
)

// ResumePoint is where a journaled run resumes, rebuilt for engine.RunOptions.Resume.
type ResumePoint struct {
	State *engine.RunState
	// Redrive is true when the run ended failed and restarts at the visit that failed;
	// false when it continues after its last committed visit.
	Redrive bool
	// How says which, for people.
	How string
}

// LoadResumePoint rebuilds a run from its journal: after its last checkpoint when that
// checkpoint did not end the run (a crash, an interruption, max_steps), or just before
// the visit that failed when it ended a failed run.
func LoadResumePoint(s Store, meta *RunMeta) (*ResumePoint, error) {
	last, err := s.LastCheckpoint(meta.ID)
	if err != nil {
		return nil, err
	}
	p := &ResumePoint{State: engine.NewRunState()}
	through := 0
	switch {
	case last == nil:
		p.How = "starting over: no visit was committed"
	case last.Next != "":
		through = last.Seq
		p.How = fmt.Sprintf("continuing at %s after visit %d", last.Next, last.Seq)
	case last.RedriveFrom > 0:
		through, p.Redrive = last.RedriveFrom-1, true
		p.How = fmt.Sprintf("redriving from visit %d", last.RedriveFrom)
	default:
		return nil, fmt.Errorf("run %s is %s and its last visit ended it: there is nothing to resume", meta.ID, StatusOf(meta))
	}
	return p, p.load(s, meta.ID, through)
}

// LoadResumePointAt rebuilds a run to rerun it from visit from (as kgrun show numbers
// them), keeping the visits before it, whatever the run's status: a re-run from a
// chosen step.
func LoadResumePointAt(s Store, meta *RunMeta, from int) (*ResumePoint, error) {
	last, err := s.LastCheckpoint(meta.ID)
	if err != nil {
		return nil, err
	}
	n := 0
	if last != nil {
		n = last.Seq
	}
	if from < 1 || from > n {
		return nil, fmt.Errorf("run %s has committed visits 1 to %d; --from takes one of them", meta.ID, n)
	}
	p := &ResumePoint{State: engine.NewRunState(), Redrive: true, How: fmt.Sprintf("rerunning from visit %d", from)}
	return p, p.load(s, meta.ID, from-1)
}

// load applies the checkpoints through seq through, takes the item records of the
// visit after it (for a redrive, only the items that succeeded: the others run again),
// and counts the stored events.
func (p *ResumePoint) load(s Store, id string, through int) error {
	if through > 0 {
		if err := s.Checkpoints(id, through, p.State.Apply); err != nil {
			return err
		}
	}
	if err := s.Items(id, through+1, func(rec *engine.ItemRecord) error {
		if p.Redrive && rec.Status != engine.StatusSuccess && rec.Status != engine.StatusDegraded {
			return nil
		}
		return p.State.AddItem(rec)
	}); err != nil {
		return err
	}
	if p.Redrive {
		p.How += " (" + nodeOrStart(p.State.Next) + ")"
	}
	var err error
	p.State.TraceSeq, err = s.EventCount(id)
	return err
}

func nodeOrStart(n string) string {
	if n == "" {
		return "the start"
	}
	return n
}
