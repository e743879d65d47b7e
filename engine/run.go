package engine

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/kgrun/kgrun/engine/policy"
)

// RunOptions configure one run. The zero value runs on the real clock with seed 0, the
// workflow's own params, no scenario, no trace and no logging.
type RunOptions struct {
	// Scenario names one of the workflow's scenarios ("" for none).
	Scenario string
	// Seed fixes every random draw of the run.
	Seed int64
	// Params override the workflow's and the scenario's params.
	Params map[string]any
	// Input is the run's input, checked against the workflow's input declaration (a
	// workflow without one takes none). A resumed run given none reads the journaled one.
	Input map[string]any
	// Shared is the initial shared store; it is copied, not modified.
	Shared map[string]any
	// Clock is the run's clock; nil means the real clock.
	Clock Clock
	// Tracer receives the run's events; nil turns tracing off at no cost.
	Tracer Tracer
	// Logger receives log lines; nil discards them.
	Logger hclog.Logger
	// DisableBreakers runs as if no node had a breaker.
	DisableBreakers bool
	// MaxSteps overrides the workflow's max_steps when positive.
	MaxSteps int
	// PathLimit is how many steps Result.Path keeps (the first ones), so a long looping
	// run keeps bounded memory; 0 means DefaultPathLimit, a negative value no limit.
	PathLimit int
	// Journal, when set, receives a Checkpoint after every completed visit. Every shared
	// value must then be JSON-serialisable.
	Journal Journal
	// Resume continues a run rebuilt from its checkpoints instead of starting afresh.
	// The run's other options (scenario, seed, params) should be the original run's for
	// its remaining random draws to be the ones it would have made.
	Resume *RunState
	// Env looks up the environment variables the workflow lists under env (kgrun passes
	// os.LookupEnv); nil reads none, so only defaults apply. Nothing else is read.
	Env func(name string) (string, bool)

	// Backend moves the run's seams (exec, breakers, bulkheads, fan-out) to another
	// execution engine and runs the loop on the caller's goroutine; nil runs everything
	// in this process (see Backend).
	Backend *Backend

	// child is set for the runs a composite node starts (compose_run.go).
	child *childRun
}

// DefaultPathLimit is how many steps a Result keeps when RunOptions.PathLimit is 0.
const DefaultPathLimit = 10_000

// run is the per-run state: everything that changes while a graph runs. A finished
// run's struct is handed to the next run (reuse.go): runState is emptied for every run,
// runKeep holds what the next run refills rather than rebuilds.
type run struct {
	runState
	runKeep
}

// runKeep is the part of a run struct that outlives one run.
type runKeep struct {
	visits []int
	calls  []int
	faults []*activeFault
	params map[string]any
	// env is the expression environment, filled on first use (exprEnv).
	env      map[string]any
	vm       exprVM
	execRNG  stream
	visitRNG stream
	jitter   stream
	// pathBuf is the array a child run's path reuses from run to run.
	pathBuf []Step
	// spareWorker is a worker that stopped cleanly, for the next timed attempt; hang
	// guards the running timed attempt on a virtual clock and watchdog fires when it
	// hangs.
	spareWorker *execWorker
	hang        atomic.Pointer[hangGuard]
	watchdog    *time.Timer
	// done receives the end of the loop's goroutine; owner counts the goroutines that
	// have owned the run (the current one's number); driveLoop starts the loop on a
	// driver.
	done      chan any
	owner     atomic.Uint64
	driveLoop func()
}

// runState is the part of a run struct that belongs to one run.
type runState struct {
	g       *Graph
	clock   Clock
	virtual bool
	tracer  Tracer
	// ctxTracer is tracer when it carries trace context into attempts, else nil.
	ctxTracer ContextTracer
	logger    hclog.Logger
	// debug caches logger.IsDebug(), so that with debug off the per-visit and
	// per-attempt lines cost one test of a bool.
	debug bool
	// plain says the run has no tracer, backend or debug log, so plain nodes may take
	// visitPlain.
	plain        bool
	seed         int64
	scenarioName string
	noBreakers   bool
	maxSteps     int
	pathLimit    int

	shared map[string]any
	input  map[string]any

	// envFilled says env holds this run's values; envVals are the values of the
	// workflow's env: variables.
	envFilled bool
	envVals   map[string]any
	visit     Visit
	att       Attempt
	// st is the current visit's step; phase the phase it is in ("" between visits).
	st    Step
	phase visitPhase
	// interrupting is set while the error handler of a canceled run runs.
	interrupting bool

	// task is the run's task when it runs on a virtual-time scheduler (sim.go).
	task *simTask
	// compose is set for a run started by a composite node (compose_run.go);
	// envLookup is RunOptions.Env, for the workflows it calls.
	compose   *childRun
	envLookup func(string) (string, bool)
	// backend is RunOptions.Backend; prefix is the path of the node whose call of
	// another workflow this run is ("" for a top-level run or a body's).
	backend *Backend
	prefix  string

	// worker runs timed attempts' execs on the real clock.
	worker *execWorker
	// childRes is the result of a child run (a map item's, a branch's).
	childRes Result
	ticket   policy.Ticket
	// ctx is the run's, for a goroutine that takes the run over.
	ctx context.Context
	// leaked says a goroutine other than the caller's may still reach the run once
	// Run returns (see reuse.go).
	leaked bool

	journal *journalState
	resume  *RunState
	last    Step

	start time.Time
	// vclock is the virtual clock under clock, if any, and startOff the offset of
	// start on it: since then subtracts two numbers, building no time.Time.
	vclock   *VirtualClock
	startOff time.Duration
	// wall says clock is the RealClock, whose time since start needs no wall reading.
	wall     bool
	seq      int
	handled  bool
	failed   bool
	degraded bool
	res      *Result
}

