// Package durable owns journaled, resumable runs: it records a run in a store as it goes
// (one checkpoint per visit, its trace, how it stands), carries breaker and cache state
// over between the real runs of separate processes, keeps simulated runs apart from that
// state, and rebuilds a run from its journal to resume it. The command line, programs
// that embed kgrun and a web UI use it alike; store owns the file, engine the run itself.
package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
	"github.com/kgrun/kgrun/store"
)

// Carrier is state besides breakers that real runs of a workflow carry over between
// processes, such as the built-in collector's cache.
type Carrier interface {
	// Export returns the state to save when a run ends.
	Export() any
	// Import restores state saved by an earlier run, as JSON.
	Import(data json.RawMessage) error
}

// Runner runs workflows journaled in a store.
type Runner struct {
	Store store.Store
	// CommitEvery writes the journal every n visits in one transaction (below 1 is 1): a
	// crash may redo up to n-1 visits on resume.
	CommitEvery int
	// Carry names the Carriers, besides breakers, that real runs save and restore.
	Carry map[string]Carrier
}

// Spec describes a new run: what runs and the options a resume reuses.
type Spec struct {
	// File is the workflow's file as given; it is recorded as an absolute path.
	File     string
	Scenario string
	Seed     int64
	// Sets are the KEY=VALUE param overrides as given.
	Sets     []string
	MaxSteps int
	// VirtualTime runs on a virtual clock starting at ClockStart (engine.Epoch when zero).
	VirtualTime bool
	ClockStart  time.Time
}

// Run is one run as a Runner recorded it.
type Run struct {
	Meta   *store.RunMeta
	Result *engine.Result
	// How says how a resumed run continued, for people; "" for a new run.
	How string
}

// Simulated reports whether runs with these options are simulations: on virtual time or
// under a scenario. Simulations neither read nor write the state real runs carry over,
// so they are independent of what ran before and of each other.
func (s Spec) Simulated() bool { return s.VirtualTime || s.Scenario != "" }

// Clock returns the clock a run with these options runs on.
func (s Spec) Clock() engine.Clock {
	if s.VirtualTime {
		return engine.NewVirtualClock(s.ClockStart)
	}
	return engine.RealClock{}
}

// Start runs g afresh with opts, journaled: the run is created in the store, its every
// visit committed, its end recorded. opts.Scenario, Seed, MaxSteps and Clock are taken
// from spec. The Run is nil only when the run could not start; an error with a Run
// means the run ended but its end could not be recorded.
func (r *Runner) Start(ctx context.Context, g *engine.Graph, opts engine.RunOptions, spec Spec) (*Run, error) {
	abs, err := filepath.Abs(spec.File)
	if err != nil {
		abs = spec.File
	}
	clockStart := spec.ClockStart
	if spec.VirtualTime && clockStart.IsZero() {
		clockStart = engine.Epoch
	}
	fp := g.Fingerprint()
	meta := &store.RunMeta{RunInfo: store.RunInfo{Workflow: g.Spec().Name, File: abs, GraphHash: fp.Hash, GraphLines: fp.Lines,
		Nodes: g.Spec().NodeNames(), Scenario: spec.Scenario, Seed: spec.Seed, Sets: spec.Sets, VirtualTime: spec.VirtualTime,
		ClockStart: clockStart, MaxSteps: spec.MaxSteps, Started: time.Now().UTC()}}
	opts.Scenario, opts.Seed, opts.MaxSteps = spec.Scenario, spec.Seed, spec.MaxSteps
	if opts.Clock == nil {
		opts.Clock = spec.Clock()
	}
	return r.run(ctx, g, opts, meta, nil)
}

// Prepare reads run id from the store and rebuilds where it resumes, for g: after its
// last committed visit, or from the visit that failed, or (from above 0) from visit
// from. It refuses a run another live process is running and a graph that differs
// from the one the run followed.
func (r *Runner) Prepare(id string, g *engine.Graph, from int) (*store.RunMeta, *store.ResumePoint, error) {
	meta, err := r.Store.Run(id)
	if err != nil {
		return nil, nil, err
	}
	if store.StatusOf(meta) == store.StatusRunning {
		return nil, nil, fmt.Errorf("run %s is running in process %s; wait for it to end, or stop that process first", id, meta.Owner)
	}
	if fp := g.Fingerprint(); fp.Hash != meta.GraphHash {
		diff := engine.Fingerprint{Hash: meta.GraphHash, Lines: meta.GraphLines}.Diff(fp)
		return nil, nil, fmt.Errorf("%w since run %s started: it %s\nResuming would follow a different graph than the committed visits did; restore the workflow, or start a new run",
			ErrChanged, id, diff)
	}
	var point *store.ResumePoint
	if from != 0 {
		point, err = store.LoadResumePointAt(r.Store, meta, from)
	} else {
		point, err = store.LoadResumePoint(r.Store, meta)
	}
	return meta, point, err
}

