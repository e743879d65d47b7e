package temporal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/ionodes"
	"github.com/kgrun/kgrun/schema"
)

// newRegistry returns the node types the command line runs.
func newRegistry() *engine.Registry {
	reg := builtin.Registry(builtin.Options{})
	if err := ionodes.Register(reg, ionodes.Options{}); err != nil {
		panic(err)
	}
	return reg
}

// runOnTestServer runs req in the SDK's test environment (time skipping, workflow time
// starting at engine.Epoch as the local engine's virtual clock does).
func runOnTestServer(t *testing.T, req RunRequest) (*engine.Result, []engine.Event) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	ts.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := ts.NewTestWorkflowEnvironment()
	env.SetStartTime(engine.Epoch)
	NewWorker(newRegistry, nil, Options{}).Register(env)
	env.ExecuteWorkflow(RunWorkflow, req)
	if !env.IsWorkflowCompleted() {
		t.Fatal("the run workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("the run workflow failed: %v", err)
	}
	var reply RunReply
	if err := env.GetWorkflowResult(&reply); err != nil {
		t.Fatal(err)
	}
	res, events, err := reply.Restore()
	if err != nil {
		t.Fatal(err)
	}
	return res, events
}

// jsonOf is v as canonical JSON, for comparing values that went through encoding (typed
// records here, plain maps there) by what they say.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var plain any
	if err := json.Unmarshal(b, &plain); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(plain)
	return string(b)
}

// TestShippedWorkflowsConform runs every test that a shipped workflow declares on the
// local engine and on the Temporal backend (in the SDK's test environment) with the same
// seed, and checks that both meet the test's expectations with the same status, path,
// output, shared store, degradations and exec calls. In exact order every test is
// compared, timestamps too; in parallel order those whose outcome cannot depend on the
// order in which the cluster completes concurrent activities.
func TestShippedWorkflowsConform(t *testing.T) {
	files, err := filepath.Glob("../workflows/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no shipped workflows: %v", err)
	}
	ran, parallel := 0, 0
	for _, file := range files {
		g, ds := engine.LoadFile(file, newRegistry())
		if g == nil {
			t.Fatalf("%s: %v", file, ds.Error())
		}
		for _, tc := range g.Spec().Tests {
			t.Run(filepath.Base(file)+"/"+tc.Name, func(t *testing.T) {
				ran++
				dir := t.TempDir()
				params := map[string]any{"alternate_dir": dir}
				for k, v := range tc.Params {
					params[k] = v
				}
				lg, _ := engine.LoadFile(file, newRegistry())
				local, err := lg.Run(context.Background(), engine.RunOptions{Scenario: tc.Scenario.Name, Seed: tc.Seed,
					Params: params, Input: tc.Input, Clock: engine.NewVirtualClock(engine.Epoch)})
				if err != nil {
					t.Fatal(err)
				}
				if want := tc.Expect.Status; want != "" && string(local.Status) != want {
					t.Fatalf("local status %s, the test expects %s", local.Status, want)
				}
				req := NewRunRequest(lg, engine.RunOptions{Scenario: tc.Scenario.Name, Seed: tc.Seed, Params: params, Input: tc.Input})
				req.SharedState = SharedRun
				t.Run(OrderExact, func(t *testing.T) {
					req := req
					req.Order = OrderExact
					remote, _ := runOnTestServer(t, req)
					compareRuns(t, remote, local, true)
				})
				if reason := orderDependent(lg.Spec(), local); reason != "" {
					t.Logf("parallel order not run: %s, so the outcome there is the cluster's order's", reason)
					return
				}
				parallel++
				t.Run(OrderParallel, func(t *testing.T) {
					remote, _ := runOnTestServer(t, req)
					compareRuns(t, remote, local, !hedges(lg.Spec()))
				})
			})
		}
	}
	if ran == 0 || parallel == 0 {
		t.Fatalf("%d shipped workflow tests, %d of them compared in parallel order", ran, parallel)
	}
}

// compareRuns checks that a run on Temporal ended as the local one did: status, path,
// output, degradations, calls and visits, and with exact the shared store and the times
// of the visits too. In parallel order a hedged join goes to the branch whose answer
// reaches the cluster first (on virtual time a tie goes to the first branch declared),
// and activities take real time, which the test environment's clock counts.
func compareRuns(t *testing.T, remote, local *engine.Result, exact bool) {
	t.Helper()
	if remote.Status != local.Status {
		t.Errorf("status: Temporal %s, local %s", remote.Status, local.Status)
	}
	if !slices.Equal(remote.PathNodes(), local.PathNodes()) {
		t.Errorf("path:\n Temporal %v\n local    %v", remote.PathNodes(), local.PathNodes())
	}
	compared := map[string][2]any{
		"output":       {remote.Output, local.Output},
		"degradations": {remote.Degradations, local.Degradations},
		"calls":        {remote.Calls, local.Calls},
		"steps":        {untimed(remote.Path), untimed(local.Path)},
	}
	if exact {
		compared["shared"] = [2]any{remote.Shared, local.Shared}
		compared["steps"] = [2]any{remote.Path, local.Path}
		if len(remote.Breakers)+len(local.Breakers) > 0 {
			compared["breakers"] = [2]any{remote.Breakers, local.Breakers}
		}
	}
	for what, pair := range compared {
		if a, b := jsonOf(t, pair[0]), jsonOf(t, pair[1]); a != b {
			t.Errorf("%s differs:\n Temporal %s\n local    %s", what, a, b)
		}
	}
}

// orderDependent says why a run's outcome may depend on the order in which concurrent
// map items reach a breaker they share ("" when it cannot): a map whose body names a
// breaker, in a run whose breakers counted failures or rejected calls.
func orderDependent(w *schema.Workflow, local *engine.Result) string {
	shared := false
	for _, n := range w.Nodes {
		if n.Map != nil {
			for _, bn := range n.Map.Body.Nodes {
				shared = shared || bn.Breaker.Name != ""
			}
		}
	}
	if !shared {
		return ""
	}
	for _, b := range local.Breakers {
		if b.Counts.Failures > 0 || b.Counts.Rejections > 0 {
			return fmt.Sprintf("map items share breaker %s, which counted failures", b.Name)
		}
	}
	return ""
}

// hedges reports whether a workflow has a parallel node with join: first.
func hedges(w *schema.Workflow) bool {
	for _, n := range w.Nodes {
		if n.Parallel != nil && n.Parallel.Join == "first" {
			return true
		}
	}
	return false
}

// untimed is a path without its timestamps: on the Temporal backend activities take
// real time, which the test environment's clock counts, so only the local engine's
// virtual time has every visit exactly at its waits.
func untimed(path []engine.Step) []engine.Step {
	out := slices.Clone(path)
	for i := range out {
		out[i].At = 0
	}
	return out
}

func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}
