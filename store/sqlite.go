package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Options configure Open.
type Options struct {
	// ReadOnly opens an existing store and never creates one; reading commands use it.
	// Readers and writers share the store either way.
	ReadOnly bool
	// Wait is how long a write waits for another process's write to end before failing;
	// 0 means DefaultWait. Writes are short (one visit each), so waits are rare and brief.
	Wait time.Duration
	// NoSync skips the fsync after each write: a process crash loses nothing, a machine
	// crash may lose the last writes.
	NoSync bool
}

// DefaultWait is how long a write waits for others by default.
const DefaultWait = 30 * time.Second

// formatVersion is the layout this code reads and writes: 1 was the bbolt file, which
// Open migrates; a store written by a later layout is refused rather than misread.
const formatVersion = 2

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// schema is the layout of format 2. Runs keep their static description (run_info,
// written once per invocation, large for large workflows) in a table of its own, apart
// from their progress (rewritten per commit): SQLite rewrites a whole row on update. The workflow,
// status and started columns repeat what the checksummed records hold, for filtering;
// a read compares them.
const schema = `
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	workflow TEXT NOT NULL, status TEXT NOT NULL, started INTEGER NOT NULL,
	progress BLOB NOT NULL, progress_sum INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS run_info(run INTEGER PRIMARY KEY, info BLOB NOT NULL, info_sum INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started);
CREATE TABLE IF NOT EXISTS checkpoints(run INTEGER NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, sum INTEGER NOT NULL,
	PRIMARY KEY(run, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events(run INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL, sum INTEGER NOT NULL,
	PRIMARY KEY(run, n)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, data BLOB NOT NULL, sum INTEGER NOT NULL);
`

// SQLite is the embedded Store: one SQLite file in WAL mode. Any number of processes
// open it at once; readers never wait for writers, and writers take turns per
// transaction (one visit), waiting up to Options.Wait.
type SQLite struct {
	db       *sql.DB
	path     string
	readOnly bool
	// stmts caches the statements a commit runs, prepared once per connection.
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// exec runs a statement of a write transaction through the statement cache.
func (s *SQLite) exec(tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := s.stmt(q)
	if err != nil {
		return nil, err
	}
	return tx.Stmt(st).Exec(args...)
}

// queryRow is exec for a statement that returns one row.
func (s *SQLite) queryRow(tx *sql.Tx, q string, args ...any) *sql.Row {
	st, err := s.stmt(q)
	if err != nil {
		return tx.QueryRow(q, args...) // reports the same error
	}
	return tx.Stmt(st).QueryRow(args...)
}

func (s *SQLite) stmt(q string) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stmts[q]; ok {
		return st, nil
	}
	st, err := s.db.Prepare(q)
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[q] = st
	return st, nil
}

// Open opens the store at path, creating it (0600, in a 0700 directory it creates) unless
// opts.ReadOnly. A bbolt store written by earlier kgrun versions is migrated first, and
// kept beside it as PATH.bbolt.
func Open(path string, opts Options) (*SQLite, error) {
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
	} else if err := prepareFile(path); err != nil {
		return nil, err
	}
	if err := checkOwner(path); err != nil {
		return nil, err
	}
	head, err := readHead(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	switch {
	case isBolt(head):
		if err := migrateBolt(path, opts); err != nil {
			return nil, err
		}
	case len(head) > 0 && !bytes.HasPrefix(head, sqliteMagic):
		return nil, &DamageError{Store: path, Reason: "does not start as a kgrun store does (it is neither SQLite nor a format 1 bbolt store)"}
	}
	return openSQLite(path, opts)
}

