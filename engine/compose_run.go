package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/kgrun/kgrun/schema"
)

// Composition, run. A composite node's exec runs each item, branch or called workflow as
// a run of its own (a child run) of the body's Graph: its own visits, policies, random
// streams and trace, on the parent's clock, with the parent's params, scenario and input.
// On a virtual clock children are tasks of one discrete-event scheduler (sim.go), so
// their interleaving is fixed by virtual time alone; on the real clock they are
// goroutines. Children report their events into the parent's trace with a scope ("fan[3]",
// "both/left", "sub"), so one trace tells the whole story.
//
// A child's random streams derive from (seed, node, visit, item or branch), and within
// the child from (node, visit, attempt) as in any run: an item draws the same numbers
// whatever the concurrency and whichever items ran before it.

// childRun is what a run started by a composite node takes from its parent.
type childRun struct {
	input  map[string]any
	env    map[string]any
	logger hclog.Logger
	// ownInput: input is the child's own (a called workflow's), and so is its env.
	ownInput bool
	// item, itemVal and index are set for a map's items.
	item    bool
	itemVal any
	index   int
	// prefix is the path of the workflow node whose call this is, for a called
	// workflow's run; the parent's prefix otherwise.
	prefix string
	// written collects the shared keys the child's visits wrote, for a body that
	// declares no output; all is set when a visit took the whole store.
	written map[string]struct{}
	all     bool
}

// compositeNode is the Node of a composite: Prep takes what the children need from the
// run, Exec runs them, Post stores the result.
type compositeNode struct{ n *node }

// composeInput is what Prep hands Exec.
type composeInput struct {
	items  []any
	shared map[string]any
	input  map[string]any
}

// compositeError is a composite node's own failure: too many items failed, or the
// branches did not join. Its action routes it.
type compositeError struct {
	action string
	msg    string
	first  error
}

func (e *compositeError) Error() string {
	if e.first != nil {
		return e.msg + ": " + ShortMessage(e.first)
	}
	return e.msg
}
func (e *compositeError) Unwrap() error { return e.first }

func (c compositeNode) Prep(v *Visit) (any, error) {
	r, comp := v.r, c.n.compose
	in := &composeInput{shared: maps.Clone(r.shared)}
	r.setEnv(c.n, nil, nil, 0)
	switch comp.kind {
	case schema.TypeMap:
		items := comp.literal
		if comp.items != nil {
			val, err := comp.items.eval(&r.vm, r.exprEnv())
			if err != nil {
				return nil, err
			}
			list, ok := asList(val)
			if !ok {
				return nil, Errorf(Data, "items computed %s, not a list (%s)", describe(val), c.n.spec.Map.ItemsPos)
			}
			items = list
		}
		in.items = items
	case schema.TypeWorkflow:
		input := clone(comp.input).(map[string]any)
		if input == nil && len(comp.inputT) > 0 {
			input = map[string]any{}
		}
		for _, t := range comp.inputT {
			val, err := t.eval(&r.vm, r.exprEnv())
			if err != nil {
				return nil, err
			}
			input = setPath(input, t.path, val)
		}
		in.input = input
	}
	return in, nil
}

// asList accepts any slice or array a map's items expression computes.
func asList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

func (c compositeNode) Exec(ctx context.Context, a *Attempt, input any) (any, error) {
	in := input.(*composeInput)
	switch comp := c.n.compose; comp.kind {
	case schema.TypeMap:
		return comp.runMap(ctx, a, in)
	case schema.TypeParallel:
		return comp.runParallel(ctx, a, in)
	default:
		return comp.runCall(ctx, a, in)
	}
}

// composeOutput is what Exec hands Post.
type composeOutput struct {
	result   any
	store    map[string]any // shared keys to set
	degraded []string
}

func (c compositeNode) Post(v *Visit, input, output any) (string, error) {
	out := output.(*composeOutput)
	for _, k := range sortedKeys(out.store) {
		v.Set(k, out.store[k])
	}
	for _, d := range out.degraded {
		v.Degrade(d)
	}
	return "success", nil
}

// fanGroup is a composite visit's workers: stop cancels them all.
type fanGroup struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	s      *sim
	tasks  []*simTask
}

func newFanGroup(ctx context.Context) *fanGroup {
	g := &fanGroup{}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	return g
}

// stop cancels every worker's work and, on a virtual clock, wakes the workers that
// sleep so that they see it. On a virtual clock only a worker (which holds the
// scheduler's token) may call it.
func (g *fanGroup) stop(cause error) {
	g.cancel(cause)
	if g.s != nil {
		for _, t := range g.tasks {
			if t != nil {
				g.s.kick(t)
			}
		}
	}
}

