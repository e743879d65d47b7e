package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	rngReady bool
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
	phase string
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
	if !r.rngReady {
		r.execRNG.init()
		r.visitRNG.init()
		r.jitter.init()
		r.rngReady = true
	}
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
	var envVals map[string]any
	if opts.child != nil {
		envVals = opts.child.env
	} else if envVals, err = envValues(g.spec, opts.Env); err != nil {
		return nil, err
	}
	r.envVals = envVals
	if opts.child != nil {
		// A child's result never leaves its parent's runChild, which copies what it
		// needs: it lives in the run struct, its path in the struct's own buffer.
		r.childRes = Result{Workflow: g.spec.Name, Scenario: opts.Scenario, Seed: opts.Seed, Shared: r.shared, Path: r.pathBuf[:0]}
		r.res = &r.childRes
	} else {
		r.res = &Result{Workflow: g.spec.Name, Scenario: opts.Scenario, Seed: opts.Seed, Shared: r.shared}
	}
	r.visit.r = r
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

// loop visits nodes until one ends the run.
func (r *run) loop(ctx context.Context) {
	r.setStart(r.clock.Now())
	cur := r.g.start
	var failure *NodeError
	if r.resume != nil {
		var err error
		if cur, failure, err = r.resumeFrom(r.resume); err != nil {
			r.finish(StatusFailed, &NodeError{Node: r.resume.Next, Kind: Internal, Phase: "resume", Err: err})
			return
		}
		// Time never goes back on resume: a virtual clock behind the last committed
		// reading moves up to it.
		if vc, ok := r.clock.(advancer); ok && !r.resume.Clock.IsZero() {
			vc.Advance(r.resume.Clock.Sub(vc.Now()))
		}
		r.setStart(r.clock.Now().Add(-time.Duration(r.resume.Elapsed)))
		r.emit(Event{Kind: EventRunResumed, Node: cur.name, Visit: r.res.steps, Message: r.scenarioName})
	} else {
		r.emit(Event{Kind: EventRunStart, Node: cur.name, Message: r.scenarioName})
	}
	r.walk(ctx, cur, failure)
}

// walk visits nodes from cur until one ends the run.
func (r *run) walk(ctx context.Context, cur *node, failure *NodeError) {
	if cur != nil && ctx.Err() != nil {
		r.interrupted(ctx, cur)
		return
	}
	// Between visits cancellation is checked by afterStep, right after each visit.
	for steps := r.res.steps; cur != nil; steps++ {
		if steps >= r.maxSteps {
			err := &NodeError{Node: cur.name, Kind: Internal, Phase: "route",
				Err: fmt.Errorf("%w: %d visits without reaching an end; raise max_steps or check the cycle through %q", ErrMaxSteps, r.maxSteps, cur.name)}
			r.addFailure(err)
			r.finish(StatusFailed, err)
			return
		}
		at := cur
		cur, failure = r.step(ctx, cur, failure)
		r.phase = ""
		if r.debug {
			r.logVisit()
		}
		if r.afterStep(ctx, at, cur, failure) {
			return
		}
	}
	switch {
	case r.res.Err != nil || r.failed:
		r.finish(StatusFailed, r.res.Err)
	case r.degraded || r.handled:
		r.finish(StatusDegraded, nil)
	default:
		r.finish(StatusSuccess, nil)
	}
}

// logVisit writes the debug line of the visit just completed.
func (r *run) logVisit() {
	st := &r.st
	args := []any{"node", st.Node, "visit", st.Visit, "action", st.Action, "route", st.Route, "attempts", st.Attempts}
	if st.To != "" {
		args = append(args, "to", st.To)
	}
	if st.Failure != nil {
		args = append(args, "kind", st.Failure.Kind, "phase", st.Failure.Phase, "error", st.Failure.Message)
	}
	r.logger.Debug("visit", args...)
}

// afterStep counts the visit to at just completed and commits it; it reports true when
// the run ended there (a failed commit, a cancellation).
func (r *run) afterStep(ctx context.Context, at, next *node, failure *NodeError) bool {
	r.res.steps++
	if r.journal != nil && r.last.Route != "canceled" {
		if err := r.commit(at, next, failure); err != nil {
			nerr := &NodeError{Node: at.name, Kind: Internal, Phase: "journal", Err: err}
			r.addFailure(nerr)
			r.finish(StatusFailed, nerr)
			return true
		}
	}
	if ctx.Err() != nil {
		r.interrupted(ctx, at)
		return true
	}
	return false
}

// interrupted ends a canceled run at a safe point (between visits, or after the visit
// that saw the cancellation): the workflow's error handler runs once, on a context that
// is no longer canceled, so it can classify and clean up; then the run ends canceled.
func (r *run) interrupted(ctx context.Context, at *node) {
	nerr := &NodeError{Node: at.name, Kind: Canceled, Phase: "route",
		Err: WithKind(Canceled, fmt.Errorf("run interrupted at node %q: %w", at.name, context.Cause(ctx)))}
	r.addFailure(nerr)
	if h := r.g.errorHandler; h != nil && at != h {
		r.emit(Event{Kind: EventFallback, Node: at.name, To: h.name, ErrKind: Canceled, Message: "error_handler"})
		r.interrupting = true
		r.step(context.WithoutCancel(ctx), h, nerr)
		r.res.steps++
	}
	r.finish(StatusCanceled, nerr)
}

