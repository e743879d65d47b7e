package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Format 1 was one bbolt file, locked by one process: runs/<id> held the run's metadata
// (all of it, rewritten per commit), journal/<id>/cp/<seq> the checkpoints,
// journal/<id>/ev/<n> the trace and state/<key> named state. Open migrates such a file
// into format 2 so that no history is lost.
var (
	boltRuns    = []byte("runs")
	boltJournal = []byte("journal")
	boltState   = []byte("state")
	boltCP      = []byte("cp")
	boltEvents  = []byte("ev")
)

// boltMagic is bbolt's page magic, at byte 16 of its first meta page.
const boltMagic = 0xED0CDAED

func isBolt(head []byte) bool {
	return len(head) >= 20 && binary.LittleEndian.Uint32(head[16:20]) == boltMagic
}

// legacyMeta is a format 1 run record.
type legacyMeta struct {
	RunInfo
	RunProgress
}

// migrateBolt turns the bbolt store at path into a SQLite one: it copies every run,
// checkpoint, event and state entry into PATH.migrating, keeps the original as
// PATH.bbolt and renames the new store into place. It holds bbolt's lock throughout, so
// a second process waits and then finds the store migrated.
func migrateBolt(path string, opts Options) (err error) {
	wait := opts.Wait
	if wait <= 0 {
		wait = DefaultWait
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: wait})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return fmt.Errorf("store %s: a kgrun of format 1 still holds it; wait for it to finish", path)
	}
	if err != nil {
		return &DamageError{Store: path, Reason: "is a format 1 (bbolt) store that cannot be opened to migrate it: " + err.Error()}
	}
	defer db.Close()
	if head, err := readHead(path); err != nil || !isBolt(head) {
		return err // another process migrated it while this one waited for the lock
	}
	// bbolt reports some damage by panicking; contain it at this boundary.
	defer func() {
		if p := recover(); p != nil {
			err = &DamageError{Store: path, Reason: fmt.Sprintf("is a format 1 (bbolt) store too damaged to migrate (%v); the original is unchanged", p)}
		}
	}()
	tmp := path + ".migrating"
	os.Remove(tmp)
	os.Remove(tmp + "-wal")
	os.Remove(tmp + "-shm")
	if err := prepareFile(tmp); err != nil {
		return err
	}
	dst, err := openSQLite(tmp, Options{NoSync: true, Wait: wait})
	if err != nil {
		return err
	}
	if err := db.View(func(tx *bolt.Tx) error { return copyBolt(tx, dst) }); err != nil {
		dst.Close()
		os.Remove(tmp)
		var de *DamageError
		if errors.As(err, &de) {
			return err
		}
		return &DamageError{Store: path, Reason: "is a format 1 (bbolt) store that cannot be migrated: " + err.Error()}
	}
	if _, err := dst.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		dst.Close()
		return dst.fail("", "", err)
	}
	if err := dst.Close(); err != nil {
		return err
	}
	backup := path + ".bbolt"
	if err := os.Link(path, backup); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("store %s: keeping the format 1 original as %s: %w", path, backup, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("store %s: %w", path, err)
	}
	return nil
}

// copyBolt copies a format 1 store into dst, one run per transaction.
func copyBolt(tx *bolt.Tx, dst *SQLite) error {
	if st := tx.Bucket(boltState); st != nil {
		state := map[string]any{}
		if err := st.ForEach(func(k, v []byte) error {
			state[string(k)] = json.RawMessage(append([]byte(nil), v...))
			if !json.Valid(v) {
				return fmt.Errorf("state %q is not JSON", k)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := dst.Write(&Batch{State: state}); err != nil {
			return err
		}
	}
	runs := tx.Bucket(boltRuns)
	if runs == nil {
		return nil
	}
	return runs.ForEach(func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("run key %x is not a run ID", k)
		}
		id := strconv.FormatUint(binary.BigEndian.Uint64(k), 10)
		var m legacyMeta
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("run %s: %v", id, err)
		}
		if m.ID != id {
			return fmt.Errorf("run %s: its record names run %q", id, m.ID)
		}
		b := &Batch{Info: &m.RunInfo, RunID: id, Progress: &m.RunProgress}
		if j := nested(tx, boltJournal, k); j != nil {
			if cps := j.Bucket(boltCP); cps != nil {
				if err := cps.ForEach(func(ck, cv []byte) error {
					if len(ck) != 8 || !json.Valid(cv) {
						return fmt.Errorf("run %s: checkpoint %x is damaged", id, ck)
					}
					b.Checkpoints = append(b.Checkpoints, EncodedCheckpoint{Seq: int(binary.BigEndian.Uint64(ck)), Data: append([]byte(nil), cv...)})
					return nil
				}); err != nil {
					return err
				}
			}
			if evs := j.Bucket(boltEvents); evs != nil {
				if err := evs.ForEach(func(_, ev []byte) error {
					if !json.Valid(ev) {
						return fmt.Errorf("run %s: an event is damaged", id)
					}
					b.Events = append(b.Events, append([]byte(nil), ev...))
					return nil
				}); err != nil {
					return err
				}
			}
		}
		return dst.insertRun(b)
	})
}

// insertRun writes a migrated run under its own ID.
func (s *SQLite) insertRun(b *Batch) error {
	if _, err := s.db.Exec(`INSERT INTO runs(id, workflow, status, started, progress, progress_sum) VALUES(?, '', '', 0, x'', 0)`, b.RunID); err != nil {
		return err
	}
	return s.Write(b)
}

// nested returns the bucket at the path of names, or nil when any is missing.
func nested(tx *bolt.Tx, names ...[]byte) *bolt.Bucket {
	b := tx.Bucket(names[0])
	for _, n := range names[1:] {
		if b == nil {
			return nil
		}
		b = b.Bucket(n)
	}
	return b
}
