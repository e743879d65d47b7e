package engine

import (
	"errors"
	"testing"
	"time"
)

// TestResumeKeepsVirtualTime: a run that crashes after its second visit and is resumed
// on a virtual clock that reads earlier (a store that saved the clock only at the end
// of runs) continues from the last committed reading: time never goes back.
func TestResumeKeepsVirtualTime(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: ticking
start: a
nodes:
  a: {type: sleep, params: {sleep: 1s}, on: {success: b}}
  b: {type: sleep, params: {sleep: 1s}, on: {success: c}}
  c: {type: sleep, params: {sleep: 1s}, on: {success: d}}
  d: {type: sleep, params: {sleep: 1s}}
`)
	var committed []Checkpoint
	crash := errors.New("killed")
	res, _ := runVirtual(t, g, RunOptions{Journal: journalFunc(func(cp *Checkpoint) error {
		if cp.Seq == 3 {
			return crash
		}
		committed = append(committed, *cp)
		return nil
	})})
	if res.Status != StatusFailed || len(committed) != 2 {
		t.Fatalf("status %s after %d commits", res.Status, len(committed))
	}
	if want := Epoch.Add(2 * time.Second); !committed[1].Clock.Equal(want) {
		t.Fatalf("checkpoint 2 carries clock %s, want %s", committed[1].Clock, want)
	}
	st := NewRunState()
	for i := range committed {
		if err := st.Apply(&committed[i]); err != nil {
			t.Fatal(err)
		}
	}
	var after []Checkpoint
	res, _ = runVirtual(t, g, RunOptions{Resume: st, Journal: journalFunc(func(cp *Checkpoint) error {
		after = append(after, *cp)
		return nil
	})})
	if pathString(res) != "a(success) → b(success) → c(success) → d(success) = success" {
		t.Fatalf("path %s", pathString(res))
	}
	last := committed[1].Clock
	for _, cp := range after {
		if want := last.Add(time.Second); !cp.Clock.Equal(want) {
			t.Fatalf("checkpoint %d carries clock %s, want %s (one second after the last)", cp.Seq, cp.Clock, want)
		}
		last = cp.Clock
	}
	if res.Elapsed != Duration(4*time.Second) {
		t.Fatalf("elapsed %s", res.Elapsed)
	}
}
