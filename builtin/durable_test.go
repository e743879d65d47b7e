package builtin

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// memJournal keeps checkpoints as a store would: encoded when committed.
type memJournal struct{ cps [][]byte }

func (m *memJournal) Commit(cp *engine.Checkpoint) error {
	b, err := json.Marshal(cp)
	m.cps = append(m.cps, b)
	return err
}

// state rebuilds a run from its first n checkpoints.
func (m *memJournal) state(t *testing.T, n int) *engine.RunState {
	t.Helper()
	s := engine.NewRunState()
	for _, b := range m.cps[:n] {
		var cp engine.Checkpoint
		if err := json.Unmarshal(b, &cp); err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(&cp); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (m *memJournal) last(t *testing.T) engine.Checkpoint {
	var cp engine.Checkpoint
	if err := json.Unmarshal(m.cps[len(m.cps)-1], &cp); err != nil {
		t.Fatal(err)
	}
	return cp
}

// flagshipRun runs the flagship on a fresh graph and virtual clock.
func flagshipRun(t *testing.T, opts engine.RunOptions) *engine.Result {
	t.Helper()
	g, ds := engine.LoadFile("../workflows/fault_tolerant.yaml", Registry(Options{}))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	opts.Clock = engine.NewVirtualClock(engine.Epoch)
	res, err := g.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// outcome is what a resumed run must reproduce: everything but the breakers, which a
// fresh graph starts closed (the store restores them separately).
func outcome(t *testing.T, res *engine.Result) string {
	t.Helper()
	c := *res
	c.Breakers = nil
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	// Values rebuilt from a journal are generic JSON until a node reads them back into
	// its type; compare them as JSON values, not as Go types.
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(generic)
	return fmt.Sprintf("%s\nerr: %v\nfailures: %d", b, res.Err != nil, len(res.Failures))
}

// TestResumeAfterEveryVisit crashes the flagship after each committed visit, in every
// scenario, and resumes it in a fresh graph from the journal: the result is the one the
// run would have had without the crash, and no committed visit runs again.
func TestResumeAfterEveryVisit(t *testing.T) {
	for _, sc := range []struct {
		scenario string
		seed     int64
	}{{"", 1}, {"network", 14}, {"processing", 42}, {"storage", 4}, {"random", 14}} {
		t.Run(sc.scenario, func(t *testing.T) {
			params := map[string]any{"alternate_dir": t.TempDir()}
			j := &memJournal{}
			straight := flagshipRun(t, engine.RunOptions{Scenario: sc.scenario, Seed: sc.seed, Params: params, Journal: j})
			want := outcome(t, straight)
			if len(j.cps) != straight.Steps() {
				t.Fatalf("%d checkpoints for %d visits", len(j.cps), straight.Steps())
			}
			for k := range len(j.cps) {
				rest := &memJournal{}
				res := flagshipRun(t, engine.RunOptions{Scenario: sc.scenario, Seed: sc.seed, Params: params, Journal: rest, Resume: j.state(t, k)})
				if got := outcome(t, res); got != want {
					t.Fatalf("resumed after visit %d:\n got %s\nwant %s", k, got, want)
				}
				if len(rest.cps) != len(j.cps)-k {
					t.Fatalf("resumed after visit %d: %d visits committed again, want %d", k, len(rest.cps), len(j.cps)-k)
				}
			}
		})
	}
}

// TestRedriveFailedRun: a run that failed on a data error (and whose error handler
// cleaned up the shared store) is redriven from the failed visit with the fault fixed,
// keeping the collector's records without collecting again.
func TestRedriveFailedRun(t *testing.T) {
	dir := t.TempDir()
	j := &memJournal{}
	failed := flagshipRun(t, engine.RunOptions{Seed: 1, Journal: j, Params: map[string]any{"alternate_dir": dir, "record_failure_rate": 2}})
	if failed.Status != engine.StatusFailed {
		t.Fatalf("status %s", failed.Status)
	}
	last := j.last(t)
	if last.Next != "" || last.RedriveFrom != 2 {
		t.Fatalf("last checkpoint: next %q, redrive_from %d", last.Next, last.RedriveFrom)
	}
	state := j.state(t, last.RedriveFrom-1)
	if state.Next != "process" || state.Shared()["records"] == nil {
		t.Fatalf("redrive starts at %q with shared %v", state.Next, state.Shared())
	}
	rest := &memJournal{}
	res := flagshipRun(t, engine.RunOptions{Seed: 1, Journal: rest, Resume: state, Params: map[string]any{"alternate_dir": dir}})
	if res.Status != engine.StatusSuccess || res.Calls["collect"] != 1 || res.PathNodes()[0] != "collect" ||
		fmt.Sprint(res.PathNodes()) != "[collect process deliver complete]" {
		t.Fatalf("redriven run: %s %v, calls %v, err %v", res.Status, res.PathNodes(), res.Calls, res.Err)
	}
	if len(rest.cps) != 3 {
		t.Fatalf("%d visits committed by the redrive, want 3", len(rest.cps))
	}
}
