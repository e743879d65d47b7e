package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/store"
)

// resumeFlags are the flags of "kgrun resume": the run's own options are reused, and
// these may change what is safe to change.
type resumeFlags struct {
	scenario   string
	sets       setFlags
	maxSteps   int
	format     string
	noColor    bool
	trace      string
	clockStart string
	from       int
	state      stateFlags
}

func newResumeFlags() (*flag.FlagSet, *resumeFlags) {
	f := &resumeFlags{}
	fs := flag.NewFlagSet("resume", flag.ContinueOnError)
	fs.StringVar(&f.scenario, "scenario", "", "run the rest under scenario `NAME` instead of the run's own; none for no scenario (to remove a fault)")
	fs.Var(&f.sets, "set", "override a param, `KEY=VALUE`, on top of the run's own; repeatable")
	fs.IntVar(&f.from, "from", 0, "rerun from visit `N` (as kgrun show numbers them), keeping the visits before it, whatever the run's status")
	fs.IntVar(&f.maxSteps, "max-steps", 0, "override max_steps (counting the visits already made)")
	fs.StringVar(&f.format, "format", "text", "output `text` or json")
	fs.BoolVar(&f.noColor, "no-color", false, "never colour the report")
	fs.StringVar(&f.trace, "trace", "", "also write this invocation's trace as JSON lines to `FILE`")
	fs.StringVar(&f.clockStart, "clock-start", "", "for a virtual-time run, continue with the clock at `TIME` (RFC 3339)")
	f.state.register(fs, true)
	return fs, f
}

// resumeCommand continues a crashed or interrupted run after its last committed visit,
// or redrives a failed run from the visit that failed, in the same store.
func resumeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, f := newResumeFlags()
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usageError(stderr, "resume", fmt.Errorf("usage: kgrun resume RUN_ID [FILE]; kgrun runs lists the runs"))
	}
	if f.format != "text" && f.format != "json" {
		return usageError(stderr, "resume", fmt.Errorf("--format takes text or json, not %q", f.format))
	}
	if !f.state.enabled() {
		return usageError(stderr, "resume", fmt.Errorf("resume reads the run from the store; --state none has none"))
	}
	db, err := f.state.open(false)
	if err != nil {
		return usageError(stderr, "resume", err)
	}
	defer db.Close()
	meta, err := db.Run(pos[0])
	if err != nil {
		return usageError(stderr, "resume", err)
	}
	file := meta.File
	if len(pos) == 2 {
		file = pos[1]
	}
	cache := builtin.NewCache()
	g, code := load(file, stderr, cache)
	if g == nil {
		return code
	}
	if fp := g.Fingerprint(); fp.Hash != meta.GraphHash {
		diff := engine.Fingerprint{Hash: meta.GraphHash, Lines: meta.GraphLines}.Diff(fp)
		return usageError(stderr, "resume", fmt.Errorf("%s changed since run %s started: it %s\nResuming would follow a different graph than the committed visits did; restore the workflow, or start a new run",
			file, meta.ID, diff))
	}
	switch f.scenario {
	case "":
	case "none":
		meta.Scenario = ""
	default:
		if meta.Scenario, err = checkScenario(g, f.scenario); err != nil {
			return usageError(stderr, "resume", err)
		}
	}
	var point *store.ResumePoint
	if f.from != 0 {
		point, err = store.LoadResumePointAt(db, meta, f.from)
	} else {
		point, err = store.LoadResumePoint(db, meta)
	}
	if err != nil {
		return usageError(stderr, "resume", err)
	}

	meta.Sets = append(meta.Sets, f.sets...)
	params, err := typedSets(g.Spec(), meta.Sets)
	if err != nil {
		return usageError(stderr, "resume", err)
	}
	if f.maxSteps > 0 {
		meta.MaxSteps = f.maxSteps
	}
	if f.clockStart != "" && !meta.VirtualTime {
		return usageError(stderr, "resume", fmt.Errorf("--clock-start applies to virtual-time runs; run %s uses the real clock", meta.ID))
	}
	var clock engine.Clock = engine.RealClock{}
	if meta.VirtualTime {
		start, err := virtualStart(db, f.clockStart)
		if err != nil {
			return usageError(stderr, "resume", err)
		}
		clock = engine.NewVirtualClock(start)
	}

	st := newStats()
	tracer, closeTrace, err := traceTo(f.trace, st, stderr)
	if err != nil {
		return usageError(stderr, "resume", err)
	}
	defer closeTrace()
	opts := engine.RunOptions{Scenario: meta.Scenario, Seed: meta.Seed, Params: params, Clock: clock, Tracer: tracer, MaxSteps: meta.MaxSteps, Env: os.LookupEnv}
	j := &journaled{db: db, meta: meta, commitEvery: f.state.commitEvery,
		saved: &persisted{st: db, g: g, cache: cache, domain: stateDomain(meta.VirtualTime), workflow: g.Spec().Name}}
	res, err := j.run(ctx, g, opts, point)
	if err != nil {
		fmt.Fprintf(stderr, "kgrun resume: %s\n", termText(err.Error()))
		if res == nil {
			return exitUsage
		}
	}
	ro := reportOptions{virtual: meta.VirtualTime, color: !f.noColor && isTerminal(stdout), runID: meta.ID, resumed: point.How}
	return printResult(stdout, res, st, g.Spec().NodeNames(), f.format, ro)
}
