package temporal

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

// The tests here run against a real Temporal dev server on loopback, started from the
// Temporal CLI, with kgrun workers as real processes. They run when KGRUN_TEMPORAL=1
// (the CI script sets it, building the CLI when it is missing); KGRUN_TEMPORAL_CLI names
// the CLI's binary (default: temporal on PATH).

// cluster is a dev server and the kgrun binary its workers run.
type cluster struct {
	addr   string
	kgrun  string
	client client.Client
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster starts a dev server and builds kgrun, or skips (saying why) when
// KGRUN_TEMPORAL is not set.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	if os.Getenv("KGRUN_TEMPORAL") != "1" {
		t.Skip("needs a Temporal dev server: set KGRUN_TEMPORAL=1 (and KGRUN_TEMPORAL_CLI) to run it")
	}
	cli := os.Getenv("KGRUN_TEMPORAL_CLI")
	if cli == "" {
		var err error
		if cli, err = exec.LookPath("temporal"); err != nil {
			t.Fatal("KGRUN_TEMPORAL=1 but no Temporal CLI: set KGRUN_TEMPORAL_CLI or put temporal on PATH (go install github.com/temporalio/cli/cmd/temporal@v1.5.1)")
		}
	}
	dir := t.TempDir()
	kgrun := filepath.Join(dir, "kgrun")
	if out, err := exec.Command("go", "build", "-o", kgrun, "../cmd/kgrun").CombinedOutput(); err != nil {
		t.Fatalf("building kgrun: %v\n%s", err, out)
	}
	port := freePort(t)
	srv := exec.Command(cli, "server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--http-port", strconv.Itoa(freePort(t)), "--metrics-port", strconv.Itoa(freePort(t)), "--headless", "--log-level", "error")
	srv.Dir = dir
	srv.Stdout, srv.Stderr = testLog{t, "server"}, testLog{t, "server"}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var c client.Client
	deadline := time.Now().Add(60 * time.Second)
	for {
		var err error
		c, err = client.Dial(client.Options{HostPort: addr, Logger: quietLogger()})
		if err == nil {
			if _, err = c.CheckHealth(context.Background(), &client.CheckHealthRequest{}); err == nil {
				break
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dev server did not come up at %s: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond) // polling a process that is starting
	}
	t.Cleanup(c.Close)
	return &cluster{addr: addr, kgrun: kgrun, client: c}
}

// worker starts a kgrun worker process.
func (c *cluster) worker(t *testing.T, name string) *exec.Cmd {
	t.Helper()
	w := exec.Command(c.kgrun, "worker", "--temporal", c.addr, "--task-queue", "kgrun-test")
	w.Stdout, w.Stderr = testLog{t, name}, testLog{t, name}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })
	return w
}

type testLog struct {
	t    *testing.T
	name string
}

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("%s: %s", l.name, p)
	return len(p), nil
}

