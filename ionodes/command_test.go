package ionodes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// The test binary doubles as a helper program: with KGRUN_IONODES_HELPER set it does
// what the variable names and exits, instead of running tests.
func TestMain(m *testing.M) {
	switch os.Getenv("KGRUN_IONODES_HELPER") {
	case "":
		os.Exit(m.Run())
	case "bigout":
		os.Stdout.Write(bytes.Repeat([]byte("x"), MaxCommandOutput+500))
		os.Stderr.WriteString("done")
		os.Exit(0)
	case "json":
		json.NewEncoder(os.Stdout).Encode(map[string]any{"args": os.Args[1:], "env": os.Getenv("GREETING")})
		os.Exit(0)
	case "true":
		os.Exit(0)
	}
	os.Exit(3)
}

func commandWorkflow(params, policy string) string {
	return fmt.Sprintf(`
version: 1
name: command-one
start: run
nodes:
  run:
    type: command
    params: {%s}
    %s
`, params, policy)
}

func helperParams(mode string, extra string) string {
	exe, _ := os.Executable()
	p := fmt.Sprintf(`argv: [%q, a, "b c"], env: {KGRUN_IONODES_HELPER: %s, GREETING: hi}`, exe, mode)
	if extra != "" {
		p += ", " + extra
	}
	return p
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, params string
		kind         engine.Kind
		check        func(t *testing.T, r *CommandResult)
		message      string
	}{
		{name: "stdout, stderr, stdin, dir", params: `argv: [/bin/sh, -c, 'cat; echo err >&2; pwd'], stdin: "in\n", dir: ` + strconv.Quote(dir),
			check: func(t *testing.T, r *CommandResult) {
				if r.Stdout != "in\n"+dir+"\n" || r.Stderr != "err\n" || r.ExitCode != 0 {
					t.Errorf("%+v", r)
				}
			}},
		{name: "json output", params: helperParams("json", "output: json"),
			check: func(t *testing.T, r *CommandResult) {
				b, _ := json.Marshal(r.JSON)
				if string(b) != `{"args":["a","b c"],"env":"hi"}` {
					t.Errorf("json %s", b)
				}
			}},
		{name: "output cut at 1 MiB with a note", params: helperParams("bigout", ""),
			check: func(t *testing.T, r *CommandResult) {
				want := fmt.Sprintf("[stdout cut at %d bytes: 500 more dropped]", MaxCommandOutput)
				if !strings.HasSuffix(r.Stdout, want) || len(r.Stdout) != MaxCommandOutput+1+len(want) || r.Stderr != "done" {
					t.Errorf("stdout of %d bytes ending %q, stderr %q", len(r.Stdout), r.Stdout[len(r.Stdout)-60:], r.Stderr)
				}
			}},
		{name: "json output cut is data", params: helperParams("bigout", "output: json"), kind: engine.Data, message: "longer than"},
		{name: "json output that is not", params: `argv: [/bin/echo, nope], output: json`, kind: engine.Data, message: "not JSON"},
		{name: "exit code 1 is failed", params: `argv: [/bin/sh, -c, 'echo why >&2; exit 1']`, kind: engine.Failed, message: "exited with code 1: why"},
		{name: "exit code mapped to a kind", params: `argv: [/bin/sh, -c, 'exit 75'], exit_codes: {75: resource}`, kind: engine.Resource, message: "code 75"},
		{name: "exit code mapped to success", params: `argv: [/bin/sh, -c, 'exit 2'], exit_codes: {2: success}`,
			check: func(t *testing.T, r *CommandResult) {
				if r.ExitCode != 2 {
					t.Errorf("exit code %d", r.ExitCode)
				}
			}},
		{name: "zero mapped to a failure", params: helperParams("true", "exit_codes: {0: data}"), kind: engine.Data, message: "code 0"},
		{name: "no such program", params: `argv: [/nonexistent/program]`, kind: engine.Data, message: "start /nonexistent/program"},
		{name: "unknown kind", params: `argv: [/bin/true], exit_codes: {1: flaky}`, kind: engine.Data, message: `maps to "flaky"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, _ := runReal(t, load(t, commandWorkflow(c.params, "")), engine.RunOptions{})
			if c.kind == "" {
				if res.Status != engine.StatusSuccess {
					t.Fatalf("status %s: %v", res.Status, res.Failures)
				}
				c.check(t, res.Shared["run"].(*CommandResult))
				return
			}
			if len(res.Failures) != 1 || res.Failures[0].Kind != c.kind || !strings.Contains(res.Failures[0].Error(), c.message) {
				t.Errorf("failures %v, want one of kind %s containing %q", res.Failures, c.kind, c.message)
			}
		})
	}
}

// TestCommandTimeoutEndsProcessGroup runs a shell that ignores SIGTERM and starts a
// child that ignores it too; the node's timeout must end both (SIGTERM, then SIGKILL
// after kill_grace) and leave nothing of the process group running.
func TestCommandTimeoutEndsProcessGroup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads process groups from /proc")
	}
	dir := t.TempDir()
	script := `trap '' TERM
sh -c 'trap "" TERM; echo $$ > "$1/child"; while :; do sleep 0.05; done' _ "$1" &
echo $$ > "$1/parent"
while :; do sleep 0.05; done`
	params := fmt.Sprintf(`argv: [/bin/sh, -c, %q, _, %q], kill_grace: 200ms`, script, dir)
	g := load(t, commandWorkflow(params, "timeout: 1s")) // long enough for both to start on a loaded machine
	start := time.Now()
	res, _ := runReal(t, g, engine.RunOptions{})
	if len(res.Failures) != 1 || res.Failures[0].Kind != engine.Timeout {
		t.Fatalf("failures %v, want one timeout", res.Failures)
	}
	pgid := readPID(t, filepath.Join(dir, "parent"))
	child := readPID(t, filepath.Join(dir, "child"))
	deadline := time.Now().Add(10 * time.Second)
	for groupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if groupAlive(pgid) {
		t.Fatalf("process group %d still has live members (child %d) %s after the timeout", pgid, child, time.Since(start))
	}
	t.Logf("group %d (parent and child %d) gone %s after the run started", pgid, child, time.Since(start).Round(time.Millisecond))
}

// pidWritten reports whether path holds a whole line, as echo writes a pid.
func pidWritten(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.HasSuffix(string(b), "\n")
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the script did not start: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// groupAlive reports whether any process in group pgid is alive (zombies, which only wait
// to be reaped, do not count).
func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces, so split after ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			return true
		}
	}
	return false
}

// TestCommandCancelEndsProcessGroup cancels the run while a shell and its child run.
func TestCommandCancelEndsProcessGroup(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads process groups from /proc")
	}
	dir := t.TempDir()
	script := `sh -c 'echo $$ > "$1/child"; while :; do sleep 0.05; done' _ "$1" &
echo $$ > "$1/parent"
wait`
	params := fmt.Sprintf(`argv: [/bin/sh, -c, %q, _, %q], kill_grace: 200ms`, script, dir)
	g := load(t, commandWorkflow(params, ""))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *engine.Result, 1)
	go func() {
		res, err := g.Run(ctx, engine.RunOptions{})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) { // the shell writes parent after starting the child
		// A file exists as soon as the shell opens it, before its pid is written.
		if pidWritten(filepath.Join(dir, "child")) && pidWritten(filepath.Join(dir, "parent")) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	pgid := readPID(t, filepath.Join(dir, "parent"))
	cancel()
	res := <-done
	if res.Status != engine.StatusCanceled {
		t.Errorf("status %s, want canceled", res.Status)
	}
	for groupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if groupAlive(pgid) {
		t.Fatalf("process group %d outlived the canceled run", pgid)
	}
}
