package store

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Every record is stored with a CRC-32C of its table, its key and its bytes, so a changed
// byte, a record moved under another key and a row written by hand are all detected.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is a record's sum; it fits SQLite's INTEGER.
func checksum(table, key string, data []byte) int64 {
	h := crc32.New(castagnoli)
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write(data)
	return int64(h.Sum32())
}

// DamageError says which record of which store is damaged and how.
type DamageError struct {
	Store  string // the store's file
	Run    string // the run the record belongs to, if any
	Record string // e.g. "checkpoint 12", "run record", "state \"breaker/...\""
	Reason string
}

func (e *DamageError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store %s is damaged: ", e.Store)
	if e.Run != "" {
		fmt.Fprintf(&b, "run %s ", e.Run)
	}
	if e.Record != "" {
		fmt.Fprintf(&b, "%s ", e.Record)
	}
	b.WriteString(e.Reason)
	b.WriteString("; kgrun store check lists what is damaged")
	return b.String()
}

// Unwrap makes errors.Is(err, ErrDamaged) true.
func (e *DamageError) Unwrap() error { return ErrDamaged }

// decodeRecord checks a record's sum and decodes it into v: the one way a record read
// from the store becomes a value.
func decodeRecord(table, key string, data []byte, sum int64, v any) error {
	if got := checksum(table, key, data); got != sum {
		return fmt.Errorf("fails its checksum (stored %08x, computed %08x)", uint32(sum), uint32(got))
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("cannot be decoded: %v", err)
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// ownerAlive reports whether the process owner names may still be running: true for a
// process on another host (which this one cannot see) or one that answers signal 0.
func ownerAlive(owner string) bool {
	host, pidText, ok := strings.Cut(owner, "/")
	if !ok {
		return false
	}
	if me, _ := os.Hostname(); host != me {
		return true
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || err == syscall.EPERM
}
