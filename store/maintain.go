package store

import (
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"time"
)

// PruneOptions say which runs Prune removes: those started before OlderThan ago, and
// those beyond the Keep newest. Zero values select nothing.
type PruneOptions struct {
	OlderThan time.Duration
	Keep      int
	// Now is the time OlderThan counts back from; zero means now.
	Now time.Time
}

// Pruned says what Prune removed and freed.
type Pruned struct {
	Runs, Checkpoints, Events int
	// SizeBefore and SizeAfter are the store's bytes on disk (file and write-ahead log).
	SizeBefore, SizeAfter int64
}

// Prune removes the runs o selects, with their journals and traces, except runs a live
// process is still running, then compacts the file so the space returns to the disk.
func (s *SQLite) Prune(o PruneOptions) (*Pruned, error) {
	out := &Pruned{SizeBefore: s.size()}
	ids, err := s.pruneCandidates(o)
	if err != nil {
		return nil, err
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		err := s.tx(func(tx *sql.Tx) error {
			for _, id := range chunk {
				for _, c := range []struct {
					q string
					n *int
				}{{`DELETE FROM checkpoints WHERE run = ?`, &out.Checkpoints}, {`DELETE FROM events WHERE run = ?`, &out.Events}, {`DELETE FROM items WHERE run = ?`, new(int)}, {`DELETE FROM run_info WHERE run = ?`, new(int)}, {`DELETE FROM runs WHERE id = ?`, &out.Runs}} {
					r, err := tx.Exec(c.q, id)
					if err != nil {
						return err
					}
					n, _ := r.RowsAffected()
					*c.n += int(n)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if err := s.Compact(); err != nil {
		return nil, err
	}
	out.SizeAfter = s.size()
	return out, nil
}

// pruneCandidates lists the IDs of the runs o selects that no live process runs.
func (s *SQLite) pruneCandidates(o PruneOptions) ([]int64, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	cutoff := int64(-1 << 63)
	if o.OlderThan > 0 {
		cutoff = now.Add(-o.OlderThan).UnixNano()
	}
	rows, err := s.db.Query(`SELECT id, status, progress, progress_sum, started FROM runs ORDER BY id DESC`)
	if err != nil {
		return nil, s.fail("", "runs table", err)
	}
	defer rows.Close()
	var ids []int64
	for n := 0; rows.Next(); n++ {
		var id, sum, started int64
		var status string
		var progress []byte
		if err := rows.Scan(&id, &status, &progress, &sum, &started); err != nil {
			return nil, &DamageError{Store: s.path, Record: "runs table", Reason: err.Error()}
		}
		old := o.OlderThan > 0 && started < cutoff
		extra := o.Keep > 0 && n >= o.Keep
		if !old && !extra {
			continue
		}
		if status == StatusRunning {
			var p RunProgress
			key := strconv.FormatInt(id, 10)
			if decodeRecord("run_progress", key, progress, sum, &p) == nil && ownerAlive(p.Owner) {
				continue
			}
		}
		ids = append(ids, id)
	}
	return ids, s.fail("", "runs table", rows.Err())
}

// Compact returns the space of removed records to the disk: it rewrites the file
// (VACUUM, which waits for other writers) and empties the write-ahead log.
func (s *SQLite) Compact() error {
	if _, err := s.db.Exec(`VACUUM`); err != nil {
		return s.fail("", "", err)
	}
	_, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return s.fail("", "", err)
}

// size is the store's bytes on disk: the file and its write-ahead log.
func (s *SQLite) size() int64 {
	var n int64
	for _, p := range []string{s.path, s.path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// CheckReport is what Check found.
type CheckReport struct {
	Runs, Checkpoints, Events, States int
	// Problems name each damaged record; empty when the store is whole.
	Problems []string
}

// Check reads every record of the store and verifies it: SQLite's own integrity check,
// then each run's records, checkpoints and events (checksums, keys, sequence) and each
// state entry.
func (s *SQLite) Check() (*CheckReport, error) {
	rep := &CheckReport{}
	rows, err := s.db.Query(`PRAGMA integrity_check`)
	if err != nil {
		return nil, s.fail("", "", err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err == nil && line != "ok" {
			rep.Problems = append(rep.Problems, "file: "+line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		rep.Problems = append(rep.Problems, s.fail("", "", err).Error())
		return rep, nil
	}
	runs, err := s.Runs(RunFilter{})
	if err != nil {
		rep.Problems = append(rep.Problems, err.Error())
		return rep, nil
	}
	for _, m := range runs {
		rep.Runs++
		if m.Damage != "" {
			rep.Problems = append(rep.Problems, m.Damage)
			continue
		}
		err := s.readJournal(m.ID, func(tx *sql.Tx, k int64, p *RunProgress) error {
			if err := s.records(tx, "checkpoints", "seq", "checkpoint", m.ID, k, p.Checkpoints, func(n int, data []byte, sum int64) error {
				rep.Checkpoints++
				_, err := decodeCheckpoint(m.ID, n, data, sum)
				return err
			}); err != nil {
				rep.Problems = append(rep.Problems, err.Error())
			}
			if err := s.records(tx, "events", "n", "event", m.ID, k, p.Events, func(n int, data []byte, sum int64) error {
				rep.Events++
				return decodeRecord("event", cpKey(m.ID, n), data, sum, new(struct{}))
			}); err != nil {
				rep.Problems = append(rep.Problems, err.Error())
			}
			s.checkItems(tx, m.ID, k, rep)
			var beyond int
			if err := tx.QueryRow(`SELECT (SELECT COUNT(*) FROM checkpoints WHERE run = ? AND seq > ?) + (SELECT COUNT(*) FROM events WHERE run = ? AND n > ?)`,
				k, p.Checkpoints, k, p.Events).Scan(&beyond); err != nil {
				return s.fail(m.ID, "journal", err)
			}
			if beyond > 0 {
				rep.Problems = append(rep.Problems, (&DamageError{Store: s.path, Run: m.ID, Record: "journal", Reason: fmt.Sprintf("holds %d records beyond what the run's progress counts", beyond)}).Error())
			}
			return nil
		})
		if err != nil {
			rep.Problems = append(rep.Problems, err.Error())
		}
	}
	var orphans int
	if err := s.db.QueryRow(`SELECT (SELECT COUNT(*) FROM checkpoints WHERE run NOT IN (SELECT id FROM runs)) + (SELECT COUNT(*) FROM events WHERE run NOT IN (SELECT id FROM runs)) + (SELECT COUNT(*) FROM run_info WHERE run NOT IN (SELECT id FROM runs))`).Scan(&orphans); err != nil {
		rep.Problems = append(rep.Problems, s.fail("", "journal", err).Error())
	} else if orphans > 0 {
		rep.Problems = append(rep.Problems, (&DamageError{Store: s.path, Record: "journal", Reason: fmt.Sprintf("holds %d records of runs it does not list", orphans)}).Error())
	}
	srows, err := s.db.Query(`SELECT key, data, sum FROM state ORDER BY key`)
	if err != nil {
		rep.Problems = append(rep.Problems, s.fail("", "state", err).Error())
		return rep, nil
	}
	defer srows.Close()
	for srows.Next() {
		var key string
		var data []byte
		var sum int64
		rep.States++
		if err := srows.Scan(&key, &data, &sum); err != nil {
			rep.Problems = append(rep.Problems, (&DamageError{Store: s.path, Record: "state entry", Reason: err.Error()}).Error())
			continue
		}
		if err := decodeRecord("state", key, data, sum, new(any)); err != nil {
			rep.Problems = append(rep.Problems, (&DamageError{Store: s.path, Record: fmt.Sprintf("state %q", key), Reason: err.Error()}).Error())
		}
	}
	if err := srows.Err(); err != nil {
		rep.Problems = append(rep.Problems, s.fail("", "state", err).Error())
	}
	return rep, nil
}
