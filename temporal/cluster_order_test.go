package temporal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/kgrun/kgrun/engine"
)

// runOn starts one run of req on the cluster's task queue and waits for it.
func (c *cluster) runOn(t *testing.T, queue, id string, req RunRequest) (*engine.Result, error) {
	t.Helper()
	run, err := Start(context.Background(), c.client, queue, id, req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, _, err := Wait(ctx, run)
	return res, err
}

// TestClusterExactOrder runs fan_out.yaml's outage on the dev server in exact order for
// the seeds whose outcome the parallel order has been seen to change, and checks it
// against the local engine: everything, with state kept in the run; status and path with
// the cluster's breakers (fresh for each run; their workflow keeps its own time). It also
// runs it in parallel order with the cluster's breakers, which map items ask from their
// own coroutines, and logs how that ends.
func TestClusterExactOrder(t *testing.T) {
	c := startCluster(t)
	c.worker(t, "worker")
	const file = "../workflows/fan_out.yaml"
	dir := t.TempDir()
	g, ds := engine.LoadFile(file, newRegistry())
	if g == nil {
		t.Fatal(ds.Error())
	}
	for _, seed := range []int64{2, 3, 6} {
		local := localRun(t, file, "outage", seed, dir)
		req := NewRunRequest(g, engine.RunOptions{Scenario: "outage", Seed: seed, Params: map[string]any{"alternate_dir": dir}})
		for _, mode := range []struct{ order, shared string }{
			{OrderExact, SharedRun}, {OrderExact, SharedCluster}, {OrderParallel, SharedCluster},
		} {
			t.Run(fmt.Sprintf("seed %d %s %s", seed, mode.order, mode.shared), func(t *testing.T) {
				req := req
				req.Order, req.SharedState = mode.order, mode.shared
				if mode.shared == SharedCluster {
					// A fresh breaker, as the local run has: the cluster's outlives runs.
					_ = c.client.TerminateWorkflow(context.Background(), breakerID(g.Spec().Name, "region_api"), "", "a fresh breaker for the next run")
				}
				res, err := c.runOn(t, "kgrun-test", fmt.Sprintf("order-%s-%s-%d-%d", mode.order, mode.shared, seed, time.Now().UnixNano()), req)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case mode.order == OrderParallel:
					t.Logf("parallel order: %s %v (local %s %v)", res.Status, res.PathNodes(), local.Status, local.PathNodes())
				case mode.shared == SharedRun:
					compareRuns(t, res, local, true)
				default:
					if res.Status != local.Status || strings.Join(res.PathNodes(), " ") != strings.Join(local.PathNodes(), " ") {
						t.Errorf("%s %v on the cluster, %s %v locally", res.Status, res.PathNodes(), local.Status, local.PathNodes())
					}
				}
			})
		}
	}
}

// TestClusterOrderCost measures, on the dev server, the wall time of a clean fan_out.yaml
// run (six items, four at a time, a hedged join and a called workflow) in parallel order
// and in exact order, one run after another, and checks that both end as the local engine
// does (the figures are for docs/PERFORMANCE.md).
func TestClusterOrderCost(t *testing.T) {
	c := startCluster(t)
	c.worker(t, "worker")
	const file = "../workflows/fan_out.yaml"
	dir := t.TempDir()
	g, ds := engine.LoadFile(file, newRegistry())
	if g == nil {
		t.Fatal(ds.Error())
	}
	const n = 10
	perRun := func(order string) time.Duration {
		start := time.Now()
		for seed := int64(1); seed <= n; seed++ {
			req := NewRunRequest(g, engine.RunOptions{Seed: seed, Params: map[string]any{"alternate_dir": dir}})
			req.Order, req.SharedState = order, SharedRun
			res, err := c.runOn(t, "kgrun-test", fmt.Sprintf("cost-%s-%d-%d", order, seed, time.Now().UnixNano()), req)
			if err != nil {
				t.Fatal(err)
			}
			if want := localRun(t, file, "", seed, dir); res.Status != want.Status {
				t.Errorf("seed %d in %s order: %s; locally %s", seed, order, res.Status, want.Status)
			}
		}
		return time.Since(start) / n
	}
	perRun(OrderParallel) // warm the worker's caches
	parallel, exact := perRun(OrderParallel), perRun(OrderExact)
	parallel2, exact2 := perRun(OrderParallel), perRun(OrderExact)
	t.Logf("fan_out.yaml, one run at a time: parallel order %s and %s per run, exact order %s and %s",
		parallel.Round(time.Millisecond), parallel2.Round(time.Millisecond), exact.Round(time.Millisecond), exact2.Round(time.Millisecond))
}

// leaseWorkflow's one node holds its bulkhead's one slot for as long as the scenario's
// latency.
const leaseWorkflow = `version: 1
name: lease
start: hold
nodes:
  hold:
    type: transform
    bulkhead: {max_concurrent: 1, max_wait: 3s}
    params: {values: {held: true}}
scenarios:
  long:
    faults:
      hold: {latency: 10m}
`

// TestClusterBulkheadLease: a run holding a cluster bulkhead's slot keeps it past its
// lease term by renewing it, and when the run is terminated (it never releases) the
// slot comes free within the term. The worker runs in the test's process with a 2s term.
func TestClusterBulkheadLease(t *testing.T) {
	c := startCluster(t)
	old := leaseTerm
	leaseTerm = 2 * time.Second
	t.Cleanup(func() { leaseTerm = old })
	const queue = "kgrun-lease"
	w := sdkworker.New(c.client, queue, sdkworker.Options{})
	NewWorker(newRegistry, c.client, Options{}).Register(w)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	file := filepath.Join(t.TempDir(), "lease.yaml")
	if err := os.WriteFile(file, []byte(leaseWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	g, ds := engine.LoadFile(file, newRegistry())
	if g == nil {
		t.Fatal(ds.Error())
	}

	holder, err := Start(context.Background(), c.client, queue, "lease-holder", NewRunRequest(g, engine.RunOptions{Scenario: "long"}))
	if err != nil {
		t.Fatal(err)
	}
	// The holder sleeps out its latency once it has the slot.
	deadline := time.Now().Add(30 * time.Second)
	for !hasTimer(t, c.client, holder) {
		if time.Now().After(deadline) {
			t.Fatal("the holder did not take the bulkhead's slot within 30s")
		}
		time.Sleep(100 * time.Millisecond) // polling the server's history
	}

	// A 3s wait outlasts the 2s lease: only its renewals keep the holder's slot.
	res, err := c.runOn(t, queue, "lease-refused", NewRunRequest(g, engine.RunOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusFailed || len(res.Path) == 0 || res.Path[0].Failure == nil ||
		!strings.Contains(res.Path[0].Failure.Message, "bulkhead full") {
		t.Fatalf("a run while the slot is held: %s %+v; want failed with the bulkhead full", res.Status, res.Path)
	}

	if err := c.client.TerminateWorkflow(context.Background(), holder.GetID(), holder.GetRunID(), "test"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err = c.runOn(t, queue, "lease-after", NewRunRequest(g, engine.RunOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusSuccess {
		t.Fatalf("a run after the holder was terminated: %s %+v; want the slot within its 3s wait", res.Status, res.Path)
	}
	t.Logf("the terminated holder's slot came free within %s", time.Since(start).Round(time.Millisecond))
}

// hasTimer reports whether the run's history has started a timer.
func hasTimer(t *testing.T, c client.Client, run client.WorkflowRun) bool {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetEventType() == enums.EVENT_TYPE_TIMER_STARTED {
			return true
		}
	}
	return false
}