func openSQLite(path string, opts Options) (*SQLite, error) {
	wait := opts.Wait
	if wait <= 0 {
		wait = DefaultWait
	}
	sync := "FULL"
	if opts.NoSync {
		sync = "NORMAL"
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", wait.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "cell_size_check(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	s := &SQLite{db: db, path: path, readOnly: opts.ReadOnly}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init creates the tables when the store is new and checks its format.
func (s *SQLite) init() error {
	var v string
	err := s.db.QueryRow(`SELECT value FROM meta WHERE key = 'format'`).Scan(&v)
	if err == nil {
		if err := s.checkFormat(v); err != nil {
			return err
		}
		if err := s.checkTables(); err != nil {
			return err
		}
		if !s.readOnly {
			if _, err := s.db.Exec(itemsTable); err != nil {
				return s.fail("", "", err)
			}
		}
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) && !isNoTable(err) {
		return s.fail("", "", err)
	}
	var tables int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM sqlite_master`).Scan(&tables); err != nil {
		return s.fail("", "", err)
	}
	if tables > 0 {
		return &DamageError{Store: s.path, Record: "format record", Reason: "is missing from a store that holds tables"}
	}
	return s.tx(func(tx *sql.Tx) error {
		if _, err := tx.Exec(schema + itemsTable); err != nil {
			return err
		}
		err := tx.QueryRow(`SELECT value FROM meta WHERE key = 'format'`).Scan(&v)
		if err == nil {
			return s.checkFormat(v)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.Exec(`INSERT INTO meta(key, value) VALUES('format', ?)`, strconv.Itoa(formatVersion))
		return err
	})
}

func (s *SQLite) checkFormat(v string) error {
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return &DamageError{Store: s.path, Record: "format record", Reason: fmt.Sprintf("holds %q, not a format number", v)}
	case n > formatVersion:
		return fmt.Errorf("store %s is written in store format %d, which this kgrun (format %d) cannot read; use the kgrun that wrote it, or another --state PATH", s.path, n, formatVersion)
	case n < formatVersion:
		return &DamageError{Store: s.path, Record: "format record", Reason: fmt.Sprintf("says format %d, which a SQLite store never has", n)}
	}
	return nil
}

// tableColumns are the columns each table of format 2 has.
var tableColumns = map[string]string{
	"meta":        "key, value",
	"runs":        "id, workflow, status, started, progress, progress_sum",
	"run_info":    "run, info, info_sum",
	"checkpoints": "run, seq, data, sum",
	"events":      "run, n, data, sum",
	"state":       "key, data, sum",
}

// checkTables makes sure every table is there with its columns.
func (s *SQLite) checkTables() error {
	for table, cols := range tableColumns {
		rows, err := s.db.Query(`SELECT ` + cols + ` FROM ` + table + ` LIMIT 0`)
		if err != nil {
			return &DamageError{Store: s.path, Record: "table " + table, Reason: "is not as kgrun writes it: " + err.Error()}
		}
		rows.Close()
	}
	return nil
}

func isNoTable(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_ERROR && bytes.Contains([]byte(se.Error()), []byte("no such table"))
}

// fail turns an error from the database into one naming the store, and into a
// DamageError when SQLite found the file damaged.
func (s *SQLite) fail(run, record string, err error) error {
	if err == nil {
		return nil
	}
	var de *DamageError
	if errors.As(err, &de) || errors.Is(err, ErrNoRun) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_MISMATCH:
			return &DamageError{Store: s.path, Run: run, Record: record, Reason: "cannot be read: " + se.Error()}
		case sqlite3.SQLITE_FULL:
			return fmt.Errorf("store %s: the disk is full: %w; free space, or name another store with --state PATH", s.path, err)
		case sqlite3.SQLITE_IOERR:
			if se.Code() == sqlite3.SQLITE_IOERR|(2<<8) { // SHORT_READ: the file ends early
				return &DamageError{Store: s.path, Run: run, Record: record, Reason: "is cut short: " + se.Error()}
			}
		}
	} else if strings.Contains(err.Error(), "Scan error") {
		return &DamageError{Store: s.path, Run: run, Record: record, Reason: "holds a value of the wrong type: " + err.Error()}
	}
	return fmt.Errorf("store %s: %w", s.path, err)
}

// tx runs fn in one write transaction, begun IMMEDIATE so that a writer waits for the
// write lock up front (under busy_timeout) rather than failing to upgrade later.
func (s *SQLite) tx(fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		return s.fail("", "", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return s.fail("", "", err)
	}
	return s.fail("", "", tx.Commit())
}

// Path returns the store's file.
func (s *SQLite) Path() string { return s.path }

// Close releases the store.
func (s *SQLite) Close() error {
	s.mu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.mu.Unlock()
	return s.db.Close()
}

// runKey turns a run ID (a decimal number) into its key.
func runKey(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w %q: run IDs are the numbers kgrun runs lists", ErrNoRun, id)
	}
	return n, nil
}

func cpKey(run string, seq int) string { return run + "/" + strconv.Itoa(seq) }

// CreateRun records a new run, sets meta.ID and marks this process its owner.
func (s *SQLite) CreateRun(meta *RunMeta) error {
	return s.tx(func(tx *sql.Tx) error {
		r, err := tx.Exec(`INSERT INTO runs(workflow, status, started, progress, progress_sum) VALUES('', '', 0, x'', 0)`)
		if err != nil {
			return err
		}
		n, err := r.LastInsertId()
		if err != nil {
			return err
		}
		meta.ID = strconv.FormatInt(n, 10)
		meta.Owner = ownerName()
		if err := writeInfo(tx, &meta.RunInfo); err != nil {
			return err
		}
		return s.writeProgress(tx, meta.ID, &meta.RunProgress)
	})
}

func writeInfo(tx *sql.Tx, info *RunInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE runs SET workflow = ?, started = ? WHERE id = ?`, info.Workflow, info.Started.UnixNano(), info.ID); err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT OR REPLACE INTO run_info(run, info, info_sum) VALUES(?, ?, ?)`, info.ID, data, checksum("run_info", info.ID, data))
	return err
}

func (s *SQLite) writeProgress(tx *sql.Tx, id string, p *RunProgress) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	r, err := s.exec(tx, `UPDATE runs SET status = ?, progress = ?, progress_sum = ? WHERE id = ?`,
		p.Status, data, checksum("run_progress", id, data), id)
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w %s: it was removed (kgrun runs prune) while it ran", ErrNoRun, id)
	}
	return nil
}

// Write applies b in one transaction.
func (s *SQLite) Write(b *Batch) error {
	id := b.RunID
	if b.Info != nil {
		id = b.Info.ID
	}
	if id != "" {
		if _, err := runKey(id); err != nil {
			return err
		}
	}
	if b.Progress == nil && (b.Truncate || len(b.Checkpoints) > 0 || len(b.Events) > 0 || len(b.Items) > 0) {
		return fmt.Errorf("store: a batch that changes run %s's journal must carry its progress, which counts the journal's records", id)
	}
	err := s.tx(func(tx *sql.Tx) error {
		if b.Info != nil {
			if err := writeInfo(tx, b.Info); err != nil {
				return err
			}
		}
		if err := s.appendJournal(tx, id, b); err != nil {
			return err
		}
		if err := s.writeItems(tx, id, b); err != nil {
			return err
		}
		if b.Progress != nil {
			if err := s.queryRow(tx, `SELECT (SELECT COALESCE(MAX(seq), 0) FROM checkpoints WHERE run = ?), (SELECT COALESCE(MAX(n), 0) FROM events WHERE run = ?)`, id, id).
				Scan(&b.Progress.Checkpoints, &b.Progress.Events); err != nil {
				return err
			}
			if err := s.writeProgress(tx, id, b.Progress); err != nil {
				return err
			}
		}
		for name, v := range b.State {
			data, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("state %q: %w", name, err)
			}
			if _, err := tx.Exec(`INSERT OR REPLACE INTO state(key, data, sum) VALUES(?, ?, ?)`, name, data, checksum("state", name, data)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && id != "" {
		return fmt.Errorf("run %s: %w", id, err)
	}
	return err
}

func (s *SQLite) appendJournal(tx *sql.Tx, id string, b *Batch) error {
	if b.Truncate {
		if _, err := tx.Exec(`DELETE FROM checkpoints WHERE run = ? AND seq > ?`, id, b.TruncateAfter); err != nil {
			return err
		}
	}
	for _, cp := range b.Checkpoints {
		if _, err := s.exec(tx, `INSERT OR REPLACE INTO checkpoints(run, seq, data, sum) VALUES(?, ?, ?, ?)`,
			id, cp.Seq, []byte(cp.Data), checksum("checkpoint", cpKey(id, cp.Seq), cp.Data)); err != nil {
			return err
		}
	}
	if len(b.Events) == 0 {
		return nil
	}
	var last int
	if err := s.queryRow(tx, `SELECT COALESCE(MAX(n), 0) FROM events WHERE run = ?`, id).Scan(&last); err != nil {
		return err
	}
	for i, e := range b.Events {
		n := last + i + 1
		if _, err := s.exec(tx, `INSERT INTO events(run, n, data, sum) VALUES(?, ?, ?, ?)`, id, n, []byte(e), checksum("event", cpKey(id, n), e)); err != nil {
			return err
		}
	}
	return nil
}

// readHead returns the first bytes of the file at path (fewer when it is shorter).
func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 64)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return head[:n], nil
}

var _ Store = (*SQLite)(nil)
