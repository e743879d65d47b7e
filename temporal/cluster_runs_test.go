package temporal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/kgrun/kgrun/engine"
)

// cli runs the kgrun binary against the cluster and returns what it printed and its
// exit code.
func (c *cluster) cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(c.kgrun, append(args, "--temporal", c.addr)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("kgrun %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

// listed runs kgrun runs --temporal --format json with the filters given.
func (c *cluster) listed(t *testing.T, filters ...string) []RunInfo {
	t.Helper()
	out, stderr, code := c.cli(t, append([]string{"runs", "--format", "json"}, filters...)...)
	if code != 0 {
		t.Fatalf("kgrun runs %s: exit %d: %s", strings.Join(filters, " "), code, stderr)
	}
	var runs []RunInfo
	if err := json.Unmarshal([]byte(out), &runs); err != nil {
		t.Fatalf("kgrun runs printed %q: %v", out, err)
	}
	return runs
}

func ids(runs []RunInfo) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

// eventually polls check (visibility on the dev server lags its histories a little)
// until it returns "" or the deadline passes, then fails with what check said.
func eventually(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(100 * time.Millisecond) // polling the cluster's visibility
	}
}

type shown struct {
	Run    RunInfo       `json:"run"`
	Status string        `json:"status"`
	Path   []engine.Step `json:"path"`
}

func pathNodes(steps []engine.Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, fmt.Sprintf("%s×%d", s.Node, s.Attempts))
	}
	return out
}

