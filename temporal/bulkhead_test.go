package temporal

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// bulkheadUpdate collects a bulkhead update's outcome and the workflow time it came at.
type bulkheadUpdate struct {
	env *testsuite.TestWorkflowEnvironment
	rep bulkheadReply
	err error
	at  time.Time
}

func (u *bulkheadUpdate) Accept()          {}
func (u *bulkheadUpdate) Reject(err error) { u.err = err }
func (u *bulkheadUpdate) Complete(v any, err error) {
	u.at = u.env.Now()
	if err != nil {
		u.err = err
		return
	}
	u.rep = v.(bulkheadReply)
}

// bulkheadEnv is a test environment running one bulkhead workflow, asked at given
// offsets from its start.
type bulkheadEnv struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	updates []*bulkheadUpdate
}

func newBulkheadEnv(t *testing.T) *bulkheadEnv {
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(quietLogger())
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(bulkheadWorkflow, workflow.RegisterOptions{Name: BulkheadWorkflow})
	return &bulkheadEnv{t: t, env: env}
}

// ask sends update with req at offset after the start; the update's outcome is the
// returned one's once the workflow has run.
func (b *bulkheadEnv) ask(at time.Duration, update string, req sharedRequest) *bulkheadUpdate {
	u := &bulkheadUpdate{env: b.env}
	b.updates = append(b.updates, u)
	req.UpdateID = update + "/" + req.Holder
	b.env.RegisterDelayedCallback(func() { b.env.UpdateWorkflow(update, "", u, req) }, at)
	return u
}

// run runs the workflow until it continues as new after the updates, and returns what
// it carries.
func (b *bulkheadEnv) run(start bulkheadStart) bulkheadStart {
	t := b.t
	t.Helper()
	old := historyLimit
	historyLimit = len(b.updates)
	t.Cleanup(func() { historyLimit = old })
	b.env.ExecuteWorkflow(BulkheadWorkflow, start)
	for i, u := range b.updates {
		if u.err != nil {
			t.Fatalf("update %d: %v", i+1, u.err)
		}
	}
	var can *workflow.ContinueAsNewError
	if err := b.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("the workflow ended with %v; want a continue-as-new after %d updates", err, historyLimit)
	}
	var next bulkheadStart
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	return next
}

// TestBulkheadWorkflowContinuesAsNew fills a two-slot bulkhead, frees and takes a slot,
// and checks what it carries when it continues as new: its limit and the slots held,
// with their leases, in a fixed order.
func TestBulkheadWorkflowContinuesAsNew(t *testing.T) {
	b := newBulkheadEnv(t)
	epoch := b.env.Now()
	const lease = time.Minute
	a := b.ask(time.Second, "acquire", sharedRequest{Holder: "run-a", Limit: 2, Lease: lease})
	b.ask(2*time.Second, "acquire", sharedRequest{Holder: "run-b", Limit: 2, Lease: lease})
	full := b.ask(3*time.Second, "acquire", sharedRequest{Holder: "run-c", Limit: 2, Lease: lease})
	b.ask(4*time.Second, "release", sharedRequest{Holder: "run-a"})
	c := b.ask(5*time.Second, "acquire", sharedRequest{Holder: "run-c", Limit: 2, Lease: lease})
	again := b.ask(6*time.Second, "acquire", sharedRequest{Holder: "run-b", Limit: 2, Lease: lease})
	next := b.run(bulkheadStart{Limit: 2})
	switch {
	case !a.rep.Acquired || full.rep.Acquired || !c.rep.Acquired:
		t.Errorf("acquired: a %v, c while full %v, c after a's release %v; want true, false, true", a.rep.Acquired, full.rep.Acquired, c.rep.Acquired)
	case !again.rep.Acquired || again.rep.InUse != 2:
		t.Errorf("b asking again: %+v; want its slot, two in use", again.rep)
	}
	want := []bulkheadLease{{"run-b", epoch.Add(6*time.Second + lease)}, {"run-c", epoch.Add(5*time.Second + lease)}}
	if next.Limit != 2 || len(next.Holders) != 0 || len(next.Leases) != 2 ||
		next.Leases[0].Holder != want[0].Holder || !next.Leases[0].Until.Equal(want[0].Until) ||
		next.Leases[1].Holder != want[1].Holder || !next.Leases[1].Until.Equal(want[1].Until) {
		t.Fatalf("carried %+v; want limit 2 and leases %+v", next, want)
	}

	// The next run of the workflow keeps the slots and their leases.
	b = newBulkheadEnv(t)
	refused := b.ask(time.Second, "acquire", sharedRequest{Holder: "run-d", Limit: 2, Lease: lease})
	d := b.ask(2*time.Second, "acquire", sharedRequest{Holder: "run-e", Limit: 2, Lease: lease, Wait: time.Hour})
	b.env.SetStartTime(epoch.Add(10 * time.Second))
	b.run(next)
	if refused.rep.Acquired {
		t.Error("a full bulkhead carried over admitted another holder")
	}
	// run-c's lease, carried over, ends at 65s: then run-e gets its slot.
	if !d.rep.Acquired || !d.at.Equal(want[1].Until) {
		t.Errorf("run-e: %+v at %s; want its slot when run-c's lease ends, at %s", d.rep, d.at.Sub(epoch), want[1].Until.Sub(epoch))
	}
}

