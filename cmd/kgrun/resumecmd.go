package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/engine"
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
	temporal   temporalFlags
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
	fs.StringVar(&f.clockStart, "clock-start", "", "for a virtual-time run, continue with the clock at `TIME` (RFC 3339) instead of where its restart point left it")
	f.state.register(fs, true)
	f.temporal.register(fs, temporalClient)
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
	if f.temporal.addr != "" {
		return resumeOnTemporal(ctx, fs, f, pos, stdout, stderr)
	}
	if len(pos) != 2 {
		return usageError(stderr, "resume", fmt.Errorf("usage: kgrun resume RUN_ID FILE: name the run (kgrun runs lists them) and its workflow file (kgrun show RUN_ID says which it was)"))
	}
	if f.format != "text" && f.format != "json" {
		return usageError(stderr, "resume", fmt.Errorf("--format takes text or json, not %q", f.format))
	}
	if !f.state.enabled() {
		return usageError(stderr, "resume", fmt.Errorf("resume reads the run from the store; --state none has none"))
	}
	clockStart, err := parseClockStart(f.clockStart)
	if err != nil {
		return usageError(stderr, "resume", err)
	}
	db, err := f.state.open(false)
	if err != nil {
		return storeError(stderr, "resume", err)
	}
	defer db.Close()
	// The workflow comes from the user's own argument, never from the journal: a store
	// is data, and a path in it must not make kgrun read an arbitrary file.
	file := pos[1]
	cache := builtin.NewCache()
	g, code := load(file, stderr, cache)
	if g == nil {
		return code
	}
	if f.scenario != "none" {
		if _, err := checkScenario(g, f.scenario); err != nil {
			return usageError(stderr, "resume", err)
		}
	}
	runner := f.state.runner(db, cache)
	meta, point, err := runner.Prepare(pos[0], g, f.from)
	if err != nil {
		return storeError(stderr, "resume", fmt.Errorf("%s: %w", file, err))
	}
	switch f.scenario {
	case "":
	case "none":
		meta.Scenario = ""
	default:
		meta.Scenario = f.scenario
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
	clock := durable.ResumeClock(meta, point)
	if !clockStart.IsZero() {
		clock = engine.NewVirtualClock(clockStart)
	}

	st := newStats()
	tracer, closeTrace, err := traceTo(f.trace, st, stderr)
	if err != nil {
		return usageError(stderr, "resume", err)
	}
	defer closeTrace()
	opts := engine.RunOptions{Params: params, Clock: clock, Tracer: tracer, Env: os.LookupEnv}
	run, err := runner.Resume(ctx, g, opts, meta, point)
	if err != nil {
		code := storeError(stderr, "resume", err)
		if run == nil {
			return code
		}
	}
	ro := reportOptions{virtual: meta.VirtualTime, color: !f.noColor && isTerminal(stdout), runID: meta.ID, resumed: point.How}
	return printResult(stdout, run.Result, st, g.Spec().NodeNames(), f.format, ro)
}
