package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kgrun/kgrun/store"
)

// traceNodes lists the node_start events of a JSON-lines trace.
func traceNodes(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var e struct{ Event, Node string }
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("trace line %q: %v", line, err)
		}
		if e.Event == "node_start" {
			out = append(out, e.Node)
		}
	}
	return out
}

// waitForTrace waits until the trace file holds want, while the process runs.
func waitForTrace(t *testing.T, cmd *exec.Cmd, path, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if bytes.Contains(data, []byte(want)) {
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the trace never showed %s; stderr:\n%v", want, cmd.Stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestKilledRunResumes kills a kgrun process with SIGKILL while a node blocks, then
// resumes the run in a new process: the committed visit is not run again, its shared
// data is there, and the run completes.
func TestKilledRunResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildKgrun(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	trace1, trace2 := filepath.Join(dir, "first.jsonl"), filepath.Join(dir, "second.jsonl")
	cmd := exec.Command(bin, "../../testdata/valid/durable.yaml", "--scenario", "stuck", "--state", db, "--trace", trace1, "--no-color")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForTrace(t, cmd, trace1, `"fault_injected"`) // process is blocked in an hour of latency
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if got := strings.Join(traceNodes(t, trace1), " "); got != "collect process" {
		t.Fatalf("first process visited %q before the kill", got)
	}

	out, errOut, code := runBin(t, bin, "runs", "--state", db)
	if code != exitOK || !strings.Contains(out, "crashed") {
		t.Fatalf("runs after the kill: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runBin(t, bin, "resume", "1", "../../testdata/valid/durable.yaml", "--state", db, "--scenario", "none", "--trace", trace2, "--no-color")
	if code != exitOK {
		t.Fatalf("resume: exit %d\n%s%s", code, out, errOut)
	}
	if got := strings.Join(traceNodes(t, trace2), " "); got != "process deliver done" {
		t.Errorf("the resumed process visited %q; collect must not run again", got)
	}
	for _, want := range []string{"Resumed: continuing at process after visit 1", "Status: SUCCESS",
		"data        5 records from primary_api", "5 processed", "collect 1 · process 1 · deliver 1 · done 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("resumed report lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runBin(t, bin, "runs", "--state", db)
	if !strings.Contains(out, "success") || !strings.Contains(out, "1 time") {
		t.Errorf("runs after the resume:\n%s", out)
	}
}

func runBin(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	code = exitCodeOf(t, cmd.Run())
	return out.String(), errb.String(), code
}

// TestRunsShowAndRedrive records three runs in a fresh store, redrives the failed one
// with its fault removed, and pins kgrun runs and kgrun show against golden files.
func TestRunsShowAndRedrive(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	state := []string{"--state", db, "--virtual-time", "--no-color"}
	steps := []struct {
		args []string
		code int
	}{
		{append([]string{"workflows/fault_tolerant.yaml", "--clock-start", "2026-01-01T00:00:00Z", "--set", "alternate_dir=" + dir}, state...), exitOK},
		{append([]string{"workflows/fault_tolerant.yaml", "--scenario", "network", "--seed", "14", "--set", "alternate_dir=" + dir}, state...), exitOK},
		{append([]string{"testdata/valid/durable.yaml", "--scenario", "broken"}, state...), exitFailed},
	}
	for _, s := range steps {
		out, errOut, code := kgrun(t, s.args...)
		if code != s.code {
			t.Fatalf("kgrun %v: exit %d, want %d\n%s%s", s.args, code, s.code, out, errOut)
		}
	}
	out, errOut, code := kgrun(t, "resume", "3", "testdata/valid/durable.yaml", "--state", db, "--scenario", "none", "--no-color")
	if code != exitOK || !strings.Contains(out, "Resumed: redriving from visit 2 (process)") || !strings.Contains(out, "Status: SUCCESS") ||
		!strings.Contains(out, "collect 1 · process 1 · deliver 1 · done 1") {
		t.Fatalf("redrive: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = kgrun(t, "resume", "3", "testdata/valid/durable.yaml", "--state", db)
	if code != exitUsage || !strings.Contains(errOut, "run 3 is success and its last visit ended it: there is nothing to resume") {
		t.Fatalf("resuming a finished run: exit %d, %s", code, errOut)
	}

	root, _ := filepath.Abs("../..")
	started := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	clean := func(s string) string {
		return started.ReplaceAllString(strings.NewReplacer(dir, "$TMP", root, "$ROOT").Replace(s), "$$START")
	}
	out, errOut, code = kgrun(t, "runs", "--state", db)
	if code != exitOK {
		t.Fatalf("runs: exit %d %s", code, errOut)
	}
	checkGolden(t, "runs.txt", clean(out))
	for _, id := range []string{"2", "3"} {
		out, errOut, code = kgrun(t, "show", id, "--state", db)
		if code != exitOK {
			t.Fatalf("show %s: exit %d %s", id, code, errOut)
		}
		checkGolden(t, "show_"+id+".txt", clean(out))
	}
}

// TestResumeRefusesChangedWorkflow: a run whose workflow gained or lost an edge since it
// started is not resumed; the message names what changed.
func TestResumeRefusesChangedWorkflow(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	src, err := os.ReadFile("../../testdata/valid/durable.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "durable.yaml")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, code := kgrun(t, file, "--scenario", "broken", "--virtual-time", "--state", db); code != exitFailed {
		t.Fatalf("exit %d", code)
	}
	changed := strings.Replace(string(src), "on: {success: deliver}", "on: {success: done}", 1)
	changed = strings.Replace(changed, "  deliver:\n    type: delivery\n    on: {success: done, delivery_failed: done}\n", "", 1)
	changed = strings.Replace(changed, "path: [collect, process, deliver, done]", "path: [collect, process, done]", 1)
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := kgrun(t, "resume", "1", file, "--state", db)
	want := file + ": the workflow changed since run 1 started: it no longer has: node deliver: type delivery"
	if code != exitUsage || !strings.Contains(errOut, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant %q", code, errOut, want)
	}
	// A change that keeps the graph (a param) is fine.
	if err := os.WriteFile(file, []byte(strings.Replace(string(src), "batch_size: 5", "batch_size: 6", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := kgrun(t, "resume", "1", file, "--state", db, "--scenario", "none"); code != exitOK {
		t.Fatalf("resume after a param change: exit %d\n%s%s", code, out, errOut)
	}
}

// TestStoreShared: while this process holds the store open in the middle of a run,
// kgrun processes run, list and show at once; nothing waits for the holder to close it.
func TestStoreShared(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	held, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	m := &store.RunMeta{RunInfo: store.RunInfo{Workflow: "elsewhere", Started: time.Now()}, RunProgress: store.RunProgress{Status: store.StatusRunning}}
	if err := held.CreateRun(m); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"testdata/valid/durable.yaml", "--virtual-time", "--state", db},
		{"runs", "--state", db},
		{"show", "2", "--state", db},
	} {
		out, errOut, code := kgrun(t, args...)
		if code != exitOK {
			t.Errorf("kgrun %v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	out, _, _ := kgrun(t, "runs", "--state", db)
	if !regexp.MustCompile(`1 +elsewhere +running +real`).MatchString(out) {
		t.Errorf("a run this process runs is not listed as running:\n%s", out)
	}
	_, errOut, code := kgrun(t, "resume", "1", "testdata/valid/durable.yaml", "--state", db)
	if code != exitUsage || !strings.Contains(errOut, "run 1 is running in process") {
		t.Errorf("resuming a run another process runs: exit %d, %s", code, errOut)
	}
}

// TestResumeFromChosenVisit reruns a successful run from its third visit: the visits
// before it are kept, the rest run again; a visit the run never made is refused.
func TestResumeFromChosenVisit(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	if out, errOut, code := kgrun(t, "testdata/valid/durable.yaml", "--virtual-time", "--state", db); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := kgrun(t, "resume", "1", "testdata/valid/durable.yaml", "--from", "3", "--state", db, "--no-color")
	if code != exitOK || !strings.Contains(out, "Resumed: rerunning from visit 3 (deliver)") ||
		!strings.Contains(out, "collect 1 · process 1 · deliver 1 · done 1") || !strings.Contains(out, "4. done") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = kgrun(t, "resume", "1", "testdata/valid/durable.yaml", "--scenario", "brokn", "--state", db)
	if code != exitUsage || !strings.Contains(errOut, `unknown scenario "brokn"; did you mean "broken"?`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, errOut, code = kgrun(t, "resume", "1", "testdata/valid/durable.yaml", "--from", "9", "--state", db)
	if code != exitUsage || !strings.Contains(errOut, "run 1 has committed visits 1 to 4; --from takes one of them") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// TestRunsFilterAndPrune: kgrun runs selects by workflow, status and limit; kgrun runs
// prune removes runs and says what it freed.
func TestRunsFilterAndPrune(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	for _, args := range [][]string{
		{"testdata/valid/durable.yaml", "--virtual-time"},
		{"testdata/valid/durable.yaml", "--virtual-time", "--scenario", "broken"},
		{"workflows/fault_tolerant.yaml", "--virtual-time", "--set", "alternate_dir=" + dir},
	} {
		kgrun(t, append(args, "--state", db)...)
	}
	ids := func(args ...string) string {
		t.Helper()
		out, errOut, code := kgrun(t, append([]string{"runs", "--state", db, "--format", "json"}, args...)...)
		if code != exitOK {
			t.Fatalf("runs %v: exit %d %s", args, code, errOut)
		}
		var rows []struct {
			ID        string
			Simulated bool
		}
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			if !r.Simulated {
				t.Errorf("run %s is not marked simulated", r.ID)
			}
			got = append(got, r.ID)
		}
		return strings.Join(got, " ")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "3 2 1"},
		{[]string{"--workflow", "durable"}, "2 1"},
		{[]string{"--status", "failed"}, "2"},
		{[]string{"--limit", "1"}, "3"},
		{[]string{"--since", "1h"}, "3 2 1"},
		{[]string{"--until", "2020-01-01T00:00:00Z"}, ""},
	} {
		if got := ids(c.args...); got != c.want {
			t.Errorf("runs %v: %q, want %q", c.args, got, c.want)
		}
	}
	for _, args := range [][]string{{"runs", "--status", "fine"}, {"runs", "--since", "yesterday"}, {"runs", "prune"}, {"runs", "prune", "--older-than", "soon"}} {
		if _, _, code := kgrun(t, append(args, "--state", db)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	out, errOut, code := kgrun(t, "runs", "prune", "--keep", "1", "--state", db)
	if code != exitOK || !regexp.MustCompile(`^Removed 2 runs \(\d+ checkpoints, \d+ trace events\) from .*; the store went from [\d.]+ KiB to [\d.]+ KiB\.\n$`).MatchString(out) {
		t.Fatalf("prune: exit %d\n%s%s", code, out, errOut)
	}
	if got := ids(); got != "3" {
		t.Errorf("after prune --keep 1: %q", got)
	}
}
