package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/durable"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/schema"
	"github.com/kgrun/kgrun/temporal"
)

// runFlags are the flags of "kgrun run".
type runFlags struct {
	scenario      string
	temporal      temporalFlags
	simulate      bool
	failureType   string
	seed          int64
	sets          setFlags
	virtual       bool
	breakers      string
	enableBreaker bool
	runs          int
	concurrency   int
	interval      time.Duration
	trace         string
	format        string
	logLevel      string
	logFormat     string
	verbose       bool
	testRecovery  bool
	demoBreaker   bool
	maxSteps      int
	noColor       bool
	clockStart    string
	input         string
	inputJSON     string
	state         stateFlags
	otel          bool
	noProgress    bool
}

// setFlags collects repeated --set key=value flags.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func newRunFlags() (*flag.FlagSet, *runFlags) {
	f := &runFlags{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.scenario, "scenario", "", "run the workflow's scenario `NAME` (injected faults and params)")
	fs.BoolVar(&f.simulate, "simulate-failures", false, "simulate failures: the scenario named by --failure-type (random if none)")
	fs.StringVar(&f.failureType, "failure-type", "", "scenario `NAME` for --simulate-failures: network, processing, storage or random")
	fs.Int64Var(&f.seed, "seed", 1, "seed for every random draw; the same seed gives the same run")
	fs.Var(&f.sets, "set", "override a param, `KEY=VALUE` (read as the param's type; as YAML for undeclared keys); repeatable")
	fs.BoolVar(&f.virtual, "virtual-time", false, "run on a virtual clock: waits and timeouts take no real time")
	fs.StringVar(&f.breakers, "breakers", "on", "circuit breakers `on` or off")
	fs.BoolVar(&f.enableBreaker, "enable-circuit-breaker", false, "same as --breakers on")
	fs.IntVar(&f.runs, "runs", 1, "run `N` times (seeds seed, seed+1, ...), sharing breakers, and print a summary")
	fs.IntVar(&f.concurrency, "concurrency", 1, "with --runs, run `C` at once (on the real clock; virtual time simulates the runs one at a time, in virtual-time order)")
	fs.DurationVar(&f.interval, "interval", 0, "with --runs --virtual-time, start a run every `D` of virtual time (default: all at once)")
	fs.StringVar(&f.trace, "trace", "", "write the trace as JSON lines to `FILE`")
	fs.StringVar(&f.format, "format", "text", "output `text` or json")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log `LEVEL` on stderr: trace, debug, info, warn, error, off")
	fs.StringVar(&f.logFormat, "log-format", "text", "log `FORMAT`: text or json")
	fs.BoolVar(&f.verbose, "verbose", false, "same as --log-level debug")
	fs.BoolVar(&f.testRecovery, "test-recovery", false, "run the workflow's tests (same as kgrun test FILE)")
	fs.BoolVar(&f.demoBreaker, "demo-circuit-breaker", false, "show a circuit breaker alone against a service failing 80% of calls")
	fs.IntVar(&f.maxSteps, "max-steps", 0, "override the workflow's max_steps")
	fs.BoolVar(&f.noColor, "no-color", false, "never colour the report")
	fs.StringVar(&f.clockStart, "clock-start", "", "with --virtual-time, start the clock at `TIME` (RFC 3339) instead of 2025-01-01T00:00:00Z")
	fs.StringVar(&f.input, "input", "", "the run's input: a JSON object in `FILE` (- for stdin), checked against the workflow's input declaration")
	fs.StringVar(&f.inputJSON, "input-json", "", "the run's input as JSON text, `'{...}'`")
	fs.BoolVar(&f.otel, "otel", false, "export traces and metrics over OTLP/HTTP (configured by the OTEL_EXPORTER_OTLP_* variables; on when they set an endpoint)")
	fs.BoolVar(&f.noProgress, "no-progress", false, "never show the live progress line on a terminal")
	f.state.register(fs, true)
	f.temporal.register(fs, temporalRun)
	return fs, f
}

