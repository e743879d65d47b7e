package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// referenceStore writes a store with three runs (30 checkpoints carrying shared data and
// 60 events each) and two state entries, closes it, and returns its path and what a
// reader must find in it.
func referenceStore(t *testing.T) (string, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ref.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for r := range 3 {
		m := &RunMeta{RunInfo: RunInfo{Workflow: fmt.Sprintf("wf%d", r), File: "/w.yaml", Nodes: []string{"a", "b"},
			Started: time.Date(2026, 1, 1, r, 0, 0, 0, time.UTC)}}
		j := NewRunJournal(s, m, 1)
		if err := j.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 30; i++ {
			j.Event(engine.Event{Kind: engine.EventNodeStart, Node: "a", Visit: i})
			j.Event(engine.Event{Kind: engine.EventNodeEnd, Node: "a", Visit: i, Action: "success"})
			data, _ := json.Marshal(strings.Repeat(fmt.Sprintf("record %d of run %d;", i, r), 8))
			cp := &engine.Checkpoint{Seq: i, Step: engine.Step{Node: "a", Visit: i, Action: "success"}, Next: "a",
				Set: map[string]json.RawMessage{"k": data}}
			if err := j.Commit(cp); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Finish(&engine.Result{Status: engine.StatusSuccess}, map[string]any{fmt.Sprintf("breaker/real/wf%d/api", r): map[string]int{"failures": r}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	snap, errs := readAll(path)
	if len(errs) > 0 {
		t.Fatalf("reading the reference store: %v", errs)
	}
	return path, snap
}

// readAll reads everything a kgrun command can read from the store at path: each part
// it could read, by name, and the errors of those it could not. A panic is an error.
func readAll(path string) (parts map[string]string, errs []error) {
	parts = map[string]string{}
	try := func(name string, fn func() (any, error)) {
		defer func() {
			if p := recover(); p != nil {
				errs = append(errs, fmt.Errorf("PANIC in %s: %v", name, p))
			}
		}()
		v, err := fn()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		data, _ := json.Marshal(v)
		parts[name] = string(data)
	}
	var s *SQLite
	try("open", func() (any, error) {
		var err error
		s, err = Open(path, Options{ReadOnly: true, Wait: time.Second})
		return nil, err
	})
	if s == nil {
		return parts, errs
	}
	defer s.Close()
	try("list", func() (any, error) {
		runs, err := s.Runs(RunFilter{})
		var whole []*RunMeta
		for _, m := range runs {
			if m.Damage == "" {
				whole = append(whole, m)
			} else {
				errs = append(errs, &DamageError{Record: "listed run " + m.ID, Reason: m.Damage})
			}
		}
		if len(whole) != len(runs) {
			return nil, ErrDamaged // the whole runs are compared one by one below
		}
		return whole, err
	})
	for r, id := range []string{"1", "2", "3"} {
		try("run "+id, func() (any, error) { return s.Run(id) })
		try("checkpoints "+id, func() (any, error) {
			var all []*engine.Checkpoint
			err := s.Checkpoints(id, 0, func(cp *engine.Checkpoint) error { all = append(all, cp); return nil })
			return all, err
		})
		try("last checkpoint "+id, func() (any, error) { return s.LastCheckpoint(id) })
		try("events "+id, func() (any, error) {
			var all []engine.Event
			err := s.Events(id, func(e engine.Event) error { all = append(all, e); return nil })
			return all, err
		})
		// A state entry removed reads as absent (a breaker starting closed); one
		// changed or moved under another key must not read as valid.
		var v any
		if ok, err := s.State(fmt.Sprintf("breaker/real/wf%d/api", r), &v); ok || err != nil {
			try("state "+id, func() (any, error) { return v, err })
		}
	}
	try("check", func() (any, error) {
		rep, err := s.Check()
		if err == nil && len(rep.Problems) > 0 {
			err = fmt.Errorf("%w: %s", ErrDamaged, strings.Join(rep.Problems, "; "))
		}
		return rep, err
	})
	return parts, errs
}

// TestDamagedStores damages a store in many ways: truncation, byte flips, zeroed pages,
// rows rewritten through SQL. For each, every read must either return exactly what was
// written or fail with a damage error: never panic, never hand back a changed record.
func TestDamagedStores(t *testing.T) {
	ref, want := referenceStore(t)
	orig, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	type damage struct {
		name  string
		bytes func([]byte) []byte // rewrites the file's bytes
		sql   string              // or runs this on a copy
	}
	var cases []damage
	for _, n := range []int{1, 10, 16, 50, 99, 100, 101, 512, page - 1, page, page + 1, 2 * page, 3*page + 100, len(orig) / 2, len(orig) - page, len(orig) - 1} {
		cases = append(cases, damage{name: fmt.Sprintf("truncated to %d bytes", n), bytes: func(b []byte) []byte { return b[:n] }})
	}
	rng := rand.New(rand.NewPCG(9, 5))
	for range 40 {
		off := rng.IntN(len(orig))
		bit := byte(1) << rng.IntN(8)
		cases = append(cases, damage{name: fmt.Sprintf("bit flip at %d", off), bytes: func(b []byte) []byte { b[off] ^= bit; return b }})
	}
	for _, off := range []int{0, 18, 19, 21, 24, 28, 44, 56, 96, 100, 105, page + 8, 2*page + 3} {
		cases = append(cases, damage{name: fmt.Sprintf("byte %d set to 0xff", off), bytes: func(b []byte) []byte { b[off] = 0xff; return b }})
	}
	for p := 0; p*page < len(orig); p++ {
		cases = append(cases, damage{name: fmt.Sprintf("page %d zeroed", p+1), bytes: func(b []byte) []byte {
			clear(b[p*page : min(len(b), (p+1)*page)])
			return b
		}})
	}
	for _, c := range []struct{ name, sql string }{
		{"checkpoint bytes changed", `UPDATE checkpoints SET data = replace(data, 'record 5 ', 'record 6 ') WHERE run = 2 AND seq = 5`},
		{"checkpoint sum changed", `UPDATE checkpoints SET sum = sum + 1 WHERE run = 1 AND seq = 30`},
		{"checkpoint moved to another seq", `UPDATE checkpoints SET seq = 31 WHERE run = 3 AND seq = 30`},
		{"checkpoint moved to another run", `DELETE FROM checkpoints WHERE run = 1 AND seq = 30; UPDATE checkpoints SET run = 1 WHERE run = 2 AND seq = 30`},
		{"checkpoint removed from the middle", `DELETE FROM checkpoints WHERE run = 2 AND seq = 7`},
		{"checkpoint with a text sum", `UPDATE checkpoints SET sum = 'x' WHERE run = 1 AND seq = 1`},
		{"checkpoint with a huge seq", `INSERT INTO checkpoints VALUES(1, 9223372036854775807, x'7b7d', 0)`},
		{"checkpoint of a run that is not listed", `INSERT INTO checkpoints VALUES(99, 1, x'7b7d', 0)`},
		{"event bytes changed", `UPDATE events SET data = replace(data, 'success', 'failure') WHERE run = 1 AND n = 2`},
		{"event removed", `DELETE FROM events WHERE run = 3 AND n = 1`},
		{"last event removed", `DELETE FROM events WHERE run = 3 AND n = 60`},
		{"last checkpoint removed", `DELETE FROM checkpoints WHERE run = 2 AND seq = 30`},
		{"all of a run's checkpoints removed", `DELETE FROM checkpoints WHERE run = 1`},
		{"checkpoint added past the end", `INSERT INTO checkpoints SELECT run, 31, data, sum FROM checkpoints WHERE run = 1 AND seq = 30`},
		{"run record changed", `UPDATE run_info SET info = replace(info, '/w.yaml', '/etc/passwd') WHERE run = 2`},
		{"run record not JSON but summed", `UPDATE run_info SET info = x'00ff', info_sum = 0 WHERE run = 1`},
		{"progress record changed", `UPDATE runs SET progress = replace(progress, 'success', 'failed') WHERE id = 3`},
		{"workflow column changed", `UPDATE runs SET workflow = 'other' WHERE id = 1`},
		{"status column changed", `UPDATE runs SET status = 'failed' WHERE id = 2`},
		{"started column changed", `UPDATE runs SET started = 0 WHERE id = 3`},
		{"run ID changed", `UPDATE runs SET id = 7 WHERE id = 3`},
		{"run description removed", `DELETE FROM run_info WHERE run = 2`},
		{"run description with a text sum", `UPDATE run_info SET info_sum = 'x' WHERE run = 3`},
		{"run description table dropped", `DROP TABLE run_info`},
		{"run row with text columns", `UPDATE runs SET started = 'soon', progress_sum = 'x' WHERE id = 1`},
		{"state entry changed", `UPDATE state SET data = '{"failures":9}' WHERE key = 'breaker/real/wf1/api'`},
		{"state entry moved", `DELETE FROM state WHERE key = 'breaker/real/wf0/api'; UPDATE state SET key = 'breaker/real/wf0/api' WHERE key = 'breaker/real/wf2/api'`},
		{"format record not a number", `UPDATE meta SET value = 'two' WHERE key = 'format'`},
		{"format record says 1", `UPDATE meta SET value = '1' WHERE key = 'format'`},
		{"format record removed", `DELETE FROM meta`},
		{"meta table dropped", `DROP TABLE meta`},
		{"checkpoints table dropped", `DROP TABLE checkpoints`},
		{"runs table replaced", `DROP TABLE runs; CREATE TABLE runs(id INTEGER PRIMARY KEY, x TEXT)`},
	} {
		cases = append(cases, damage{name: c.name, sql: c.sql})
	}

	reported := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			data := append([]byte(nil), orig...)
			if c.bytes != nil {
				data = c.bytes(data)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if c.sql != "" {
				s, err := Open(path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.db.Exec(c.sql); err != nil {
					t.Fatalf("damaging: %v", err)
				}
				s.Close()
			}
			got, errs := readAll(path)
			for _, err := range errs {
				if strings.Contains(err.Error(), "PANIC") {
					t.Errorf("%v", err)
				} else if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrNoRun) {
					t.Errorf("not reported as damage: %v", err)
				}
			}
			var names []string
			for name := range got {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				if w, ok := want[name]; ok && got[name] != w {
					t.Errorf("%s silently changed:\n got %s\nwant %s", name, got[name], w)
				}
			}
			if len(errs) > 0 {
				reported++
			}
		})
	}
	t.Logf("%d ways of damage; %d reported as damage, the rest left every record intact", len(cases), reported)
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
}
