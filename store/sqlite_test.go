package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

func openTemp(t testing.TB) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "state.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func checkpoint(seq int, node, next string) EncodedCheckpoint {
	data, _ := json.Marshal(&engine.Checkpoint{Seq: seq, Step: engine.Step{Node: node, Visit: 1}, Next: next})
	return EncodedCheckpoint{Seq: seq, Data: data}
}

func seqs(t *testing.T, s Store, id string, through int) string {
	t.Helper()
	var out []string
	if err := s.Checkpoints(id, through, func(cp *engine.Checkpoint) error {
		out = append(out, fmt.Sprintf("%d:%s", cp.Seq, cp.Step.Node))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

func newRun(t testing.TB, s Store, workflow, status string, started time.Time) string {
	t.Helper()
	m := &RunMeta{RunInfo: RunInfo{Workflow: workflow, Started: started}, RunProgress: RunProgress{Status: status}}
	if err := s.CreateRun(m); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func TestRunsJournalAndState(t *testing.T) {
	s, _ := openTemp(t)
	var ids []string
	for range 3 {
		ids = append(ids, newRun(t, s, "w", StatusRunning, time.Now()))
	}
	if strings.Join(ids, ",") != "1,2,3" {
		t.Fatalf("ids %v", ids)
	}
	// Runs this process owns and is running are running, not crashed.
	runs, err := s.Runs(RunFilter{})
	if err != nil || len(runs) != 3 || runs[0].ID != "3" || StatusOf(runs[0]) != StatusRunning {
		t.Fatalf("runs %v, err %v", runs, err)
	}

	ev, _ := json.Marshal(engine.Event{Seq: 1, Kind: engine.EventRunStart, Node: "a"})
	err = s.Write(&Batch{RunID: "2", Progress: &RunProgress{Status: StatusRunning}, Checkpoints: []EncodedCheckpoint{checkpoint(1, "a", "b"), checkpoint(2, "b", "c"), checkpoint(3, "c", "")},
		Events: []json.RawMessage{ev, ev}, State: map[string]any{"breaker/w/api": map[string]int{"failures": 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(t, s, "2", 0); got != "1:a 2:b 3:c" {
		t.Fatalf("checkpoints %q", got)
	}
	if got := seqs(t, s, "2", 2); got != "1:a 2:b" {
		t.Fatalf("checkpoints through 2: %q", got)
	}
	if err := s.Write(&Batch{RunID: "2", Checkpoints: []EncodedCheckpoint{checkpoint(4, "y", "")}}); err == nil {
		t.Fatal("a batch appending to a journal without the run's progress was accepted")
	}
	if got := seqs(t, s, "1", 0); got != "" {
		t.Fatalf("run 1 has checkpoints %q", got)
	}
	// A redrive from visit 2 replaces what followed visit 1.
	if err := s.Write(&Batch{RunID: "2", Progress: &RunProgress{Status: StatusRunning}, Truncate: true, TruncateAfter: 1, Checkpoints: []EncodedCheckpoint{checkpoint(2, "x", "")}}); err != nil {
		t.Fatal(err)
	}
	if got := seqs(t, s, "2", 0); got != "1:a 2:x" {
		t.Fatalf("after truncation %q", got)
	}
	if last, err := s.LastCheckpoint("2"); err != nil || last.Seq != 2 || last.Step.Node != "x" {
		t.Fatalf("last checkpoint %+v, err %v", last, err)
	}
	if last, err := s.LastCheckpoint("1"); err != nil || last != nil {
		t.Fatalf("run 1's last checkpoint %+v, err %v", last, err)
	}
	if n, err := s.EventCount("2"); err != nil || n != 2 {
		t.Fatalf("event count %d, err %v", n, err)
	}
	n := 0
	if err := s.Events("2", func(e engine.Event) error { n++; return nil }); err != nil || n != 2 {
		t.Fatalf("%d events, err %v", n, err)
	}
	stop := errors.New("stop")
	if err := s.Events("2", func(e engine.Event) error { return stop }); err != stop {
		t.Fatalf("a caller's error came back as %v", err)
	}
	var st map[string]int
	if ok, err := s.State("breaker/w/api", &st); !ok || err != nil || st["failures"] != 2 {
		t.Fatalf("state %v %v %v", st, ok, err)
	}
	if ok, err := s.State("breaker/w/other", &st); ok || err != nil {
		t.Fatalf("absent state: ok %v err %v", ok, err)
	}
	for _, bad := range []string{"0", "x", "99", "-1"} {
		if _, err := s.Run(bad); !errors.Is(err, ErrNoRun) {
			t.Errorf("run %q: %v", bad, err)
		}
	}
}

// TestRunFilter: runs select by workflow, status, scenario and start time, newest
// first, paged by offset and limit.
func TestRunFilter(t *testing.T) {
	s, _ := openTemp(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, c := range []struct{ wf, status, scenario string }{{"a", "success", ""}, {"b", "failed", "network"}, {"a", "failed", "network"}, {"a", "success", ""}, {"b", "success", "slow"}} {
		m := &RunMeta{RunInfo: RunInfo{Workflow: c.wf, Scenario: c.scenario, Started: t0.Add(time.Duration(i) * time.Hour)}, RunProgress: RunProgress{Status: c.status}}
		if err := s.CreateRun(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		f    RunFilter
		want string
	}{
		{RunFilter{}, "5 4 3 2 1"},
		{RunFilter{Workflow: "a"}, "4 3 1"},
		{RunFilter{Status: "failed"}, "3 2"},
		{RunFilter{Workflow: "a", Status: "success"}, "4 1"},
		{RunFilter{Since: t0.Add(2 * time.Hour)}, "5 4 3"},
		{RunFilter{Until: t0.Add(2 * time.Hour)}, "2 1"},
		{RunFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour), Limit: 1}, "3"},
		{RunFilter{Limit: 2}, "5 4"},
		{RunFilter{Workflow: "c"}, ""},
		{RunFilter{Scenario: "network"}, "3 2"},
		{RunFilter{Scenario: NoScenario}, "4 1"},
		{RunFilter{Scenario: "network", Status: "failed", Workflow: "b"}, "2"},
		{RunFilter{Offset: 1, Limit: 2}, "4 3"},
		{RunFilter{Offset: 4, Limit: 2}, "1"},
		{RunFilter{Offset: 5}, ""},
		{RunFilter{Scenario: NoScenario, Offset: 1}, "1"},
	} {
		runs, err := s.Runs(c.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range runs {
			ids = append(ids, m.ID)
		}
		if got := strings.Join(ids, " "); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.f, got, c.want)
		}
	}
}

func TestReadOnlyMissingStore(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "none.db"), Options{ReadOnly: true})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err %v", err)
	}
}

// TestFormatFromTheFutureIsRefused: a store written by a later layout is not misread.
func TestFormatFromTheFutureIsRefused(t *testing.T) {
	s, path := openTemp(t)
	if _, err := s.db.Exec(`UPDATE meta SET value = '3' WHERE key = 'format'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{ReadOnly: ro})
		if err == nil || !strings.Contains(err.Error(), "written in store format 3, which this kgrun (format 2) cannot read") {
			t.Errorf("read-only %v: %v", ro, err)
		}
	}
}

// TestFilesArePrivate: the store is 0600 in a 0700 directory it created.
func TestFilesArePrivate(t *testing.T) {
	s, path := openTemp(t)
	newRun(t, s, "w", "success", time.Now())
	for _, p := range []string{path, path + "-wal", filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s is %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_STATE_HOME", "")
	if p, err := DefaultPath(); err != nil || p != filepath.Join(home, ".local/state/kgrun/state.db") {
		t.Errorf("without XDG_STATE_HOME: %q %v", p, err)
	}
	xdg := t.TempDir()
	t.Setenv("XDG_STATE_HOME", xdg)
	if p, err := DefaultPath(); err != nil || p != filepath.Join(xdg, "kgrun/state.db") {
		t.Errorf("with XDG_STATE_HOME: %q %v", p, err)
	}
	t.Setenv("XDG_STATE_HOME", "relative/dir") // the XDG spec says to ignore it
	if p, err := DefaultPath(); err != nil || p != filepath.Join(home, ".local/state/kgrun/state.db") {
		t.Errorf("with a relative XDG_STATE_HOME: %q %v", p, err)
	}
}

// TestRunFilterKeepsDamagedRuns: a run whose description is not JSON is listed as
// damaged under a scenario filter, which SQL applies, rather than failing the query or
// vanishing from the list.
func TestRunFilterKeepsDamagedRuns(t *testing.T) {
	s, _ := openTemp(t)
	newRun(t, s, "a", "success", time.Now())
	bad := newRun(t, s, "a", "success", time.Now())
	if _, err := s.db.Exec(`UPDATE run_info SET info = x'7b6e6f74' WHERE run = ?`, bad); err != nil {
		t.Fatal(err)
	}
	for _, f := range []RunFilter{{Scenario: "network"}, {Scenario: NoScenario, Limit: 1}} {
		runs, err := s.Runs(f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		if len(runs) == 0 || runs[0].ID != bad || runs[0].Damage == "" {
			t.Errorf("%+v: got %d runs, first %+v; want run %s listed as damaged", f, len(runs), runs, bad)
		}
	}
}