// Run executes the graph once. The returned error reports bad options (an unknown
// scenario); everything that happens during the run is in the Result, whose Status says
// how it ended.
func (g *Graph) Run(ctx context.Context, opts RunOptions) (*Result, error) {
	r, err := g.newRun(opts)
	if err != nil {
		return nil, err
	}
	r.drive(ctx)
	r.stopWorker()
	res := r.res
	r.release()
	return res, nil
}

func (g *Graph) newRun(opts RunOptions) (*run, error) {
	r := takeRun(g)
	r.g, r.clock, r.tracer, r.ctxTracer, r.logger, r.seed = g, opts.Clock, opts.Tracer, contextTracerOf(opts.Tracer), opts.Logger, opts.Seed
	r.scenarioName, r.noBreakers, r.maxSteps = opts.Scenario, opts.DisableBreakers, g.maxSteps
	if r.clock == nil {
		r.clock = RealClock{}
	}
	_, r.virtual = r.clock.(advancer)
	if tc, ok := r.clock.(*taskClock); ok {
		r.task = tc.t
	}
	switch {
	case opts.child != nil:
		r.logger = opts.child.logger
	case r.logger == nil:
		r.logger = hclog.NewNullLogger()
	default:
		// Every line names the workflow; the caller adds what it knows (a run id) with
		// its own With.
		r.logger = r.logger.With("workflow", g.spec.Name)
	}
	r.debug = r.logger.IsDebug()
	r.plain = r.tracer == nil && opts.Backend == nil && !r.debug
	if opts.MaxSteps > 0 {
		r.maxSteps = opts.MaxSteps
	}
	switch r.pathLimit = opts.PathLimit; {
	case r.pathLimit == 0:
		r.pathLimit = DefaultPathLimit
	case r.pathLimit < 0:
		r.pathLimit = int(^uint(0) >> 1)
	}
	// A map item's or branch's params are its parent run's, which merged the same
	// workflow's params and scenario with the caller's already: copied once, below.
	body := opts.child != nil && !opts.child.ownInput
	if !body {
		maps.Copy(r.params, g.params)
	}
	if opts.Scenario != "" {
		sc, ok := g.scenarios[opts.Scenario]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q; the workflow declares: %s", opts.Scenario, strings.Join(g.Scenarios(), ", "))
		}
		if !body {
			maps.Copy(r.params, sc.params)
		}
		for idx, f := range sc.faults {
			rate := f.rate
			if f.rateMax > f.rate {
				u := r.jitter.at(r.seed, g.nodes[idx].hash, 0, 0, streamRunFault).Float64()
				rate = f.rate + u*(f.rateMax-f.rate)
			}
			r.faults[idx] = &activeFault{fault: f, rate: rate}
		}
	}
	maps.Copy(r.params, opts.Params)
	var err error
	if opts.child != nil {
		r.input, r.compose = opts.child.input, opts.child
	} else if r.input, err = g.inputOf(opts); err != nil {
		return nil, err
	}
	r.shared = maps.Clone(opts.Shared)
	if r.shared == nil {
		r.shared = map[string]any{}
	}
	if opts.Journal != nil {
		// The first commit encodes every key: opts.Shared's are not committed yet.
		r.journal = &journalState{journal: opts.Journal, encoded: map[string][]byte{}, touched: map[string]struct{}{}, allTouched: true}
	}
	r.resume = opts.Resume
	r.envLookup = opts.Env
	r.backend = opts.Backend
	if r.backend != nil && r.backend.Tasks != nil && opts.child == nil && r.task == nil {
		if err := r.hostRoot(); err != nil {
			return nil, err
		}
	}
	if opts.child != nil {
		r.prefix = opts.child.prefix
	}
	if opts.child != nil {
		r.envVals = opts.child.env
	} else if r.envVals, err = envValues(g.spec, opts.Env); err != nil {
		return nil, err
	}
	if opts.child != nil {
		// A child's result never leaves its parent's runChild, which copies what it
		// needs: it lives in the run struct, its path in the struct's own buffer.
		r.childRes = Result{Workflow: g.spec.Name, Scenario: opts.Scenario, Seed: opts.Seed, Shared: r.shared, Path: r.pathBuf[:0]}
		r.res = &r.childRes
	} else {
		r.res = &Result{Workflow: g.spec.Name, Scenario: opts.Scenario, Seed: opts.Seed, Shared: r.shared}
	}
	r.att = Attempt{r: r, rng: &r.execRNG, clock: r.clock}
	return r, nil
}