func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, f := newRunFlags()
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if f.demoBreaker {
		return demoBreaker(stdout, f.seed)
	}
	if len(pos) != 1 {
		return usageError(stderr, "run", fmt.Errorf("want one workflow file, got %d arguments; usage: kgrun [run] FILE [flags]", len(pos)))
	}
	file := pos[0]
	if f.testRecovery {
		return testFiles(ctx, []string{file}, "text", stdout, stderr)
	}
	if err := f.check(); err != nil {
		return usageError(stderr, "run", err)
	}
	cache := builtin.NewCache()
	g, code := load(file, stderr, cache)
	if g == nil {
		return code
	}
	scenario, err := f.scenarioName(g)
	if err != nil {
		return usageError(stderr, "run", err)
	}
	params, err := typedSets(g.Spec(), f.sets)
	if err == nil {
		err = g.CheckParams(params) // against the node types that read them
	}
	if err != nil {
		return usageError(stderr, "run", err)
	}
	input, err := readInput(f.input, f.inputJSON, stdin)
	if err == nil {
		input, err = g.Spec().CheckInput(input)
	}
	if err != nil {
		return usageError(stderr, "run", err)
	}
	logger, err := f.logger(stderr)
	if err != nil {
		return usageError(stderr, "run", err)
	}
	st := newStats()
	tracer, closeTrace, err := traceTo(f.trace, st, stderr)
	if err != nil {
		return usageError(stderr, "run", err)
	}
	defer closeTrace()
	if f.trace == "" && !g.EmitsPolicyEvents() {
		// The report's statistics come only from retry and breaker events, which this
		// graph cannot emit: run without a tracer, so no visit builds an event.
		tracer = nil
	}
	if f.clockStart != "" && !f.virtual {
		return usageError(stderr, "run", fmt.Errorf("--clock-start sets the virtual clock; add --virtual-time"))
	}
	clockStart, err := parseClockStart(f.clockStart)
	if err != nil {
		return usageError(stderr, "run", err)
	}
	spec := durable.Spec{File: file, Scenario: scenario, Seed: f.seed, Sets: f.sets, MaxSteps: f.maxSteps, VirtualTime: f.virtual, ClockStart: clockStart}
	clock := spec.Clock()
	tracer, closeObservers, err := observe(ctx, g, clock, f, tracer, stderr)
	if err != nil {
		return usageError(stderr, "run", err)
	}
	defer closeObservers()
	opts := engine.RunOptions{Scenario: scenario, Seed: f.seed, Params: params, Input: input, Clock: clock, Tracer: tracer, Logger: logger,
		DisableBreakers: f.breakers == "off", MaxSteps: f.maxSteps, Env: os.LookupEnv}
	if f.temporal.addr != "" {
		return runOnTemporal(ctx, g, opts, f, st, stdout, stderr)
	}
	if f.runs > 1 { // --runs simulates many runs side by side: it keeps nothing in the store
		return runMany(ctx, g, opts, f, st, stdout, stderr)
	}
	ro := reportOptions{virtual: f.virtual, color: !f.noColor && isTerminal(stdout)}
	if !f.state.enabled() {
		res, err := g.Run(ctx, opts)
		if err != nil {
			return usageError(stderr, "run", err)
		}
		return printResult(stdout, res, st, g.Spec().NodeNames(), f.format, ro)
	}
	db, err := f.state.open(false)
	if err != nil {
		return storeError(stderr, "run", err)
	}
	defer db.Close()
	run, err := f.state.runner(db, cache).Start(ctx, g, opts, spec)
	if err != nil {
		code := storeError(stderr, "run", err)
		if run == nil {
			return code
		}
	}
	ro.runID = run.Meta.ID
	return printResult(stdout, run.Result, st, g.Spec().NodeNames(), f.format, ro)
}

// traceTo returns a run's tracer: st, and a JSON-lines file too when path is set; the
// function returned closes the file and reports a failed write.
func traceTo(path string, st *stats, stderr io.Writer) (engine.Tracer, func(), error) {
	if path == "" {
		return st, func() {}, nil
	}
	tf, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("trace file: %w", err)
	}
	jl := engine.NewJSONLines(tf)
	return engine.Tee{st, jl}, func() {
		if err := jl.Err(); err != nil {
			fmt.Fprintf(stderr, "kgrun: writing trace: %v\n", err)
		}
		tf.Close()
	}, nil
}

// printResult writes a run's report or JSON result and returns the exit code its
// status calls for.
func printResult(stdout io.Writer, res *engine.Result, st *stats, nodes []string, format string, ro reportOptions) int {
	if format == "json" {
		writeJSONResult(stdout, res, st, ro.runID)
	} else {
		writeReport(stdout, res, st, nodes, ro)
	}
	return exitCode(res.Status)
}

func (f *runFlags) check() error {
	switch {
	case f.breakers != "on" && f.breakers != "off":
		return fmt.Errorf("--breakers takes on or off, not %q", f.breakers)
	case f.enableBreaker && f.breakers == "off":
		return fmt.Errorf("--enable-circuit-breaker and --breakers off contradict each other")
	case f.format != "text" && f.format != "json":
		return fmt.Errorf("--format takes text or json, not %q", f.format)
	case f.logFormat != "text" && f.logFormat != "json":
		return fmt.Errorf("--log-format takes text or json, not %q", f.logFormat)
	case f.runs < 1:
		return fmt.Errorf("--runs must be at least 1")
	case f.concurrency < 1:
		return fmt.Errorf("--concurrency must be at least 1")
	case f.interval < 0:
		return fmt.Errorf("--interval must not be negative")
	case f.interval > 0 && (!f.virtual || f.runs < 2):
		return fmt.Errorf("--interval spaces the runs of --runs N on virtual time: add --virtual-time and --runs")
	case f.temporal.addr != "" && (f.virtual || f.runs > 1):
		return fmt.Errorf("--temporal runs one run on the cluster's time: leave out --virtual-time and --runs (start several runs to run many)")
	case f.temporal.addr != "" && f.temporal.sharedState != temporal.SharedCluster && f.temporal.sharedState != temporal.SharedRun:
		return fmt.Errorf("--shared-state takes %s or %s, not %q", temporal.SharedCluster, temporal.SharedRun, f.temporal.sharedState)
	case f.temporal.order != temporal.OrderParallel && f.temporal.order != temporal.OrderExact:
		return fmt.Errorf("--order takes %s or %s, not %q", temporal.OrderParallel, temporal.OrderExact, f.temporal.order)
	case f.temporal.order != temporal.OrderParallel && f.temporal.addr == "":
		return fmt.Errorf("--order orders a run on Temporal: add --temporal (a local run on virtual time is always in that order)")
	}
	return nil
}

