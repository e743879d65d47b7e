package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/internal/golden"
)

const flagship = "../../workflows/fault_tolerant.yaml"

// kgrun runs the CLI in-process from the repository root, so file names in its output
// read as a user would see them.
func kgrun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir("../.."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("../../testdata/golden", name), got)
}

// scenarioRuns are the golden runs: the clean run and each scenario at a seed that shows
// its degraded path.
var scenarioRuns = []struct{ name, scenario, seed string }{
	{"clean", "", "1"},
	{"network", "network", "14"},
	{"processing", "processing", "42"},
	{"storage", "storage", "4"},
	{"random", "random", "14"},
}

func TestGoldenRuns(t *testing.T) {
	for _, r := range scenarioRuns {
		t.Run(r.name, func(t *testing.T) {
			dir := t.TempDir()
			trace := filepath.Join(dir, "trace.jsonl")
			args := []string{"workflows/fault_tolerant.yaml", "--virtual-time", "--seed", r.seed, "--set", "alternate_dir=" + dir}
			if r.scenario != "" {
				args = append(args, "--scenario", r.scenario)
			}
			text, stderr, code := kgrun(t, append(args, "--trace", trace)...)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			checkGolden(t, "run_"+r.name+".txt", strings.ReplaceAll(text, dir, "$TMP"))
			js, _, _ := kgrun(t, append(args, "--format", "json")...)
			checkGolden(t, "run_"+r.name+".json", strings.ReplaceAll(js, dir, "$TMP"))
			tr, err := os.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "trace_"+r.name+".jsonl", string(tr))
		})
	}
}

// TestGoldenGraph: the flagship's graph, and composition's: fan_out.yaml's map body and
// branches as subgraphs and clusters, and a map nested in a parallel branch.
func TestGoldenGraph(t *testing.T) {
	for _, c := range []struct{ file, golden string }{
		{"workflows/fault_tolerant.yaml", "graph"},
		{"workflows/fan_out.yaml", "graph_fan_out"},
		{"testdata/valid/nested_fanout.yaml", "graph_nested_fanout"},
	} {
		for _, format := range []string{"mermaid", "dot"} {
			out, stderr, code := kgrun(t, "graph", c.file, "--format", format)
			if code != exitOK || stderr != "" {
				t.Fatalf("%s %s: exit %d, %s", c.file, format, code, stderr)
			}
			checkGolden(t, c.golden+"."+format, out)
		}
	}
}

