package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kgrun/kgrun/engine"
)

// The items table holds how each item of a map, or branch of a parallel node, ended
// (engine.ItemRecord), keyed by run, the visit it belongs to, the node and the index. It
// was added within format 2: a store made before it gets the table when a writer opens
// it, and readers treat a store without it as one with no items.
const itemsTable = `CREATE TABLE IF NOT EXISTS items(run INTEGER NOT NULL, seq INTEGER NOT NULL, node TEXT NOT NULL, idx INTEGER NOT NULL,
	data BLOB NOT NULL, sum INTEGER NOT NULL, PRIMARY KEY(run, seq, node, idx)) WITHOUT ROWID;`

// EncodedItem is an item record already encoded, with its key.
type EncodedItem struct {
	Seq   int
	Node  string
	Index int
	Data  []byte
}

func itemKey(run string, seq int, node string, idx int) string {
	return run + "/" + strconv.Itoa(seq) + "/" + node + "/" + strconv.Itoa(idx)
}

// writeItems adds a batch's item records; a redrive first drops those of the visits it
// replaces.
func (s *SQLite) writeItems(tx *sql.Tx, id string, b *Batch) error {
	if b.Truncate {
		// The visit a redrive starts at keeps its items: the engine takes back only
		// those that succeeded.
		if _, err := tx.Exec(`DELETE FROM items WHERE run = ? AND seq > ?`, id, b.TruncateAfter+1); err != nil {
			return err
		}
	}
	for _, it := range b.Items {
		if _, err := s.exec(tx, `INSERT OR REPLACE INTO items(run, seq, node, idx, data, sum) VALUES(?, ?, ?, ?, ?, ?)`,
			id, it.Seq, it.Node, it.Index, it.Data, checksum("item", itemKey(id, it.Seq, it.Node, it.Index), it.Data)); err != nil {
			return err
		}
	}
	return nil
}

// Items calls fn with the item records of run id's visit seq, by node and index.
func (s *SQLite) Items(id string, seq int, fn func(*engine.ItemRecord) error) error {
	return s.readJournal(id, func(tx *sql.Tx, k int64, _ *RunProgress) error {
		rows, err := tx.Query(`SELECT node, idx, data, sum FROM items WHERE run = ? AND seq = ? ORDER BY node, idx`, k, seq)
		if isNoTable(err) {
			return nil
		}
		if err != nil {
			return s.fail(id, "items", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				node string
				idx  int
				data []byte
				sum  int64
			)
			if err := rows.Scan(&node, &idx, &data, &sum); err != nil {
				return s.fail(id, "items", err)
			}
			rec, err := decodeItem(id, seq, node, idx, data, sum)
			if err != nil {
				return &DamageError{Store: s.path, Run: id, Record: fmt.Sprintf("item %d of %s in visit %d", idx, node, seq), Reason: err.Error()}
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		return s.fail(id, "items", rows.Err())
	})
}

// decodeItem checks and decodes one item record.
func decodeItem(id string, seq int, node string, idx int, data []byte, sum int64) (*engine.ItemRecord, error) {
	rec := new(engine.ItemRecord)
	if err := decodeRecord("item", itemKey(id, seq, node, idx), data, sum, rec); err != nil {
		return nil, err
	}
	if rec.Seq != seq || rec.Node != node || rec.Index != idx {
		return nil, fmt.Errorf("says it is item %d of %s in visit %d", rec.Index, rec.Node, rec.Seq)
	}
	return rec, nil
}

// CommitItem buffers an item record; it is written with the next flush, which comes at
// the same pace as visits (every CommitEvery records), so a crash loses at most that
// many items' work.
func (j *RunJournal) CommitItem(rec *engine.ItemRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	j.pending.Items = append(j.pending.Items, EncodedItem{Seq: rec.Seq, Node: rec.Node, Index: rec.Index, Data: data})
	if j.visits++; j.visits < j.every {
		return nil
	}
	return j.flush()
}

var _ engine.ItemJournal = (*RunJournal)(nil)

// checkItems reads every item record of run k, for a store check.
func (s *SQLite) checkItems(tx *sql.Tx, id string, k int64, rep *CheckReport) {
	rows, err := tx.Query(`SELECT seq, node, idx, data, sum FROM items WHERE run = ?`, k)
	if isNoTable(err) {
		return
	}
	if err != nil {
		rep.Problems = append(rep.Problems, s.fail(id, "items", err).Error())
		return
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq, idx int
			node     string
			data     []byte
			sum      int64
		)
		if err := rows.Scan(&seq, &node, &idx, &data, &sum); err != nil {
			rep.Problems = append(rep.Problems, (&DamageError{Store: s.path, Run: id, Record: "item", Reason: err.Error()}).Error())
			continue
		}
		if _, err := decodeItem(id, seq, node, idx, data, sum); err != nil {
			rep.Problems = append(rep.Problems, (&DamageError{Store: s.path, Run: id, Record: fmt.Sprintf("item %d of %s in visit %d", idx, node, seq), Reason: err.Error()}).Error())
		}
	}
	if err := rows.Err(); err != nil {
		rep.Problems = append(rep.Problems, s.fail(id, "items", err).Error())
	}
}