func (r *run) finish(s Status, err error) {
	s, err = r.computeOutput(s, err)
	r.res.Status = s
	if err != nil {
		r.res.Err = err
	}
	if r.compose == nil {
		// A child's counts are its parent's business only through its outcome; its
		// breakers are the workflow's, reported by the top-level run.
		r.res.Calls = make(map[string]int, len(r.g.nodes))
		for i, n := range r.g.nodes {
			if r.calls[i] > 0 {
				r.res.Calls[n.name] = r.calls[i]
			}
		}
		r.res.Breakers = r.breakerSnapshots()
	}
	r.res.Elapsed = Duration(r.clock.Now().Sub(r.start))
	msg := ""
	if err != nil {
		msg = ShortMessage(err)
	}
	r.emit(Event{Kind: EventRunEnd, Status: s, Message: msg})
}

// step visits n and returns the next node (nil to end) and the failure that leads there.
func (r *run) step(ctx context.Context, n *node, arrivedBy *NodeError) (*node, *NodeError) {
	r.visits[n.index]++
	v := &r.visit
	v.n, v.number, v.failure = n, r.visits[n.index], arrivedBy
	r.st = Step{Node: n.name, Visit: v.number, At: r.since()}
	st := &r.st
	if r.tracer != nil {
		r.emit(Event{Kind: EventNodeStart, Node: n.name, Visit: v.number})
	}

	act, out, attempts, nerr := r.visitNode(ctx, n, v)
	r.phase = "route"
	st.Attempts = attempts
	if nerr != nil {
		return r.failVisit(ctx, n, out, nerr)
	}
	action := act.name
	if r.tracer != nil {
		r.emit(Event{Kind: EventNodeEnd, Node: n.name, Visit: v.number, Action: action})
	}
	var e *edge
	var rerr error
	if len(act.edges) > 0 && act.edges[0].guard == nil {
		e = act.edges[0] // the common case, without a call
	} else {
		e, rerr = r.chooseOf(n, act, action, out, nil, attempts)
	}
	switch {
	case rerr != nil:
		return r.failVisit(ctx, n, out, &NodeError{Node: n.name, Kind: KindOf(rerr), Phase: "route", Attempts: attempts, Err: rerr})
	case e == nil:
		st.Action, st.Route = action, "end"
		r.record(st)
		if slices.Contains(n.typ.Failures, action) {
			// Validation refuses an unrouted failure action; a run ending on one anyway
			// (every guard of a routed one false is a route failure, not this) is failed.
			r.fail(n.name, fmt.Sprintf("the run ended on failure action %q", action))
		}
		return nil, nil
	}
	st.Action, st.To, st.Route = action, e.to.name, "edge"
	if e.guard != nil {
		st.Guard = e.guard.src
	}
	r.record(st)
	if r.tracer != nil {
		r.emit(Event{Kind: EventTransition, Node: n.name, Visit: v.number, Action: st.Action, To: e.to.name, Guard: st.Guard})
	}
	return e.to, nil
}

// failVisit ends the current visit to n with nerr: it routes the failure and returns
// where it leads (nil when it ends the run).
func (r *run) failVisit(ctx context.Context, n *node, out any, nerr *NodeError) (*node, *NodeError) {
	v, st := &r.visit, &r.st
	r.phase = "route"
	if nerr == n.rejection {
		st.Failure = n.rejectionStep
	} else {
		st.Failure = &StepFail{Kind: nerr.Kind, Phase: nerr.Phase, Message: ShortMessage(nerr.Err)}
	}
	if ctx.Err() != nil {
		// The cancellation caused this failure: loop's interruption handles it.
		st.Route = "canceled"
		r.record(st)
		return nil, nil
	}
	r.addFailure(nerr)
	fa := failureAction(nerr)
	if r.tracer != nil {
		r.emit(Event{Kind: EventNodeEnd, Node: n.name, Visit: v.number, Action: fa, ErrKind: nerr.Kind, Message: ShortMessage(nerr.Err)})
	}
	next, fa, route, guard := r.routeFailure(n, v, out, nerr, fa)
	st.Action, st.Route, st.Guard = fa, route, guard
	if next == nil {
		r.record(st)
		if nerr == n.rejection {
			// The node's rejection is shared by its visits: this one gets its own.
			own := *nerr
			r.replaceFailure(nerr, &own)
			nerr = &own
		}
		nerr.Err = fmt.Errorf("%w: %w", ErrUnrouted, nerr.Err)
		r.res.Err = nerr
		return nil, nil
	}
	st.To = next.name
	r.handled = true
	r.record(st)
	if r.tracer != nil {
		r.emit(Event{Kind: EventTransition, Node: n.name, Visit: v.number, Action: st.Action, To: next.name, Guard: st.Guard})
	}
	return next, nerr
}

// failureAction names a failed visit's action: circuit_open when a breaker refused,
// retry_exhausted when every allowed attempt failed with a retryable error, timeout for a
// timed-out attempt, error otherwise.
func failureAction(e *NodeError) string {
	switch {
	case e.action != "":
		return e.action
	case e.Kind == CircuitOpen:
		return "circuit_open"
	case e.Phase == "exec" && e.exhausted:
		return "retry_exhausted"
	case e.Kind == Timeout:
		return "timeout"
	}
	return "error"
}
