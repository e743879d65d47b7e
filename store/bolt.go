package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/kgrun/kgrun/engine"
)

// Options configure Open.
type Options struct {
	// ReadOnly opens the store for reading; readers share the file with each other but
	// not with a writer.
	ReadOnly bool
	// Wait is how long to wait for another process to release the store before failing
	// with ErrBusy; 0 fails at once.
	Wait time.Duration
	// NoSync skips the fsync after each write: a process crash loses nothing, a machine
	// crash may lose the last writes.
	NoSync bool
}

// The bucket layout: runs/<id> holds RunMeta; journal/<id>/cp/<seq> the checkpoints and
// journal/<id>/ev/<n> the trace; state/<key> named state.
var (
	bucketRuns    = []byte("runs")
	bucketJournal = []byte("journal")
	bucketState   = []byte("state")
	bucketMeta    = []byte("meta")
	keyFormat     = []byte("format")
	bucketCP      = []byte("cp")
	bucketEvents  = []byte("ev")
)

// formatVersion is the layout this code reads and writes. A store written by a later
// layout is refused rather than misread.
const formatVersion = "1"

// Bolt is the embedded Store: one bbolt file, locked by the process that opens it.
type Bolt struct {
	db   *bolt.DB
	path string
}

// Open opens (creating when needed, unless read-only) the store at path.
func Open(path string, opts Options) (*Bolt, error) {
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	wait := opts.Wait
	if wait <= 0 {
		wait = time.Nanosecond // bbolt waits forever on 0
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: wait, ReadOnly: opts.ReadOnly, NoSync: opts.NoSync})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: another kgrun process is using %s; wait for it to finish, or give this run its own store with --state PATH (or --state none)", ErrBusy, path)
	}
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	s := &Bolt{db: db, path: path}
	if opts.ReadOnly {
		err = db.View(checkFormat)
	} else {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, name := range [][]byte{bucketRuns, bucketJournal, bucketState, bucketMeta} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			if tx.Bucket(bucketMeta).Get(keyFormat) == nil {
				return tx.Bucket(bucketMeta).Put(keyFormat, []byte(formatVersion))
			}
			return checkFormat(tx)
		})
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	return s, nil
}

func checkFormat(tx *bolt.Tx) error {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return nil
	}
	if v := b.Get(keyFormat); v != nil && string(v) != formatVersion {
		return fmt.Errorf("written in store format %s, which this kgrun (format %s) cannot read; use the kgrun that wrote it, or another --state PATH", v, formatVersion)
	}
	return nil
}

// Path returns the store's file.
func (s *Bolt) Path() string { return s.path }

// Close releases the file and its lock.
func (s *Bolt) Close() error { return s.db.Close() }

func key(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// runKey turns a run ID (a decimal number) into its key; IDs sort as numbers.
func runKey(id string) ([]byte, error) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("%w %q: run IDs are the numbers kgrun runs lists", ErrNoRun, id)
	}
	return key(n), nil
}

// NewRunID reserves the next run ID: 1, 2, 3, ...
func (s *Bolt) NewRunID() (string, error) {
	var id uint64
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		id, err = tx.Bucket(bucketRuns).NextSequence()
		return err
	})
	return strconv.FormatUint(id, 10), err
}

