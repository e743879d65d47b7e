package main

import (
	"context"
	"fmt"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/store"
)

// journaled runs a graph with the store: breakers and caches restored before, every
// visit journaled, the trace kept, and the run's end and the carried-over state written
// in one transaction after.
type journaled struct {
	db          store.Store
	meta        *store.RunMeta
	saved       *persisted
	commitEvery int
}

// run starts the run afresh, or resumes it from point when point is not nil. The result
// is nil only when the run could not start; an error with a result means the run ended
// but its end could not be recorded.
func (j *journaled) run(ctx context.Context, g *engine.Graph, opts engine.RunOptions, point *store.ResumePoint) (*engine.Result, error) {
	if err := j.saved.restore(); err != nil {
		return nil, fmt.Errorf("restoring breakers and caches: %w", err)
	}
	jr := store.NewRunJournal(j.db, j.meta, j.commitEvery)
	var err error
	if point != nil {
		opts.Resume = point.State
		err = jr.Restart(point)
	} else {
		err = jr.Start()
	}
	if err != nil {
		return nil, err
	}
	opts.Journal = jr
	if opts.Tracer != nil {
		opts.Tracer = engine.Tee{opts.Tracer, jr}
	} else {
		opts.Tracer = jr
	}
	res, err := g.Run(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := jr.Finish(res, j.saved.export(opts.Clock)); err != nil {
		return res, fmt.Errorf("recording the end of run %s: %w", j.meta.ID, err)
	}
	return res, nil
}
