package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kgrun/kgrun/engine"
)

// runRow is one row of the runs table as read.
type runRow struct {
	id                  int64
	workflow, status    string
	started             int64
	info, progress      []byte
	infoSum, progresSum int64
}

// runColumns and runTables read a run's row with its description; a missing
// description reads as a record whose sum fails.
const (
	runColumns = `r.id, r.workflow, r.status, r.started, COALESCE(i.info, x''), COALESCE(i.info_sum, -1), r.progress, r.progress_sum`
	runTables  = `runs r LEFT JOIN run_info i ON i.run = r.id`
)

func scanRun(sc interface{ Scan(...any) error }) (*runRow, error) {
	r := new(runRow)
	err := sc.Scan(&r.id, &r.workflow, &r.status, &r.started, &r.info, &r.infoSum, &r.progress, &r.progresSum)
	return r, err
}

// decode checks the row's records and columns and builds its RunMeta; a damaged row
// gives a DamageError naming the record.
func (s *SQLite) decode(r *runRow) (*RunMeta, error) {
	id := strconv.FormatInt(r.id, 10)
	m := new(RunMeta)
	damage := func(record, reason string) error {
		return &DamageError{Store: s.path, Run: id, Record: record, Reason: reason}
	}
	if err := decodeRecord("run_info", id, r.info, r.infoSum, &m.RunInfo); err != nil {
		return nil, damage("run record", err.Error())
	}
	if err := decodeRecord("run_progress", id, r.progress, r.progresSum, &m.RunProgress); err != nil {
		return nil, damage("progress record", err.Error())
	}
	switch {
	case m.ID != id:
		return nil, damage("run record", fmt.Sprintf("names run %q", m.ID))
	case m.Workflow != r.workflow:
		return nil, damage("workflow column", fmt.Sprintf("says %q where the run record says %q", r.workflow, m.Workflow))
	case m.Status != r.status:
		return nil, damage("status column", fmt.Sprintf("says %q where the progress record says %q", r.status, m.Status))
	case m.Started.UnixNano() != r.started:
		return nil, damage("started column", "differs from the run record")
	}
	return m, nil
}

// Run returns a run's metadata.
func (s *SQLite) Run(id string) (*RunMeta, error) {
	k, err := runKey(id)
	if err != nil {
		return nil, err
	}
	r, err := scanRun(s.db.QueryRow(`SELECT `+runColumns+` FROM `+runTables+` WHERE r.id = ?`, k))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w %s: kgrun runs lists the runs this store holds", ErrNoRun, id)
	}
	if err != nil {
		return nil, s.fail(id, "run record", err)
	}
	return s.decode(r)
}