// run runs k workers at once and returns when all have: on a virtual clock as tasks of
// the parent's scheduler (made for the occasion at the top of a run), on the real clock
// as goroutines, on a backend through its Group unless its host carries the run's tasks.
func (g *fanGroup) run(pr *run, k int, worker func(ctx context.Context, w int, clock Clock)) {
	if k == 0 {
		return
	}
	if b := pr.backend; b != nil && pr.task == nil {
		if b.Group != nil {
			b.Group(g.ctx, k, func(ctx context.Context, w int) { worker(ctx, w, pr.clock) })
			return
		}
		for w := range k {
			worker(g.ctx, w, pr.clock)
		}
		return
	}
	parent := pr.task
	if parent != nil {
		g.s = parent.s
	} else if vc, ok := pr.clock.(*VirtualClock); ok {
		g.s = newSim(vc)
		parent = g.s.adopt()
	}
	if g.s == nil {
		var wg sync.WaitGroup
		wg.Add(k)
		for w := range k {
			goDriven(func() { defer wg.Done(); worker(g.ctx, w, pr.clock) })
		}
		wg.Wait()
		return
	}
	g.tasks = make([]*simTask, k)
	active := k
	for w := range k {
		g.s.spawn(parent, g.ctx, func(t *simTask, ctx context.Context) {
			g.tasks[w] = t
			worker(ctx, w, t.clock)
			g.tasks[w] = nil
			active--
			if active == 0 {
				g.s.ready(parent)
			}
		})
	}
	_ = parent.block()
}

// runMap runs the body once per item, at most maxConc at a time.
func (c *composite) runMap(ctx context.Context, a *Attempt, in *composeInput) (any, error) {
	pr := a.r
	f := &fanout{parent: pr, a: a, node: a.n, visit: a.visit}
	n := len(in.items)
	res := MapResult{Items: make([]any, n), Status: make([]string, n), Errors: make([]string, n)}
	allowed := c.tolerated.Allowed(n)
	gr := newFanGroup(ctx)
	defer gr.cancel(nil)
	var (
		mu       sync.Mutex
		next     int
		failed   int
		firstErr error
		firstAt  = -1
		degraded []string
		stop     bool
		// journalErr is a failure to journal an item, which stops the map.
		journalErr error
	)
	worker := func(ctx context.Context, _ int, clock Clock) {
		cr := new(childRun) // one item at a time on this worker
		for {
			mu.Lock()
			i := next
			next++
			halted := stop
			mu.Unlock()
			if i >= n {
				return
			}
			if halted || ctx.Err() != nil {
				res.Status[i] = string(StatusCanceled)
				continue
			}
			scope := scopeName{a.n.name, i}
			o, done := f.resumedItem(i)
			if !done {
				written := cr.written // the worker's, emptied for this item
				clear(written)
				*cr = childRun{item: true, itemVal: in.items[i], index: i, written: written}
				o = f.runChild(ctx, c.body, clock, scope, i, cr, in.shared)
				if o.status != StatusCanceled {
					if err := f.commitItem(i, o); err != nil {
						mu.Lock()
						journalErr, stop = err, true
						mu.Unlock()
						gr.stop(err)
						continue
					}
				}
			}
			mu.Lock()
			res.Status[i] = string(o.status)
			switch o.status {
			case StatusSuccess, StatusDegraded:
				res.Items[i] = o.output
				res.Succeeded++
				for _, d := range o.degradations {
					degraded = append(degraded, fmt.Sprintf("%s: %s", scope, d))
				}
			default:
				if o.status == StatusCanceled && stop {
					break // canceled because the map already failed
				}
				failed++
				res.Failed++
				if o.err != nil {
					res.Errors[i] = ShortMessage(o.err)
				}
				if firstAt < 0 || i < firstAt {
					firstAt, firstErr = i, o.err
				}
				if failed > allowed && !stop {
					stop = true
					gr.stop(errMapStopped)
				}
			}
			mu.Unlock()
		}
	}
	gr.run(pr, min(max(c.maxConc, 1), n), worker)
	if ctx.Err() != nil {
		return nil, WithKind(Canceled, context.Cause(ctx))
	}
	if journalErr != nil {
		return nil, WithKind(Internal, journalErr)
	}
	out := &composeOutput{result: res, store: map[string]any{a.n.name: res.plain()}}
	if failed > allowed {
		return nil, WithKind(Failed, &compositeError{action: ActionMapFailed, first: firstErr,
			msg: fmt.Sprintf("%d of %d items failed, more than the %s tolerated (first: item %d)", failed, n, toleranceText(c.tolerated), firstAt)})
	}
	if failed > 0 {
		degraded = append(degraded, fmt.Sprintf("%d of %d items failed (tolerated: %s)", failed, n, toleranceText(c.tolerated)))
	}
	sort.Strings(degraded)
	out.degraded = degraded
	return out, nil
}

var errMapStopped = errors.New("the map failed: more items failed than it tolerates")

func toleranceText(t schema.Tolerance) string {
	if t.Percent {
		return strconv.FormatFloat(t.Value, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(int(t.Value))
}

// plain is the result as the shared store keeps it: plain data, so it journals.
func (m MapResult) plain() map[string]any {
	status := make([]any, len(m.Status))
	errs := make([]any, len(m.Errors))
	for i := range m.Status {
		status[i], errs[i] = statusValue(m.Status[i]), m.Errors[i]
	}
	return map[string]any{"items": slices.Clone(m.Items), "status": status, "errors": errs, "succeeded": m.Succeeded, "failed": m.Failed}
}

// The statuses as interface values, boxed once: boxing a string allocates, and a map's
// result keeps one status per item.
var (
	anySuccess  any = string(StatusSuccess)
	anyDegraded any = string(StatusDegraded)
	anyFailed   any = string(StatusFailed)
	anyCanceled any = string(StatusCanceled)
)

func statusValue(s string) any {
	switch Status(s) {
	case StatusSuccess:
		return anySuccess
	case StatusDegraded:
		return anyDegraded
	case StatusFailed:
		return anyFailed
	case StatusCanceled:
		return anyCanceled
	}
	return s
}