// ErrChanged: the workflow is not the one the run followed.
var ErrChanged = errors.New("the workflow changed")

// Resume continues the run Prepare returned from point, with opts. The run's own
// scenario, seed and max_steps are used, as meta holds them (a caller may change them
// in meta first); a virtual-time run's clock continues where the restart point left it.
func (r *Runner) Resume(ctx context.Context, g *engine.Graph, opts engine.RunOptions, meta *store.RunMeta, point *store.ResumePoint) (*Run, error) {
	opts.Scenario, opts.Seed, opts.MaxSteps = meta.Scenario, meta.Seed, meta.MaxSteps
	if opts.Clock == nil {
		opts.Clock = ResumeClock(meta, point)
	}
	if opts.Input == nil && point.State.Input() == nil {
		// A redrive from the first visit applies no checkpoint, so the input journaled
		// with that visit is read from it here.
		err := r.Store.Checkpoints(meta.ID, 1, func(cp *engine.Checkpoint) error {
			opts.Input = cp.RunInput()
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading run %s's input: %w", meta.ID, err)
		}
	}
	return r.run(ctx, g, opts, meta, point)
}

// ResumeClock is the clock a resumed run continues on: the real clock, or for virtual
// time a virtual clock at the time the restart point was committed.
func ResumeClock(meta *store.RunMeta, point *store.ResumePoint) engine.Clock {
	if !meta.VirtualTime {
		return engine.RealClock{}
	}
	start := meta.ClockStart
	if start.IsZero() {
		start = engine.Epoch
	}
	return engine.NewVirtualClock(start.Add(time.Duration(point.State.Elapsed)))
}

func (r *Runner) run(ctx context.Context, g *engine.Graph, opts engine.RunOptions, meta *store.RunMeta, point *store.ResumePoint) (*Run, error) {
	carried := !meta.Simulated()
	if carried {
		if err := r.restore(g, meta.Workflow); err != nil {
			return nil, fmt.Errorf("restoring breakers and caches: %w", err)
		}
	}
	jr := store.NewRunJournal(r.Store, meta, r.CommitEvery)
	var err error
	how := ""
	if point != nil {
		opts.Resume = point.State
		err = jr.Restart(point)
		how = point.How
	} else {
		err = jr.Start()
	}
	if err != nil {
		return nil, err
	}
	opts.Journal = jr
	if opts.Logger != nil {
		// Every line the run logs names it, so runs sharing a log can be told apart.
		opts.Logger = opts.Logger.With("run_id", meta.ID)
	}
	if opts.Tracer != nil {
		opts.Tracer = engine.Tee{opts.Tracer, jr}
	} else {
		opts.Tracer = jr
	}
	res, err := g.Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	var state map[string]any
	if carried {
		state = r.export(g, meta.Workflow)
	}
	out := &Run{Meta: meta, Result: res, How: how}
	if err := jr.Finish(res, state); err != nil {
		return out, fmt.Errorf("recording the end of run %s: %w", meta.ID, err)
	}
	return out, nil
}

// BreakerKey and CarryKey name the store entries real runs of a workflow carry over.
func BreakerKey(workflow, name string) string { return "breaker/real/" + workflow + "/" + name }

// CarryKey names a Carrier's store entry for a workflow.
func CarryKey(name, workflow string) string { return name + "/real/" + workflow }

// restore loads the breaker states and carried state saved by earlier real runs.
func (r *Runner) restore(g *engine.Graph, workflow string) error {
	for _, name := range g.BreakerNames() {
		var bs policy.BreakerState
		ok, err := r.Store.State(BreakerKey(workflow, name), &bs)
		if err != nil {
			return err
		}
		if ok {
			if err := g.RestoreBreaker(name, bs); err != nil {
				return err
			}
		}
	}
	for name, c := range r.Carry {
		var data json.RawMessage
		ok, err := r.Store.State(CarryKey(name, workflow), &data)
		if err != nil {
			return err
		}
		if ok {
			if err := c.Import(data); err != nil {
				return fmt.Errorf("%s: %w", CarryKey(name, workflow), err)
			}
		}
	}
	return nil
}

// export returns the state entries a real run saves when it ends.
func (r *Runner) export(g *engine.Graph, workflow string) map[string]any {
	out := map[string]any{}
	for name, c := range r.Carry {
		out[CarryKey(name, workflow)] = c.Export()
	}
	for _, name := range g.BreakerNames() {
		bs, _ := g.ExportBreaker(name)
		out[BreakerKey(workflow, name)] = bs
	}
	return out
}
