package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestExprLimitsCLI: expressions that take too many steps or bytes end the run at once
// with an error of kind limit naming the expression's position, through run and test;
// those whose cost shows in their text are refused at load with exit 2.
func TestExprLimitsCLI(t *testing.T) {
	const file = "testdata/limits/expr_runtime.yaml"
	out, stderr, code := kgrun(t, "test", file)
	if code != exitFailed {
		t.Errorf("kgrun test: exit %d, want %d; stderr:\n%s", code, exitFailed, stderr)
	}
	checkGolden(t, "expr_limits_test.txt", out)

	for place, at := range map[string]string{"guard": ":21:101:", "when": ":14:69:", "assert": ":16:90:", "set": ":18:70:"} {
		out, stderr, code := kgrun(t, file, "--virtual-time", "--state", "none", "--set", "place="+place)
		if code != exitFailed || !strings.Contains(out, "(limit)") || !strings.Contains(out, file+at) || !strings.Contains(out, "limits.expr_") {
			t.Errorf("place %s: exit %d, want %d and a limit error at %s%s\n--- stdout ---\n%s--- stderr ---\n%s", place, code, exitFailed, file, at, out, stderr)
		}
	}

	const costly = "testdata/invalid/expr_too_costly.yaml"
	for _, args := range [][]string{{"validate", costly}, {"test", costly}, {costly, "--virtual-time", "--state", "none"}} {
		out, stderr, code := kgrun(t, args...)
		all := out + stderr
		if code != exitUsage || !strings.Contains(all, costly+":11:37: error") || !strings.Contains(all, "limits.expr_steps") {
			t.Errorf("kgrun %v: exit %d, want %d and the load error\n%s", args, code, exitUsage, all)
		}
	}
}

// TestSignalStopsExpression: SIGINT reaches an expression in the middle of a hundred
// million steps; the run ends canceled with exit 130 instead of running to its limit.
func TestSignalStopsExpression(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildKgrun(t)
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	cmd := exec.Command(bin, "../../testdata/limits/expr_slow.yaml", "--trace", trace, "--format", "json", "--state", "none")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The guard is evaluated right after the node ends.
	waitForTrace(t, cmd, trace, `"node_end"`)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := exitCodeOf(t, cmd.Wait())
	var res struct {
		Status string
		Path   []struct {
			Node, Route string
			Failure     struct{ Kind, Message string }
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v\n%s", err, &stdout)
	}
	// Interrupted inside the guard: the visit ends there, not along the guarded edge.
	if code != exitInterrupted || res.Status != "canceled" || len(res.Path) != 1 || res.Path[0].Route != "canceled" ||
		!strings.Contains(res.Path[0].Failure.Message, `expression "let r = 1..params.side; all(r, {all(r, {true})})" failed: interrupted`) {
		t.Fatalf("exit %d\n--- stdout ---\n%s--- stderr ---\n%s", code, &stdout, &stderr)
	}
}

// TestParamTemplatesInTrace: ${{ }} params are evaluated per visit and their values are
// in the trace's params events.
func TestParamTemplatesInTrace(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	_, stderr, code := kgrun(t, "testdata/valid/templates.yaml", "--virtual-time", "--trace", trace)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, `"event":"params"`) {
			got.WriteString(line + "\n")
		}
	}
	checkGolden(t, "templates_params_events.jsonl", got.String())
}