// TestClusterRunsShowResume drives kgrun runs, show and resume with --temporal on a dev
// server: it lists runs with each filter, shows a finished run with the local report and
// a running one with its exec in flight, terminates a run waiting at its gate and
// resumes it (after its last completed step, not from the start) to the status and path
// the local engine gives its seed, follows a run still running, and refuses to resume a
// completed one.
func TestClusterRunsShowResume(t *testing.T) {
	c := startCluster(t)
	c.worker(t, "worker")
	const file = "testdata/gated.yaml"
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	if err := os.WriteFile(open, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	local := func(seed int64) *engine.Result {
		g, ds := engine.LoadFile(file, newRegistry())
		if g == nil {
			t.Fatal(ds.Error())
		}
		res, err := g.Run(context.Background(), engine.RunOptions{Scenario: "flaky", Seed: seed,
			Params: map[string]any{"gate": open}, Clock: engine.NewVirtualClock(engine.Epoch)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	run := func(seed int64, gate string) []string {
		return []string{file, "--task-queue", "kgrun-test", "--scenario", "flaky", "--seed", fmt.Sprint(seed), "--set", "gate=" + gate, "--format", "json"}
	}

	// Two finished runs of the gated workflow and one of the flagship, started by the CLI.
	for _, seed := range []int64{1, 5} {
		if _, stderr, code := c.cli(t, run(seed, open)...); code != 0 {
			t.Fatalf("seed %d: exit %d: %s", seed, code, stderr)
		}
	}
	if _, stderr, code := c.cli(t, "../workflows/fault_tolerant.yaml", "--task-queue", "kgrun-test", "--set", "alternate_dir="+dir); code != 0 {
		t.Fatalf("the flagship: exit %d: %s", code, stderr)
	}
	eventually(t, "three runs listed", func() string {
		if runs := c.listed(t); len(runs) != 3 {
			return fmt.Sprintf("listed %v", ids(runs))
		}
		return ""
	})
	time.Sleep(10 * time.Millisecond) // so that the runs below start strictly later than these
	before := time.Now()

	// Seed 3 stops at its gate; the CLI follows it.
	gate := filepath.Join(dir, "gate3")
	follower := exec.Command(c.kgrun, append(run(3, gate), "--temporal", c.addr)...)
	var followed bytes.Buffer
	follower.Stdout, follower.Stderr = &followed, &followed
	if err := follower.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = follower.Process.Kill(); _ = follower.Wait() })
	var waiting RunInfo
	eventually(t, "seed 3 waits at its gate", func() string {
		runs := c.listed(t, "--status", "running")
		if len(runs) != 1 {
			return fmt.Sprintf("running: %v", ids(runs))
		}
		out, stderr, code := c.cli(t, "show", runs[0].ID, "--format", "json")
		var s shown
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
			return fmt.Sprintf("show: exit %d: %s%s", code, out, stderr)
		}
		if len(s.Run.Pending) != 1 || !strings.HasPrefix(s.Run.Pending[0].ActivityID, "gate/") {
			return fmt.Sprintf("in flight: %+v", s.Run.Pending)
		}
		waiting = s.Run
		return ""
	})
	if waiting.Workflow != "gated" || waiting.Seed != 3 || waiting.Scenario != "flaky" || waiting.Status != StatusRunning {
		t.Errorf("the waiting run shows as %+v", waiting)
	}
	out, _, _ := c.cli(t, "show", waiting.ID)
	if !strings.Contains(out, "Status: running for") || !strings.Contains(out, "gate/v1/a1/") {
		t.Errorf("kgrun show of a running run printed:\n%s", out)
	}
	t.Logf("kgrun show of the running run:\n%s", out)

	// The filters.
	all := c.listed(t)
	if len(all) != 4 || all[0].ID != waiting.ID {
		t.Fatalf("kgrun runs listed %v, newest first; want 4 with %s first", ids(all), waiting.ID)
	}
	gated := c.listed(t, "--workflow", "gated")
	if len(gated) != 3 || slices.ContainsFunc(gated, func(r RunInfo) bool { return r.Workflow != "gated" }) {
		t.Errorf("--workflow gated listed %+v", gated)
	}
	if got := ids(c.listed(t, "--limit", "1")); !slices.Equal(got, []string{waiting.ID}) {
		t.Errorf("--limit 1 listed %v", got)
	}
	if got := ids(c.listed(t, "--since", before.UTC().Format(time.RFC3339Nano))); !slices.Equal(got, []string{waiting.ID}) {
		t.Errorf("--since listed %v", got)
	}
	if got := c.listed(t, "--until", before.UTC().Format(time.RFC3339Nano)); len(got) != 3 || slices.Contains(ids(got), waiting.ID) {
		t.Errorf("--until listed %v", ids(got))
	}
	want1 := local(1)
	for _, r := range c.listed(t, "--status", string(want1.Status), "--workflow", "gated") {
		if r.Seed == 1 && r.Visits == want1.Steps() {
			want1 = nil
		}
	}
	if want1 != nil {
		t.Errorf("--status %s does not list seed 1 with its %d visits", local(1).Status, local(1).Steps())
	}

	// A finished run shows with the local engine's status and path, and its report.
	var seed5 RunInfo
	for _, r := range gated {
		if r.Seed == 5 {
			seed5 = r
		}
	}
	out, stderr, code := c.cli(t, "show", seed5.ID, "--format", "json")
	var s shown
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
		t.Fatalf("kgrun show %s: exit %d: %s%s", seed5.ID, code, out, stderr)
	}
	want5 := local(5)
	if s.Status != string(want5.Status) || !slices.Equal(pathNodes(s.Path), pathNodes(want5.Path)) {
		t.Errorf("seed 5 shows %s %v; the local engine gives %s %v", s.Status, pathNodes(s.Path), want5.Status, pathNodes(want5.Path))
	}
	out, _, _ = c.cli(t, "show", seed5.ID)
	for _, want := range []string{"Run " + seed5.ID + " · testdata/gated.yaml", "gated · scenario flaky · seed 5", "Status: " + strings.ToUpper(string(want5.Status)), "Path", "deliver"} {
		if !strings.Contains(out, want) {
			t.Errorf("kgrun show %s printed no %q:\n%s", seed5.ID, want, out)
		}
	}

	// Terminate seed 3 at its gate: it lists as crashed, its follower fails.
	if err := c.client.TerminateWorkflow(context.Background(), waiting.ID, "", "a crash, for the test"); err != nil {
		t.Fatal(err)
	}
	if err := follower.Wait(); err == nil {
		t.Errorf("the CLI following the terminated run exited 0:\n%s", followed.String())
	}
	eventually(t, "seed 3 crashed", func() string {
		if got := ids(c.listed(t, "--status", "crashed")); !slices.Equal(got, []string{waiting.ID}) {
			return fmt.Sprintf("crashed: %v", got)
		}
		return ""
	})
	out, _, _ = c.cli(t, "show", waiting.ID)
	if !strings.Contains(out, "Status: crashed") || !strings.Contains(out, "kgrun resume "+waiting.ID) {
		t.Errorf("kgrun show of a crashed run printed:\n%s", out)
	}
	t.Logf("kgrun show of the crashed run:\n%s", out)

	// Resume it with its gate open: it goes on after its last completed step.
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	want3 := local(3)
	out, stderr, code = c.cli(t, "resume", waiting.ID, file, "--format", "json")
	var resumed struct {
		Status string        `json:"status"`
		Path   []engine.Step `json:"path"`
	}
	if err := json.Unmarshal([]byte(out), &resumed); err != nil {
		t.Fatalf("kgrun resume: exit %d: %s%s", code, out, stderr)
	}
	if resumed.Status != string(want3.Status) || !slices.Equal(pathNodes(resumed.Path), pathNodes(want3.Path)) {
		t.Errorf("seed 3 resumed to %s %v; the local engine gives %s %v", resumed.Status, pathNodes(resumed.Path), want3.Status, pathNodes(want3.Path))
	}
	if wantCode := map[engine.Status]int{engine.StatusFailed: 1}[want3.Status]; code != wantCode {
		t.Errorf("kgrun resume exited %d for a %s run; want %d", code, want3.Status, wantCode)
	}
	c.checkResetAfterCollect(t, waiting.ID)
	eventually(t, "seed 3 listed as resumed once", func() string {
		runs := c.listed(t, "--workflow", "gated", "--since", before.UTC().Format(time.RFC3339Nano))
		if len(runs) != 1 || runs[0].Resets != 1 || runs[0].Status != string(want3.Status) {
			return fmt.Sprintf("listed %+v", runs)
		}
		return ""
	})

	out, _, _ = c.cli(t, "runs")
	t.Logf("kgrun runs --temporal:\n%s", out)

	// A completed run has nothing to resume; an unknown one is not there.
	if _, stderr, code = c.cli(t, "resume", waiting.ID); code != 2 || !strings.Contains(stderr, "nothing to resume") {
		t.Errorf("resuming a completed run: exit %d, %s", code, stderr)
	}
	if _, stderr, code := c.cli(t, "show", "no-such-run"); code != 2 || !strings.Contains(stderr, "no such run") {
		t.Errorf("showing an unknown run: exit %d, %s", code, stderr)
	}
	if _, stderr, code := c.cli(t, "resume", seed5.ID, "../workflows/fault_tolerant.yaml"); code != 2 || !strings.Contains(stderr, "the workflow changed") {
		t.Errorf("resuming with another workflow's file: exit %d, %s", code, stderr)
	}

	// A run still running is followed.
	gate2 := filepath.Join(dir, "gate2")
	g, ds := engine.LoadFile(file, newRegistry())
	if g == nil {
		t.Fatal(ds.Error())
	}
	req := NewRunRequest(g, engine.RunOptions{Scenario: "flaky", Seed: 2, Params: map[string]any{"gate": gate2}})
	started, err := Start(context.Background(), c.client, "kgrun-test", "gated-2-followed", req)
	if err != nil {
		t.Fatal(err)
	}
	resumer := exec.Command(c.kgrun, "resume", started.GetID(), "--temporal", c.addr, "--format", "json")
	var resumerOut bytes.Buffer
	resumer.Stdout, resumer.Stderr = &resumerOut, &resumerOut
	if err := resumer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resumer.Process.Kill(); _ = resumer.Wait() })
	if err := os.WriteFile(gate2, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := resumer.Wait(); err != nil && string(local(2).Status) != string(engine.StatusFailed) {
		t.Fatalf("kgrun resume of a running run: %v\n%s", err, resumerOut.String())
	}
	if want := `"status": "` + string(local(2).Status) + `"`; !strings.Contains(resumerOut.String(), want) {
		t.Errorf("kgrun resume of a running run printed %s; want %s", resumerOut.String(), want)
	}
}