// Write applies b in one transaction.
func (s *Bolt) Write(b *Batch) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if b.Run != nil {
			k, err := runKey(b.Run.ID)
			if err != nil {
				return err
			}
			data, err := json.Marshal(b.Run)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketRuns).Put(k, data); err != nil {
				return err
			}
			if err := s.appendJournal(tx, k, b); err != nil {
				return fmt.Errorf("run %s: %w", b.Run.ID, err)
			}
		}
		st := tx.Bucket(bucketState)
		for name, v := range b.State {
			data, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("state %q: %w", name, err)
			}
			if err := st.Put([]byte(name), data); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Bolt) appendJournal(tx *bolt.Tx, runKey []byte, b *Batch) error {
	if !b.Truncate && len(b.Checkpoints) == 0 && len(b.Events) == 0 {
		return nil
	}
	jb, err := tx.Bucket(bucketJournal).CreateBucketIfNotExists(runKey)
	if err != nil {
		return err
	}
	cps, err := jb.CreateBucketIfNotExists(bucketCP)
	if err != nil {
		return err
	}
	if b.Truncate {
		c := cps.Cursor()
		for k, _ := c.Seek(key(uint64(b.TruncateAfter) + 1)); k != nil; k, _ = c.Next() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	for _, cp := range b.Checkpoints {
		if err := cps.Put(key(uint64(cp.Seq)), cp.Data); err != nil {
			return err
		}
	}
	evs, err := jb.CreateBucketIfNotExists(bucketEvents)
	if err != nil {
		return err
	}
	for _, e := range b.Events {
		n, err := evs.NextSequence()
		if err != nil {
			return err
		}
		if err := evs.Put(key(n), e); err != nil {
			return err
		}
	}
	return nil
}

// Run returns a run's metadata.
func (s *Bolt) Run(id string) (*RunMeta, error) {
	k, err := runKey(id)
	if err != nil {
		return nil, err
	}
	var m *RunMeta
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		var data []byte
		if b != nil {
			data = b.Get(k)
		}
		if data == nil {
			return fmt.Errorf("%w %s: kgrun runs lists the runs this store holds", ErrNoRun, id)
		}
		m = new(RunMeta)
		return json.Unmarshal(data, m)
	})
	return m, err
}

// Runs returns every run, newest first.
func (s *Bolt) Runs() ([]*RunMeta, error) {
	var out []*RunMeta
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			m := new(RunMeta)
			if err := json.Unmarshal(v, m); err != nil {
				return fmt.Errorf("run %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// Checkpoints calls fn with a run's checkpoints, in order, through seq through (all
// when through is 0).
func (s *Bolt) Checkpoints(id string, through int, fn func(*engine.Checkpoint) error) error {
	return s.each(id, bucketCP, func(k, v []byte) (bool, error) {
		if through > 0 && binary.BigEndian.Uint64(k) > uint64(through) {
			return false, nil
		}
		cp := new(engine.Checkpoint)
		if err := json.Unmarshal(v, cp); err != nil {
			return false, fmt.Errorf("run %s checkpoint %d: %w", id, binary.BigEndian.Uint64(k), err)
		}
		return true, fn(cp)
	})
}

// LastCheckpoint returns a run's last checkpoint, or nil when it has none.
func (s *Bolt) LastCheckpoint(id string) (*engine.Checkpoint, error) {
	rk, err := runKey(id)
	if err != nil {
		return nil, err
	}
	var cp *engine.Checkpoint
	err = s.db.View(func(tx *bolt.Tx) error {
		b := nested(tx, bucketJournal, rk, bucketCP)
		if b == nil {
			return nil
		}
		k, v := b.Cursor().Last()
		if k == nil {
			return nil
		}
		cp = new(engine.Checkpoint)
		if err := json.Unmarshal(v, cp); err != nil {
			return fmt.Errorf("run %s checkpoint %d: %w", id, binary.BigEndian.Uint64(k), err)
		}
		return nil
	})
	return cp, err
}

// EventCount returns how many trace events a run has stored.
func (s *Bolt) EventCount(id string) (int, error) {
	rk, err := runKey(id)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.db.View(func(tx *bolt.Tx) error {
		if b := nested(tx, bucketJournal, rk, bucketEvents); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
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

// Events calls fn with a run's stored trace events, in order.
func (s *Bolt) Events(id string, fn func(engine.Event) error) error {
	return s.each(id, bucketEvents, func(k, v []byte) (bool, error) {
		var e engine.Event
		if err := json.Unmarshal(v, &e); err != nil {
			return false, fmt.Errorf("run %s event %d: %w", id, binary.BigEndian.Uint64(k), err)
		}
		return true, fn(e)
	})
}

// each walks one of a run's journal buckets until fn says stop or fails.
func (s *Bolt) each(id string, bucket []byte, fn func(k, v []byte) (bool, error)) error {
	rk, err := runKey(id)
	if err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error {
		b := nested(tx, bucketJournal, rk, bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			more, err := fn(k, v)
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
}

// State reads a named state entry into v.
func (s *Bolt) State(name string, v any) (bool, error) {
	var data []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketState); b != nil {
			data = append(data, b.Get([]byte(name))...)
		}
		return nil
	})
	if err != nil || data == nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("state %q: %w", name, err)
	}
	return true, nil
}

var _ Store = (*Bolt)(nil)
