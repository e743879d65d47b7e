package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

func item(seq int, node string, idx int, status engine.Status) EncodedItem {
	data, _ := json.Marshal(&engine.ItemRecord{Seq: seq, Node: node, Index: idx, Status: status, Output: json.RawMessage(fmt.Sprint(idx * 10))})
	return EncodedItem{Seq: seq, Node: node, Index: idx, Data: data}
}

func items(t *testing.T, s Store, id string, seq int) string {
	t.Helper()
	var out []string
	if err := s.Items(id, seq, func(r *engine.ItemRecord) error {
		out = append(out, fmt.Sprintf("%s[%d]=%s:%s", r.Node, r.Index, r.Status, r.Output))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

// TestItemRecords: item records are kept per visit, survive only the visit a redrive
// restarts at, go with their run when it is pruned, and are checked like every record.
func TestItemRecords(t *testing.T) {
	s, path := openTemp(t)
	id := newRun(t, s, "w", StatusRunning, time.Now())
	p := &RunProgress{Status: StatusRunning}
	if err := s.Write(&Batch{RunID: id, Progress: p, Checkpoints: []EncodedCheckpoint{checkpoint(1, "a", "fan")},
		Items: []EncodedItem{item(2, "fan", 1, engine.StatusSuccess), item(2, "fan", 0, engine.StatusFailed), item(3, "fan", 0, engine.StatusSuccess)}}); err != nil {
		t.Fatal(err)
	}
	if got := items(t, s, id, 2); got != "fan[0]=failed:0 fan[1]=success:10" {
		t.Errorf("visit 2: %s", got)
	}
	// A redrive from visit 2 keeps visit 2's items (the engine takes back the successful
	// ones) and drops those of later visits.
	if err := s.Write(&Batch{RunID: id, Progress: p, Truncate: true, TruncateAfter: 1}); err != nil {
		t.Fatal(err)
	}
	if got := items(t, s, id, 3); got != "" {
		t.Errorf("visit 3 after the redrive: %s", got)
	}
	if err := s.Write(&Batch{RunID: id, Progress: &RunProgress{Status: string(engine.StatusFailed)}}); err != nil {
		t.Fatal(err)
	}

	// A changed byte is damage, reported by Items and by a store check.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE items SET data = CAST(replace(CAST(data AS TEXT), '"success"', '"failed!"') AS BLOB) WHERE idx = 1`); err != nil {
		t.Fatal(err)
	}
	if err := s.Items(id, 2, func(*engine.ItemRecord) error { return nil }); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("damaged item read as %v", err)
	}
	rep, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rep.Problems, "\n"), "item 1 of fan in visit 2") {
		t.Errorf("check: %v", rep.Problems)
	}
	if _, err := s.Prune(PruneOptions{OlderThan: time.Nanosecond, Now: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.QueryRow(`SELECT COUNT(*) FROM items`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d item records left after pruning the run (%v)", left, err)
	}
}