// checkResetAfterCollect checks that the run's latest execution was reset after collect
// had finished: collect's attempts are in the history before the reset, none after it,
// and the gate ran again after it.
func (c *cluster) checkResetAfterCollect(t *testing.T, id string) {
	t.Helper()
	h, err := FetchHistory(context.Background(), c.client, id, "")
	if err != nil {
		t.Fatal(err)
	}
	reset, collectBefore, collectAfter, gateAfter := false, 0, 0, 0
	for _, e := range h.Events {
		if f := e.GetWorkflowTaskFailedEventAttributes(); f != nil && f.GetCause() == enumspb.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW {
			reset = true
		}
		a := e.GetActivityTaskScheduledEventAttributes()
		if a == nil {
			continue
		}
		switch node, _, _ := strings.Cut(a.GetActivityId(), "/"); {
		case node == "collect" && !reset:
			collectBefore++
		case node == "collect":
			collectAfter++
		case node == "gate" && reset:
			gateAfter++
		}
	}
	if !reset || collectBefore == 0 || collectAfter != 0 || gateAfter != 1 {
		t.Errorf("run %s's history: reset %v, collect scheduled %d times before it and %d after, the gate %d after; want a reset after collect, and the gate once after it",
			id, reset, collectBefore, collectAfter, gateAfter)
	}
}