// Runs returns the runs f selects, newest first; damaged ones carry Damage.
func (s *SQLite) Runs(f RunFilter) ([]*RunMeta, error) {
	var where []string
	var args []any
	if f.Workflow != "" {
		where = append(where, "r.workflow = ?")
		args = append(args, f.Workflow)
	}
	if !f.Since.IsZero() {
		where = append(where, "r.started >= ?")
		args = append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where = append(where, "r.started < ?")
		args = append(args, f.Until.UnixNano())
	}
	switch f.Status {
	case "", "damaged":
	case StatusCrashed:
		where = append(where, "r.status = ?")
		args = append(args, StatusRunning)
	default:
		where = append(where, "r.status = ?")
		args = append(args, f.Status)
	}
	if f.Scenario != "" {
		// Read in SQL so that a page deep in a filtered list does not decode every run
		// before it; a record that is not JSON is kept, and listed as damaged.
		where = append(where, `CASE WHEN json_valid(CAST(i.info AS TEXT)) THEN COALESCE(json_extract(CAST(i.info AS TEXT), '$.scenario'), '') = ? ELSE 1 END`)
		scenario := f.Scenario
		if scenario == NoScenario {
			scenario = ""
		}
		args = append(args, scenario)
	}
	q := `SELECT ` + runColumns + ` FROM ` + runTables
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY r.id DESC`
	// Statuses decided by the decoded record (a running run whose process is gone is
	// crashed; damage shows only in decoding) are filtered below; otherwise SQL pages.
	pagedInSQL := f.Status != StatusRunning && f.Status != StatusCrashed && f.Status != "damaged"
	if pagedInSQL && (f.Offset > 0 || f.Limit > 0) {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, max(f.Limit, -1), f.Offset)
		if f.Limit <= 0 {
			args[len(args)-2] = -1
		}
		f.Offset = 0
	}
	rows, err := s.db.Query(q, args...)
	if err != nil {
		return nil, s.fail("", "runs table", err)
	}
	defer rows.Close()
	var out []*RunMeta
	skipped := 0
	for rows.Next() && (f.Limit <= 0 || len(out) < f.Limit) {
		r, err := scanRun(rows)
		if err != nil {
			// a column of the wrong type, written by hand: this row is damaged
			out = append(out, &RunMeta{Damage: "its columns cannot be read: " + err.Error()})
			continue
		}
		m, err := s.decode(r)
		if err != nil {
			m = &RunMeta{Damage: err.Error()}
			m.ID = strconv.FormatInt(r.id, 10)
		}
		if !f.selects(m) {
			continue
		}
		if skipped < f.Offset {
			skipped++
			continue
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("", "runs table", err)
	}
	return out, nil
}

// selects applies the filters that need the decoded record: status (crashed is a
// running run whose process is gone) and scenario. A damaged run is listed whatever
// its scenario, since its record cannot say.
func (f *RunFilter) selects(m *RunMeta) bool {
	if f.Status != "" && StatusOf(m) != f.Status {
		return false
	}
	switch {
	case f.Scenario == "" || m.Damage != "":
		return true
	case f.Scenario == NoScenario:
		return m.Scenario == ""
	}
	return m.Scenario == f.Scenario
}

// readJournal runs fn in one read transaction (a consistent snapshot, which writers do
// not wait for) with the run's progress, whose counts say how many records to expect.
func (s *SQLite) readJournal(id string, fn func(tx *sql.Tx, k int64, p *RunProgress) error) error {
	k, err := runKey(id)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.fail(id, "", err)
	}
	defer tx.Rollback()
	var data []byte
	var sum int64
	err = tx.QueryRow(`SELECT progress, progress_sum FROM runs WHERE id = ?`, k).Scan(&data, &sum)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w %s: kgrun runs lists the runs this store holds", ErrNoRun, id)
	}
	if err != nil {
		return s.fail(id, "progress record", err)
	}
	p := new(RunProgress)
	if err := decodeRecord("run_progress", id, data, sum, p); err != nil {
		return &DamageError{Store: s.path, Run: id, Record: "progress record", Reason: err.Error()}
	}
	return fn(tx, k, p)
}

// Checkpoints calls fn with a run's checkpoints, in order, through seq through (all
// when through is 0). A missing checkpoint is damage.
func (s *SQLite) Checkpoints(id string, through int, fn func(*engine.Checkpoint) error) error {
	return s.readJournal(id, func(tx *sql.Tx, k int64, p *RunProgress) error {
		want := p.Checkpoints
		if through > 0 {
			want = min(through, want)
		}
		return s.records(tx, "checkpoints", "seq", "checkpoint", id, k, want, func(seq int, data []byte, sum int64) error {
			cp, err := decodeCheckpoint(id, seq, data, sum)
			if err != nil {
				return err
			}
			if err := fn(cp); err != nil {
				return userError{err}
			}
			return nil
		})
	})
}

// decodeCheckpoint checks and decodes checkpoint seq of run id.
func decodeCheckpoint(id string, seq int, data []byte, sum int64) (*engine.Checkpoint, error) {
	cp := new(engine.Checkpoint)
	if err := decodeRecord("checkpoint", cpKey(id, seq), data, sum, cp); err != nil {
		return nil, err
	}
	if cp.Seq != seq {
		return nil, fmt.Errorf("says it is visit %d", cp.Seq)
	}
	return cp, nil
}

// userError marks an error returned by a caller's fn, which records passes on as is.
type userError struct{ err error }

func (e userError) Error() string { return e.err.Error() }

// records walks one of a run's journal tables in key order: keys 1 to want, each once,
// no more and no fewer; it names the record that fails.
func (s *SQLite) records(tx *sql.Tx, table, keyCol, what, id string, k int64, want int, fn func(n int, data []byte, sum int64) error) error {
	rows, err := tx.Query(`SELECT `+keyCol+`, data, sum FROM `+table+` WHERE run = ? AND `+keyCol+` <= ? ORDER BY `+keyCol, k, want)
	if err != nil {
		return s.fail(id, what+"s", err)
	}
	defer rows.Close()
	next := 1
	for rows.Next() {
		var n int
		var data []byte
		var sum int64
		if err := rows.Scan(&n, &data, &sum); err != nil {
			return &DamageError{Store: s.path, Run: id, Record: fmt.Sprintf("%s %d", what, next), Reason: "cannot be read: " + err.Error()}
		}
		if n != next {
			return &DamageError{Store: s.path, Run: id, Record: fmt.Sprintf("%s %d", what, next), Reason: fmt.Sprintf("is missing (the next one stored is %d)", n)}
		}
		if err := fn(n, data, sum); err != nil {
			var ue userError
			if errors.As(err, &ue) {
				return ue.err
			}
			return &DamageError{Store: s.path, Run: id, Record: fmt.Sprintf("%s %d", what, n), Reason: err.Error()}
		}
		next++
	}
	if err := rows.Err(); err != nil {
		return s.fail(id, what+"s", err)
	}
	if next <= want {
		return &DamageError{Store: s.path, Run: id, Record: fmt.Sprintf("%s %d", what, next), Reason: fmt.Sprintf("is missing: the run's progress counts %d", want)}
	}
	return nil
}

// LastCheckpoint returns a run's last checkpoint, or nil when it has none.
func (s *SQLite) LastCheckpoint(id string) (*engine.Checkpoint, error) {
	var cp *engine.Checkpoint
	err := s.readJournal(id, func(tx *sql.Tx, k int64, p *RunProgress) error {
		if p.Checkpoints == 0 {
			return nil
		}
		var data []byte
		var sum int64
		record := fmt.Sprintf("checkpoint %d", p.Checkpoints)
		err := tx.QueryRow(`SELECT data, sum FROM checkpoints WHERE run = ? AND seq = ?`, k, p.Checkpoints).Scan(&data, &sum)
		if errors.Is(err, sql.ErrNoRows) {
			return &DamageError{Store: s.path, Run: id, Record: record, Reason: "is missing: the run's progress counts it"}
		}
		if err != nil {
			return s.fail(id, record, err)
		}
		if cp, err = decodeCheckpoint(id, p.Checkpoints, data, sum); err != nil {
			return &DamageError{Store: s.path, Run: id, Record: record, Reason: err.Error()}
		}
		return nil
	})
	return cp, err
}

// EventCount returns how many trace events a run has stored.
func (s *SQLite) EventCount(id string) (int, error) {
	n := 0
	err := s.readJournal(id, func(_ *sql.Tx, _ int64, p *RunProgress) error {
		n = p.Events
		return nil
	})
	return n, err
}

// Events calls fn with a run's stored trace events, in order.
func (s *SQLite) Events(id string, fn func(engine.Event) error) error {
	return s.readJournal(id, func(tx *sql.Tx, k int64, p *RunProgress) error {
		return s.records(tx, "events", "n", "event", id, k, p.Events, func(n int, data []byte, sum int64) error {
			var e engine.Event
			if err := decodeRecord("event", cpKey(id, n), data, sum, &e); err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return userError{err}
			}
			return nil
		})
	})
}

// State reads a named state entry into v.
func (s *SQLite) State(name string, v any) (bool, error) {
	var data []byte
	var sum int64
	err := s.db.QueryRow(`SELECT data, sum FROM state WHERE key = ?`, name).Scan(&data, &sum)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	record := fmt.Sprintf("state %q", name)
	if err != nil {
		return false, s.fail("", record, err)
	}
	if err := decodeRecord("state", name, data, sum, v); err != nil {
		return true, &DamageError{Store: s.path, Record: record, Reason: err.Error()}
	}
	return true, nil
}
