package main

import (
	"runtime"
	"strings"
	"testing"
)

// TestRunsOnVirtualTimeAreTheSameAtAnyConcurrency: --runs on virtual time simulates the
// runs on one discrete-event clock, so the summary is the same bytes at any --concurrency
// and GOMAXPROCS; with --interval the runs arrive spread out, so the shared breaker opens
// in a burst of failures and closes again within the simulation.
func TestRunsOnVirtualTimeAreTheSameAtAnyConcurrency(t *testing.T) {
	var first string
	for i, c := range []string{"1", "8", "64", "8"} {
		prev := runtime.GOMAXPROCS([]int{1, 2, 8, 1}[i])
		out, errOut, code := kgrun(t, "workflows/fault_tolerant.yaml", "--runs", "300", "--concurrency", c, "--virtual-time",
			"--scenario", "network", "--interval", "2s", "--state", "none", "--no-color")
		runtime.GOMAXPROCS(prev)
		if code != exitOK {
			t.Fatalf("concurrency %s: exit %d\n%s%s", c, code, out, errOut)
		}
		if i == 0 {
			first = out
			for _, want := range []string{"300 runs, one every 2s", "closed → open", "half_open → closed"} {
				if !strings.Contains(out, want) {
					t.Errorf("summary lacks %q:\n%s", want, out)
				}
			}
			continue
		}
		if out != first {
			t.Fatalf("concurrency %s differs from concurrency 1:\n%s\n---\n%s", c, out, first)
		}
	}
	_, errOut, code := kgrun(t, "workflows/fault_tolerant.yaml", "--runs", "3", "--interval", "1s", "--state", "none")
	if code != exitUsage || !strings.Contains(errOut, "--interval spaces the runs of --runs N on virtual time") {
		t.Errorf("--interval without --virtual-time: exit %d\n%s", code, errOut)
	}
}

// TestRunsOnVirtualTimeFillABulkhead: runs that arrive together on virtual time overlap,
// so a bulkhead shared by the runs fills and refuses the ones that wait too long.
func TestRunsOnVirtualTimeFillABulkhead(t *testing.T) {
	out, errOut, code := kgrun(t, "testdata/valid/bulkhead_runs.yaml", "--runs", "5", "--virtual-time", "--scenario", "slow", "--state", "none", "--no-color")
	if code != exitFailed {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "success 2 · degraded 0 · failed 3") {
		t.Errorf("two runs get a slot, three are refused:\n%s", out)
	}
}