// localRun runs seed on the local engine, on virtual time, as a test would.
func localRun(t *testing.T, file, scenario string, seed int64, dir string) *engine.Result {
	t.Helper()
	g, ds := engine.LoadFile(file, newRegistry())
	if g == nil {
		t.Fatal(ds.Error())
	}
	res, err := g.Run(context.Background(), engine.RunOptions{Scenario: scenario, Seed: seed,
		Params: map[string]any{"alternate_dir": dir}, Clock: engine.NewVirtualClock(engine.Epoch)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// startRuns starts n runs of file (seeds 1..n) and returns a channel of their results.
func (c *cluster) startRuns(t *testing.T, file, scenario string, n int, shared, dir string) <-chan clusterResult {
	t.Helper()
	g, ds := engine.LoadFile(file, newRegistry())
	if g == nil {
		t.Fatal(ds.Error())
	}
	out := make(chan clusterResult, n)
	var wg sync.WaitGroup
	for i := range n {
		seed := int64(i + 1)
		req := NewRunRequest(g, engine.RunOptions{Scenario: scenario, Seed: seed, Params: map[string]any{"alternate_dir": dir}})
		req.SharedState = shared
		run, err := Start(context.Background(), c.client, "kgrun-test", fmt.Sprintf("%s-%s-%d-%d", shared, scenario, seed, time.Now().UnixNano()), req)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			res, _, err := Wait(ctx, run)
			out <- clusterResult{seed: seed, res: res, err: err}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	return out
}

type clusterResult struct {
	seed int64
	res  *engine.Result
	err  error
}

// TestClusterSurvivesAWorkerKilled runs 200 flagship runs under the network scenario on
// two workers, kills one with SIGKILL midway, and checks that every run finishes with
// the status the local engine gives its seed; then, with breakers shared by the cluster,
// that the breaker's counts add up to the attempts the runs made on both workers.
func TestClusterSurvivesAWorkerKilled(t *testing.T) {
	c := startCluster(t)
	w1 := c.worker(t, "worker1")
	c.worker(t, "worker2")
	const file = "../workflows/fault_tolerant.yaml"
	const n = 200
	dir := t.TempDir()
	start := time.Now()
	results := c.startRuns(t, file, "network", n, SharedRun, dir)
	done, killed := 0, false
	for r := range results {
		if r.err != nil {
			t.Errorf("seed %d: %v", r.seed, r.err)
			continue
		}
		done++
		if done == n/4 && !killed {
			if err := w1.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
			t.Logf("killed worker1 with SIGKILL after %d of %d runs", done, n)
		}
		if want := localRun(t, file, "network", r.seed, dir).Status; r.res.Status != want {
			t.Errorf("seed %d: status %s on Temporal, %s on the local engine", r.seed, r.res.Status, want)
		}
	}
	if done != n {
		t.Fatalf("%d of %d runs finished", done, n)
	}
	t.Logf("%d runs under the network scenario finished in %s, one worker killed midway", n, time.Since(start).Round(time.Millisecond))

	// Breakers shared by the cluster: a third worker joins the survivor.
	c.worker(t, "worker3")
	const m = 60
	results = c.startRuns(t, file, "network", m, SharedCluster, dir)
	var calls, attempts uint64
	for r := range results {
		if r.err != nil {
			t.Fatalf("seed %d: %v", r.seed, r.err)
		}
		calls += uint64(r.res.Calls["collect"])
		for _, st := range r.res.Path {
			if st.Node == "collect" {
				attempts += uint64(st.Attempts)
			}
		}
	}
	snap := c.breakerSnapshot(t, "fault-tolerant", "primary_api")
	admitted := snap.Counts.Successes + snap.Counts.Failures + snap.Counts.Ignored
	if admitted != calls || snap.Counts.Rejections != attempts-calls {
		t.Errorf("breaker primary_api counts %+v: admitted %d, rejected %d; the runs made %d calls of %d attempts",
			snap.Counts, admitted, snap.Counts.Rejections, calls, attempts)
	}
	t.Logf("breaker primary_api across workers: %+v (state %s) for %d calls of %d attempts", snap.Counts, snap.StateStr, calls, attempts)

	// Every slot of collect's bulkhead (max_concurrent 8, across the cluster) was given
	// back: a release of a slot nobody holds reports how many are in use.
	h, err := c.client.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
		WorkflowID: bulkheadID("fault-tolerant", "collect"), UpdateName: "release", Args: []any{sharedRequest{Holder: "nobody"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		t.Fatal(err)
	}
	var rep bulkheadReply
	if err := h.Get(context.Background(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.InUse != 0 {
		t.Errorf("collect's bulkhead has %d slots in use after every run ended", rep.InUse)
	}
}

// breakerSnapshot asks a breaker workflow for its state.
func (c *cluster) breakerSnapshot(t *testing.T, wf, name string) policy.Snapshot {
	t.Helper()
	h, err := c.client.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
		WorkflowID: breakerID(wf, name), UpdateName: "snapshot", Args: []any{sharedRequest{}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		t.Fatal(err)
	}
	var rep breakerReply
	if err := h.Get(context.Background(), &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Snapshot
}

// TestClusterRecordHistories records the histories replay_test.go replays, when
// KGRUN_RECORD=1 as well: a degraded flagship run and a fan-out run.
func TestClusterRecordHistories(t *testing.T) {
	if os.Getenv("KGRUN_RECORD") != "1" {
		t.Skip("records testdata/histories: set KGRUN_RECORD=1 with KGRUN_TEMPORAL=1")
	}
	c := startCluster(t)
	c.worker(t, "worker")
	for _, rec := range []struct {
		name, file, scenario string
		seed                 int64
	}{
		{"fault_tolerant_network_14", "../workflows/fault_tolerant.yaml", "network", 14},
		{"fan_out_outage_2", "../workflows/fan_out.yaml", "outage", 2},
	} {
		g, ds := engine.LoadFile(rec.file, newRegistry())
		if g == nil {
			t.Fatal(ds.Error())
		}
		req := NewRunRequest(g, engine.RunOptions{Scenario: rec.scenario, Seed: rec.seed, Params: map[string]any{"alternate_dir": t.TempDir()}})
		req.SharedState = SharedRun
		run, err := Start(context.Background(), c.client, "kgrun-test", rec.name, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Wait(context.Background(), run); err != nil {
			t.Fatal(err)
		}
		h, err := FetchHistory(context.Background(), c.client, run.GetID(), run.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		data, err := HistoryJSON(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "histories", rec.name+".json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s: %d events", rec.name, len(h.Events))
	}
}

// TestClusterThroughput measures, on the dev server, runs per second of the clean
// flagship with one worker and with two, and the latency of one run's visits, beside the
// local engine's; it asserts only that the runs finish (with the local engine's status
// where breakers are the run's) (the figures are for
// docs/PERFORMANCE.md). It also runs the README's command: kgrun FILE --temporal.
func TestClusterThroughput(t *testing.T) {
	c := startCluster(t)
	const file = "../workflows/fault_tolerant.yaml"
	dir := t.TempDir()
	measure := func(n int, shared string) float64 {
		start := time.Now()
		results := c.startRuns(t, file, "", n, shared, dir)
		for r := range results {
			if r.err != nil {
				t.Fatalf("seed %d: %v", r.seed, r.err)
			}
			if shared == SharedRun {
				if want := localRun(t, file, "", r.seed, dir).Status; r.res.Status != want {
					t.Errorf("seed %d: status %s on Temporal, %s on the local engine", r.seed, r.res.Status, want)
				}
			}
		}
		return float64(n) / time.Since(start).Seconds()
	}
	c.worker(t, "worker1")
	single := func() time.Duration {
		start := time.Now()
		results := c.startRuns(t, file, "", 1, SharedCluster, dir)
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		return time.Since(start) / time.Duration(r.res.Steps())
	}
	single() // warm the worker's caches and the breaker workflow
	perVisit := single()
	one := measure(100, SharedCluster)
	oneRun := measure(100, SharedRun)
	c.worker(t, "worker2")
	two := measure(100, SharedCluster)
	twoRun := measure(100, SharedRun)

	g, _ := engine.LoadFile(file, newRegistry())
	start := time.Now()
	const local = 200
	for i := range local {
		if _, err := g.Run(context.Background(), engine.RunOptions{Seed: int64(i + 1), Params: map[string]any{"alternate_dir": dir}}); err != nil {
			t.Fatal(err)
		}
	}
	localRate := float64(local) / time.Since(start).Seconds()
	t.Logf("runs/s: 1 worker %.1f (breakers in the cluster) %.1f (in the run); 2 workers %.1f / %.1f; local engine, one at a time in-process: %.0f", one, oneRun, two, twoRun, localRate)
	t.Logf("one run alone: %s per visit on the dev server", perVisit.Round(time.Microsecond))

	out, err := exec.Command(c.kgrun, file, "--temporal", c.addr, "--task-queue", "kgrun-test", "--scenario", "network", "--seed", "14", "--format", "json").Output()
	if err != nil {
		t.Fatalf("kgrun FILE --temporal: %v", err)
	}
	want := localRun(t, file, "network", 14, dir)
	if !strings.Contains(string(out), `"status": "`+string(want.Status)+`"`) {
		t.Errorf("kgrun FILE --temporal printed %s; the local engine's status is %s", out, want.Status)
	}
}