func (r *run) emit(e Event) {
	if r.tracer == nil {
		return
	}
	r.seq++
	e.Seq = r.seq
	e.At = r.since()
	r.tracer.Event(e)
}

// exprEnv returns the run's expression environment, filling it on first use, so that a
// run which evaluates no expression never builds it.
func (r *run) exprEnv() map[string]any {
	if r.envFilled {
		return r.env
	}
	if r.env == nil {
		// Sized for these nine (eleven in a map's body), so it never grows.
		r.env = make(map[string]any, 11)
	}
	env := r.env
	env["input"], env["shared"], env["params"], env["result"] = r.input, r.shared, r.params, nil
	env["error"], env["node"], env["attempt"], env["env"] = &ErrorInfo{}, "", 0, r.envVals
	env[budgetName] = &r.vm.budget
	if c := r.compose; c != nil && r.g.names.item {
		env["item"], env["index"] = c.itemVal, c.index
	}
	r.envFilled = true
	return env
}

// setStart sets the moment the run's times count from.
func (r *run) setStart(t time.Time) {
	r.start = t
	if vc, ok := r.clock.(virtualReader); ok {
		r.vclock = vc.virtual()
		r.startOff = t.Sub(r.vclock.base)
	}
	_, r.wall = r.clock.(RealClock)
}

// since returns the time since the run started, on its clock.
func (r *run) since() Duration {
	if r.vclock != nil {
		return Duration(time.Duration(r.vclock.elapsed.Load()) - r.startOff)
	}
	if r.wall {
		return Duration(time.Since(r.start)) // the monotonic clock alone
	}
	return Duration(r.clock.Now().Sub(r.start))
}

// addFailure keeps a failure in the result while under the path limit, counting the
// rest; a journal commits every one.
func (r *run) addFailure(e *NodeError) {
	if r.journal != nil {
		r.journal.pending = append(r.journal.pending, e)
	}
	if len(r.res.Failures) < r.pathLimit {
		r.res.Failures = append(r.res.Failures, e)
		return
	}
	r.res.FailuresDropped++
}

// replaceFailure puts e in old's place, old being the failure added last.
func (r *run) replaceFailure(old, e *NodeError) {
	if j := r.journal; j != nil && len(j.pending) > 0 && j.pending[len(j.pending)-1] == old {
		j.pending[len(j.pending)-1] = e
	}
	if n := len(r.res.Failures); n > 0 && r.res.Failures[n-1] == old {
		r.res.Failures[n-1] = e
	}
}

// record keeps a step in the result's path while under the path limit, counting the rest.
func (r *run) record(st *Step) {
	if r.journal != nil {
		r.last = *st
	}
	if len(r.res.Path) < r.pathLimit {
		r.res.Path = append(r.res.Path, *st)
		return
	}
	r.res.PathDropped++
}

func (r *run) degrade(node, reason string) {
	r.degraded = true
	r.res.Degradations = append(r.res.Degradations, node+": "+reason)
}

func (r *run) fail(node, reason string) {
	r.failed = true
	r.res.Degradations = append(r.res.Degradations, node+": "+reason)
}

// visitPhase is the phase a visit is in, kept as a number so that the loop's many
// changes of phase cost a byte each.
type visitPhase uint8

const (
	phaseNone visitPhase = iota
	phaseBeforePrep
	phasePrep
	phaseExec
	phaseAfterExec
	phasePost
	phaseRoute
)

var phaseNames = [...]string{"", "before_prep", "prep", "exec", "after_exec", "post", "route"}

// String names the phase as NodeError.Phase does ("" between visits).
func (p visitPhase) String() string { return phaseNames[p] }