// scenarioName resolves --scenario and the example's --simulate-failures --failure-type.
func (f *runFlags) scenarioName(g *engine.Graph) (string, error) {
	name := f.scenario
	if f.simulate || f.failureType != "" {
		alias := f.failureType
		if alias == "" {
			alias = "random"
		}
		if name != "" && name != alias {
			return "", fmt.Errorf("--scenario %s and --failure-type %s name different scenarios", name, alias)
		}
		name = alias
	}
	return checkScenario(g, name)
}

// checkScenario returns name when the workflow declares it (or name is ""), else an
// error with a "did you mean" or the scenarios it declares.
func checkScenario(g *engine.Graph, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	known := g.Scenarios()
	for _, s := range known {
		if s == name {
			return name, nil
		}
	}
	msg := fmt.Sprintf("unknown scenario %q", name)
	if s := schema.Suggest(name, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if len(known) > 0 {
		msg += "; the workflow declares: " + strings.Join(known, ", ")
	} else {
		msg += "; the workflow declares none"
	}
	return "", errors.New(msg)
}

func (f *runFlags) logger(stderr io.Writer) (hclog.Logger, error) {
	level := f.logLevel
	if f.verbose {
		level = "debug"
	}
	l := hclog.LevelFromString(level)
	if l == hclog.NoLevel {
		return nil, fmt.Errorf("--log-level takes trace, debug, info, warn, error or off, not %q", level)
	}
	out := stderr
	if f.logFormat != "json" { // JSON escapes by itself; the text format writes messages as they are
		out = termWriter{stderr}
	}
	return hclog.New(&hclog.LoggerOptions{Name: "kgrun", Level: l, Output: out, JSONFormat: f.logFormat == "json"}), nil
}

// typedSets reads --set KEY=VALUE pairs for a workflow, before it runs: a param the
// workflow declares is read as its type (Param.Parse; batch_size=[1,2] is refused, naming
// the param, its type and the value), any other key as YAML, so numbers stay numbers.
func typedSets(w *schema.Workflow, sets []string) (map[string]any, error) {
	out := map[string]any{}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--set %q: write KEY=VALUE", s)
		}
		p := w.Param(k)
		if p == nil {
			out[k] = schema.ParseValue(v)
			continue
		}
		val, err := p.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("--set %s: %w (declared at %s as %s)", s, err, p.Pos, p.Describe())
		}
		out[k] = val
	}
	return out, nil
}

// load reads and compiles a workflow with the built-in types, printing diagnostics to
// stderr. It returns nil and the exit code when the file has errors.
func load(file string, stderr io.Writer, cache *builtin.Cache) (*engine.Graph, int) {
	g, ds := engine.LoadFile(file, newRegistry(cache))
	writeDiagnostics(stderr, ds)
	if g == nil {
		return nil, exitUsage
	}
	return g, exitOK
}

func exitCode(s engine.Status) int {
	switch s {
	case engine.StatusFailed:
		return exitFailed
	case engine.StatusCanceled:
		return exitInterrupted
	}
	return exitOK
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// jsonResult is the JSON form of a run: the Result plus what the report adds.
type jsonResult struct {
	*engine.Result
	RunID       string            `json:"run_id,omitempty"`
	Error       string            `json:"error,omitempty"`
	Failures    []jsonFailure     `json:"failures"`
	Retries     map[string]int    `json:"retries"`
	Waits       map[string]string `json:"waits"`
	Transitions []transition      `json:"breaker_transitions"`
}

type jsonFailure struct {
	Node     string      `json:"node"`
	Kind     engine.Kind `json:"kind"`
	Phase    string      `json:"phase"`
	Attempts int         `json:"attempts"`
	Message  string      `json:"message"`
}

func writeJSONResult(w io.Writer, res *engine.Result, st *stats, runID string) {
	out := jsonResult{Result: res, RunID: runID, Failures: []jsonFailure{}, Retries: st.retries, Waits: map[string]string{}, Transitions: st.transitions}
	if res.Err != nil {
		out.Error = res.Err.Error()
	}
	for _, f := range res.Failures {
		out.Failures = append(out.Failures, jsonFailure{Node: f.Node, Kind: f.Kind, Phase: f.Phase, Attempts: f.Attempts, Message: f.Err.Error()})
	}
	for n, d := range st.waits {
		out.Waits[n] = d.String()
	}
	if out.Transitions == nil {
		out.Transitions = []transition{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}
