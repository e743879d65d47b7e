package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// buildKgrun builds the real binary once per test, for tests that need a process.
func buildKgrun(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kgrun")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startStuck starts a run that hangs in process and waits until the trace shows it
// hanging, so the signal arrives mid-run without guessing at timing.
func startStuck(t *testing.T, bin string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	cmd := exec.Command(bin, "../../testdata/valid/interrupt.yaml", "--scenario", "stuck", "--trace", trace, "--no-color")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitForTrace(t, cmd, trace, `"fault_injected"`)
	return cmd, &stdout, &stderr
}

func exitCodeOf(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return ee.ExitCode()
}

func TestSignalStopsAtSafePoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildKgrun(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd, stdout, stderr := startStuck(t, bin)
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		code := exitCodeOf(t, cmd.Wait())
		out := stdout.String()
		if code != exitInterrupted || !strings.Contains(out, "Status: CANCELED") || !strings.Contains(out, "error_handler") ||
			!strings.Contains(out, "canceled; cleaned up records") || !strings.Contains(stderr.String(), "interrupt again to exit at once") {
			t.Fatalf("%v: exit %d\n--- stdout ---\n%s--- stderr ---\n%s", sig, code, out, stderr)
		}
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildKgrun(t)
	cmd, _, stderr := startStuck(t, bin)
	// Two signals back to back: the second must end the process even if the first has
	// not finished the run.
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Process.Signal(syscall.SIGINT)
	code := exitCodeOf(t, cmd.Wait())
	if code != exitInterrupted {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}
