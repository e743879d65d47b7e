package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/store"
)

// TestKilledMapResumesUnfinishedItems (KGRUN_SLOW=1) kills kgrun with SIGKILL in the
// middle of a map of 1,000 items, when 999 have ended and one waits, then resumes the
// run in a new process: only the unfinished item runs, and the output is the one an
// uninterrupted run gives.
func TestKilledMapResumesUnfinishedItems(t *testing.T) {
	if os.Getenv("KGRUN_SLOW") == "" {
		t.Skip("set KGRUN_SLOW=1 to kill a run in a map of 1,000 items and resume it")
	}
	start := time.Now()
	bin := buildKgrun(t)
	t.Logf("built kgrun in %s", time.Since(start).Round(time.Millisecond))
	dir := t.TempDir()
	db, gate := filepath.Join(dir, "state.db"), filepath.Join(dir, "go")
	trace1, trace2 := filepath.Join(dir, "first.jsonl"), filepath.Join(dir, "second.jsonl")
	file := "../../testdata/valid/big_map.yaml"
	cmd := exec.Command(bin, file, "--state", db, "--set", "gate="+gate, "--trace", trace1, "--no-color")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the store holds 999 items of the map's visit (visit 1).
	deadline := time.Now().Add(2 * time.Minute)
	for done := 0; done < 999; {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("only %d items were journaled", done)
		}
		time.Sleep(20 * time.Millisecond)
		done = countItems(t, db)
	}
	t.Logf("999 items journaled after %s: killing the run", time.Since(start).Round(time.Millisecond))
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if n := countItems(t, db); n != 999 {
		t.Fatalf("%d items journaled at the kill, want 999 (item 600 waits)", n)
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runBin(t, bin, "resume", "1", file, "--state", db, "--trace", trace2, "--no-color")
	if code != exitOK {
		t.Fatalf("resume: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("resumed after %s", time.Since(start).Round(time.Millisecond))
	data, err := os.ReadFile(trace2)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), `"event":"scope_start"`); n != 1 || !strings.Contains(string(data), `"scope":"fan[600]"`) {
		t.Errorf("the resumed process ran %d items; only fan[600] had not ended", n)
	}
	for _, want := range []string{"Status: SUCCESS", "items  1000", "sum    1498500"} {
		if !strings.Contains(out, want) {
			t.Errorf("resumed report lacks %q:\n%s", want, out)
		}
	}
	// The uninterrupted run gives the same output.
	whole, _, code := runBin(t, bin, file, "--state", "none", "--no-color")
	if code != exitOK || !strings.Contains(whole, "sum    1498500") {
		t.Errorf("uninterrupted run: exit %d\n%s", code, whole)
	}
}

func countItems(t *testing.T, db string) int {
	t.Helper()
	s, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		return 0 // not created yet
	}
	defer s.Close()
	n := 0
	if err := s.Items("1", 1, func(*engine.ItemRecord) error { n++; return nil }); err != nil {
		return 0
	}
	return n
}