func TestGoldenValidateInvalidCorpus(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/invalid/*.yaml")
	args := []string{"validate"}
	for _, f := range files {
		args = append(args, strings.TrimPrefix(f, "../../"))
	}
	out, _, code := kgrun(t, args...)
	if code != exitUsage {
		t.Fatalf("validate of the invalid corpus exited %d, want 2", code)
	}
	checkGolden(t, "validate_invalid.txt", out)
	if n := strings.Count(out, ": invalid ("); n != len(files) {
		t.Fatalf("%d files reported invalid, want %d", n, len(files))
	}
}

func TestSeedsChangeTheNetworkPath(t *testing.T) {
	via, direct := 0, 0
	first := map[string]string{}
	for seed := 1; seed <= 40; seed++ {
		out, _, code := kgrun(t, "workflows/fault_tolerant.yaml", "--simulate-failures", "--failure-type", "network",
			"--seed", fmt.Sprint(seed), "--virtual-time")
		if code != exitOK {
			t.Fatalf("seed %d: exit %d", seed, code)
		}
		if strings.Contains(out, "fallback_data") {
			via++
		} else {
			direct++
		}
		first[fmt.Sprint(seed)] = out
	}
	if via == 0 || direct == 0 {
		t.Fatalf("network scenario: %d seeds via fallback_data, %d without; want some of each", via, direct)
	}
	again, _, _ := kgrun(t, "workflows/fault_tolerant.yaml", "--seed", "14", "--simulate-failures", "--failure-type", "network", "--virtual-time")
	if again != first["14"] {
		t.Fatalf("seed 14 printed different bytes on a second run")
	}
}

var collectCalls = regexp.MustCompile(`Calls: collect (\d+)`)

func TestBreakersReduceCallsToAFailingSource(t *testing.T) {
	calls := func(breakers string) int {
		out, _, _ := kgrun(t, "workflows/fault_tolerant.yaml", "--scenario", "network", "--runs", "50", "--virtual-time",
			"--breakers", breakers, "--set", "alternate_dir="+t.TempDir())
		m := collectCalls.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no collect calls in the summary:\n%s", out)
		}
		var n int
		fmt.Sscan(m[1], &n)
		return n
	}
	on, off := calls("on"), calls("off")
	if on >= off {
		t.Fatalf("collect called %d times with breakers on, %d with them off; want fewer with them on", on, off)
	}
}

// TestNoScenarioEndsUnhandled runs every scenario at many seeds: none may end with an
// unhandled error, a panic or a failed status.
func TestNoScenarioEndsUnhandled(t *testing.T) {
	for _, sc := range []string{"network", "processing", "storage", "random"} {
		out, stderr, code := kgrun(t, "workflows/fault_tolerant.yaml", "--scenario", sc, "--runs", "200", "--virtual-time",
			"--set", "alternate_dir="+t.TempDir())
		if code != exitOK || !strings.Contains(out, "failed 0") || stderr != "" {
			t.Fatalf("scenario %s: exit %d\n%s%s", sc, code, out, stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"workflows/fault_tolerant.yaml", "--simulate-failure"}, "unknown flag --simulate-failure; did you mean --simulate-failures?"},
		{[]string{"workflows/fault_tolerant.yaml", "--scenario", "netwrk"}, `unknown scenario "netwrk"; did you mean "network"?`},
		{[]string{"valdate", "x.yaml"}, `unknown command "valdate"; did you mean "validate"?`},
		{[]string{"workflows/fault_tolerant.yaml", "--breakers", "maybe"}, "--breakers takes on or off"},
		{[]string{"workflows/fault_tolerant.yaml", "--set", "novalue"}, "write KEY=VALUE"},
		{[]string{"graph", "workflows/fault_tolerant.yaml", "--format", "png"}, "--format takes mermaid, dot, svg or html"},
		{[]string{"testdata/invalid/attempts_zero.yaml"}, "testdata/invalid/attempts_zero.yaml:7:23: error"},
		{[]string{"missing.yaml"}, "cannot read workflow"},
		{[]string{}, "Usage:"},
	}
	for _, c := range cases {
		_, stderr, code := kgrun(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("kgrun %v: exit %d, stderr %q; want exit 2 mentioning %q", c.args, code, stderr, c.want)
		}
	}
}

func TestFailedRunExitsOne(t *testing.T) {
	// A bad processing param is a data error: no edge or fallback takes it, so the error
	// handler classifies it, cleans up and fails the run.
	out, _, code := kgrun(t, "workflows/fault_tolerant.yaml", "--virtual-time", "--set", "record_failure_rate=2")
	if code != exitFailed || !strings.Contains(out, "Status: FAILED") || !strings.Contains(out, "error_handler") ||
		!strings.Contains(out, "cleaned up records") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestCommandsAndHelp(t *testing.T) {
	out, _, code := kgrun(t, "schema")
	if code != exitOK || !strings.Contains(out, `"$schema": "https://json-schema.org/draft/2020-12/schema"`) {
		t.Fatalf("schema: exit %d", code)
	}
	for _, cmd := range []string{"run", "validate", "graph", "test", "schema"} {
		out, _, code := kgrun(t, "help", cmd)
		if code != exitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("help %s: exit %d\n%s", cmd, code, out)
		}
	}
	out, _, _ = kgrun(t, "help", "run")
	for _, f := range []string{"--simulate-failures", "--failure-type", "--enable-circuit-breaker", "--test-recovery", "--demo-circuit-breaker", "--verbose", "--runs", "--trace"} {
		if !strings.Contains(out, f) {
			t.Errorf("help run does not document %s", f)
		}
	}
	out, _, code = kgrun(t, "workflows/fault_tolerant.yaml", "--test-recovery")
	if code != exitOK || !strings.Contains(out, "6 passed, 0 failed") {
		t.Fatalf("--test-recovery: exit %d\n%s", code, out)
	}
	out, _, code = kgrun(t, "--demo-circuit-breaker", "--seed", "3")
	if code != exitOK {
		t.Fatalf("demo: exit %d", code)
	}
	checkGolden(t, "demo_circuit_breaker.txt", out)
}

// TestMain keeps the CLI tests (and the processes they start) off any store unless a
// test names one, and points HOME and XDG_STATE_HOME at a directory of their own so that
// no test can reach the real home's default store.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "kgrun-test-home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("HOME", home)
	os.Setenv("XDG_STATE_HOME", filepath.Join(home, "state"))
	os.Setenv(stateEnv, "none")
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// TestShippedWorkflowTestsPass runs the tests every shipped workflow declares.
func TestShippedWorkflowTestsPass(t *testing.T) {
	files, _ := filepath.Glob("../../workflows/*.yaml")
	more, _ := filepath.Glob("../../testdata/valid/*.yaml")
	for _, f := range append(files, more...) {
		rel := strings.TrimPrefix(f, "../../")
		out, stderr, code := kgrun(t, "test", rel)
		if code != exitOK && !strings.Contains(stderr, "declares no tests") {
			t.Errorf("kgrun test %s: exit %d\n%s%s", rel, code, out, stderr)
		}
	}
}