// TestBulkheadLeases: a slot whose holder stops renewing it (a run terminated, which
// never releases) is free again when its lease ends; one that is renewed stays held.
func TestBulkheadLeases(t *testing.T) {
	b := newBulkheadEnv(t)
	epoch := b.env.Now()
	const lease = time.Minute
	b.ask(time.Second, "acquire", sharedRequest{Holder: "renewed", Limit: 1, Lease: lease})
	renew := b.ask(41*time.Second, "acquire", sharedRequest{Holder: "renewed", Limit: 1, Lease: lease})
	// Without the renewal the lease would have ended at 61s.
	refused := b.ask(62*time.Second, "acquire", sharedRequest{Holder: "early", Limit: 1, Lease: lease})
	waited := b.ask(63*time.Second, "acquire", sharedRequest{Holder: "terminated", Limit: 1, Lease: lease, Wait: 10 * time.Minute})
	// "terminated" never renews nor releases: its lease ends 60s after it got the slot.
	late := b.ask(5*time.Minute, "acquire", sharedRequest{Holder: "late", Limit: 1, Lease: lease})
	next := b.run(bulkheadStart{Limit: 1})
	if !renew.rep.Acquired || refused.rep.Acquired {
		t.Errorf("renewal %+v, acquire while renewed %+v; want the renewal to keep the slot", renew.rep, refused.rep)
	}
	if at := waited.at.Sub(epoch); !waited.rep.Acquired || at != 101*time.Second {
		t.Errorf("a waiting acquire got %+v at %s; want the slot at 1m41s, when the renewed lease ended", waited.rep, at)
	}
	if !late.rep.Acquired || late.rep.InUse != 1 {
		t.Errorf("after the terminated holder's lease: %+v; want the slot, one in use", late.rep)
	}
	if len(next.Leases) != 1 || next.Leases[0].Holder != "late" {
		t.Errorf("carried %+v; want only late's lease", next.Leases)
	}
}

// TestBulkheadWithoutLeases: a slot asked for without a lease (by a run from before
// leases) is held until released, however long.
func TestBulkheadWithoutLeases(t *testing.T) {
	b := newBulkheadEnv(t)
	b.ask(time.Second, "acquire", sharedRequest{Holder: "old", Limit: 1})
	refused := b.ask(time.Hour, "acquire", sharedRequest{Holder: "new", Limit: 1, Lease: time.Minute})
	next := b.run(bulkheadStart{Limit: 1})
	if refused.rep.Acquired {
		t.Error("a slot held without a lease was taken")
	}
	if len(next.Leases) != 1 || !next.Leases[0].Until.IsZero() {
		t.Errorf("carried %+v; want old's slot without an end", next.Leases)
	}
}
