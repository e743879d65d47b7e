package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/kgrun/kgrun/engine"
)

func openTemp(t *testing.T) (*Bolt, string) {
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

func TestRunsJournalAndState(t *testing.T) {
	s, _ := openTemp(t)
	var ids []string
	for range 3 {
		id, err := s.NewRunID()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if err := s.Write(&Batch{Run: &RunMeta{ID: id, Workflow: "w", Status: StatusRunning}}); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(ids, ",") != "1,2,3" {
		t.Fatalf("ids %v", ids)
	}
	runs, err := s.Runs()
	if err != nil || len(runs) != 3 || runs[0].ID != "3" || StatusOf(runs[0]) != "crashed" {
		t.Fatalf("runs %v, err %v", runs, err)
	}

	ev, _ := json.Marshal(engine.Event{Seq: 1, Kind: engine.EventRunStart, Node: "a"})
	err = s.Write(&Batch{Run: &RunMeta{ID: "2"}, Checkpoints: []EncodedCheckpoint{checkpoint(1, "a", "b"), checkpoint(2, "b", "c"), checkpoint(3, "c", "")},
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
	if got := seqs(t, s, "1", 0); got != "" {
		t.Fatalf("run 1 has checkpoints %q", got)
	}
	// A redrive from visit 2 replaces what followed visit 1.
	if err := s.Write(&Batch{Run: &RunMeta{ID: "2"}, Truncate: true, TruncateAfter: 1, Checkpoints: []EncodedCheckpoint{checkpoint(2, "x", "")}}); err != nil {
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
	var st map[string]int
	if ok, err := s.State("breaker/w/api", &st); !ok || err != nil || st["failures"] != 2 {
		t.Fatalf("state %v %v %v", st, ok, err)
	}
	if ok, err := s.State("breaker/w/other", &st); ok || err != nil {
		t.Fatalf("absent state: ok %v err %v", ok, err)
	}
	for _, bad := range []string{"0", "x", "99"} {
		if _, err := s.Run(bad); !errors.Is(err, ErrNoRun) {
			t.Errorf("run %q: %v", bad, err)
		}
	}
}

// TestSecondProcessIsTurnedAway: the store admits one opener at a time (bbolt's file lock,
// which separate opens in one process contend for as separate processes would).
func TestSecondProcessIsTurnedAway(t *testing.T) {
	_, path := openTemp(t)
	for _, opts := range []Options{{}, {ReadOnly: true}} {
		_, err := Open(path, opts)
		if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "another kgrun process is using "+path) {
			t.Fatalf("read-only %v: %v", opts.ReadOnly, err)
		}
	}
}

func TestReadOnlyMissingStore(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "none.db"), Options{ReadOnly: true})
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err %v", err)
	}
}

// TestFormatFromTheFutureIsRefused: a store written by a later layout is not misread.
func TestFormatFromTheFutureIsRefused(t *testing.T) {
	s, path := openTemp(t)
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte("2")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{ReadOnly: ro})
		if err == nil || !strings.Contains(err.Error(), "written in store format 2, which this kgrun (format 1) cannot read") {
			t.Errorf("read-only %v: %v", ro, err)
		}
	}
}
