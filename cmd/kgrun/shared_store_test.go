package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestManyProcessesShareOneStore (KGRUN_SLOW=1): 8 writers, each starting 50 flagship
// runs one after another as separate kgrun processes, share one store with a reader
// polling kgrun runs and kgrun show, and with a ninth run that hangs and is killed with
// SIGKILL. All 400 runs are recorded whole, nothing reports the store busy, and the
// killed run is listed as crashed and resumes to success.
func TestManyProcessesShareOneStore(t *testing.T) {
	if os.Getenv("KGRUN_SLOW") == "" {
		t.Skip("set KGRUN_SLOW=1 to run 8 writer processes x 50 flagship runs on one store")
	}
	const writers, perWriter = 8, 50
	bin := buildKgrun(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	run := func(args ...string) (string, string, int, error) {
		cmd := exec.Command(bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), errb.String(), ee.ExitCode(), nil
		}
		return out.String(), errb.String(), 0, err
	}

	// The run to kill: it hangs in process on the real clock, after committing collect.
	trace := filepath.Join(dir, "stuck.jsonl")
	stuck := exec.Command(bin, "../../testdata/valid/durable.yaml", "--scenario", "stuck", "--state", db, "--trace", trace)
	var stuckErr bytes.Buffer
	stuck.Stderr = &stuckErr
	if err := stuck.Start(); err != nil {
		t.Fatal(err)
	}

	var failures []string
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	var done atomic.Bool
	var polls atomic.Int64
	var readers sync.WaitGroup
	readers.Add(1)
	go func() { // the reader: lists and shows while the writers write
		defer readers.Done()
		for !done.Load() {
			out, errOut, code, err := run("runs", "--state", db, "--format", "json", "--limit", "5")
			if err != nil || code != exitOK {
				fail("kgrun runs: exit %d, %v: %s", code, err, errOut)
				continue
			}
			var rows []struct{ ID string }
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				fail("kgrun runs printed %q: %v", out, err)
				continue
			}
			if len(rows) > 0 {
				if _, errOut, code, err := run("show", rows[0].ID, "--state", db); err != nil || code != exitOK {
					fail("kgrun show %s: exit %d, %v: %s", rows[0].ID, code, err, errOut)
				}
			}
			polls.Add(1)
		}
	}()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				seed := strconv.Itoa(w*perWriter + i + 1)
				args := []string{"../../workflows/fault_tolerant.yaml", "--state", db, "--seed", seed, "--set", "alternate_dir=" + dir}
				if i%2 == 1 { // half simulated, half real runs sharing breakers and caches
					args = append(args, "--scenario", "network", "--virtual-time")
				}
				_, errOut, code, err := run(args...)
				if err != nil || code != exitOK || errOut != "" {
					fail("writer %d run %d: exit %d, %v: %s", w, i, code, err, errOut)
				}
			}
		}()
	}
	waitForTrace(t, stuck, trace, `"fault_injected"`)
	if err := stuck.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = stuck.Wait()
	wg.Wait()
	done.Store(true)
	readers.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	for _, f := range failures {
		if strings.Contains(f, "busy") || strings.Contains(f, "locked") {
			t.Fatalf("a process found the store busy: %s", f)
		}
	}

	out, errOut, code, err := run("runs", "--state", db, "--format", "json")
	if err != nil || code != exitOK {
		t.Fatalf("runs: exit %d %v %s", code, err, errOut)
	}
	var rows []struct {
		ID, Workflow, Status string
		Visits               int
	}
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	killed := ""
	for _, r := range rows {
		if r.Workflow == "durable" {
			killed = r.ID
			if r.Status != "crashed" {
				t.Errorf("the killed run %s is %s, not crashed", r.ID, r.Status)
			}
			continue
		}
		count[r.Status]++
		if r.Visits < 4 {
			t.Errorf("run %s has %d visits", r.ID, r.Visits)
		}
	}
	if count["success"]+count["degraded"] != writers*perWriter {
		t.Errorf("statuses %v: want %d successful or degraded runs", count, writers*perWriter)
	}
	if out, errOut, code, _ := run("store", "check", "--state", db); code != exitOK {
		t.Errorf("store check: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code, _ = run("resume", killed, "../../testdata/valid/durable.yaml", "--state", db, "--scenario", "none", "--no-color")
	if code != exitOK || !strings.Contains(out, "Resumed: continuing at process after visit 1") || !strings.Contains(out, "Status: SUCCESS") {
		t.Errorf("resuming the killed run %s: exit %d\n%s%s", killed, code, out, errOut)
	}
	t.Logf("ran %d writers x %d flagship runs and one killed run on one store; the reader polled runs and show %d times; statuses %v",
		writers, perWriter, polls.Load(), count)
}
