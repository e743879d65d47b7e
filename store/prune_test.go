package store

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// shortRun records a finished run of four visits and twelve events, started at.
func shortRun(t testing.TB, s *SQLite, started time.Time) {
	t.Helper()
	j := NewRunJournal(s, &RunMeta{RunInfo: RunInfo{Workflow: "short", Nodes: []string{"a", "b"}, Started: started}}, 4)
	if err := j.Start(); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(strings.Repeat("x", 200))
	for i := 1; i <= 4; i++ {
		for range 3 {
			j.Event(engine.Event{Kind: engine.EventNodeStart, Node: "a", Visit: i})
		}
		if err := j.Commit(&engine.Checkpoint{Seq: i, Step: engine.Step{Node: "a", Visit: i}, Next: "b", Set: map[string]json.RawMessage{"v": data}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Finish(&engine.Result{Status: engine.StatusSuccess}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestPruneKeepsTheStoreBounded records 10,000 short runs under a retention of 100 runs
// (pruned every 500 runs) and checks that the file, compacted, stays within twice the
// size of a store holding 100 such runs.
func TestPruneKeepsTheStoreBounded(t *testing.T) {
	if os.Getenv("KGRUN_SLOW") == "" {
		t.Skip("set KGRUN_SLOW=1 to record 10,000 runs under a retention of 100")
	}
	s, _ := openTemp(t)
	ref, _ := openTemp(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		shortRun(t, ref, t0.Add(time.Duration(i)*time.Second))
	}
	if err := ref.Compact(); err != nil {
		t.Fatal(err)
	}
	bound := 2 * ref.size()
	var peak int64
	var removed int
	for i := range 10_000 {
		shortRun(t, s, t0.Add(time.Duration(i)*time.Second))
		if (i+1)%500 == 0 {
			peak = max(peak, s.size())
			p, err := s.Prune(PruneOptions{Keep: 100})
			if err != nil {
				t.Fatal(err)
			}
			removed += p.Runs
			if p.SizeAfter > bound {
				t.Fatalf("after %d runs the pruned store is %d bytes, over the bound %d", i+1, p.SizeAfter, bound)
			}
		}
	}
	runs, err := s.Runs(RunFilter{})
	if err != nil || len(runs) != 100 || runs[0].ID != "10000" || runs[99].ID != "9901" {
		t.Fatalf("%d runs left (err %v)", len(runs), err)
	}
	if rep, err := s.Check(); err != nil || len(rep.Problems) > 0 || rep.Checkpoints != 400 {
		t.Fatalf("check after pruning: %+v %v", rep, err)
	}
	t.Logf("10,000 runs, retention 100: removed %d; largest before a prune %d bytes; after %d bytes (bound %d; 100 runs alone %d)",
		removed, peak, s.size(), bound, ref.size())

	// --older-than: runs started more than an hour before now go (here 9900 to 9949).
	p, err := s.Prune(PruneOptions{OlderThan: time.Hour, Now: t0.Add(9950*time.Second + time.Hour)})
	if err != nil || p.Runs != 50 || p.Checkpoints != 200 || p.Events != 600 {
		t.Fatalf("older-than: %+v %v", p, err)
	}
}

// TestPruneSparesLiveRuns: a run a live process is running is never removed.
func TestPruneSparesLiveRuns(t *testing.T) {
	s, _ := openTemp(t)
	old := time.Now().Add(-48 * time.Hour)
	live := newRun(t, s, "w", StatusRunning, old) // owned by this process
	dead := &RunMeta{RunInfo: RunInfo{Workflow: "w", Started: old}, RunProgress: RunProgress{Status: StatusRunning}}
	if err := s.CreateRun(dead); err != nil {
		t.Fatal(err)
	}
	host, _, _ := strings.Cut(ownerName(), "/")
	dead.Owner = host + "/999999999" // this host, no such process: it crashed
	if err := s.Write(&Batch{RunID: dead.ID, Progress: &dead.RunProgress}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Prune(PruneOptions{OlderThan: time.Hour})
	if err != nil || p.Runs != 1 {
		t.Fatalf("pruned %+v, %v", p, err)
	}
	if _, err := s.Run(live); err != nil {
		t.Fatalf("the live run went: %v", err)
	}
}
