// Package store owns what outlives a kgrun process: each run's metadata, its journal of
// checkpoints and its trace, and named state such as breakers and caches. Store is the
// small interface the rest of kgrun uses; Open gives the embedded implementation, one
// bbolt file that needs no server.
package store

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

// DefaultPath is where the command line keeps its store unless told otherwise.
const DefaultPath = ".kgrun/state.db"

// Errors callers can test for with errors.Is.
var (
	// ErrBusy: another process holds the store.
	ErrBusy = errors.New("store busy")
	// ErrNoRun: no run has the given ID.
	ErrNoRun = errors.New("no such run")
)

// Store keeps runs and named state. Every Write is atomic and durable when it returns
// (unless the store was opened with NoSync). A Store is safe for concurrent use by the
// goroutines of one process; Open keeps other processes out while it is open.
type Store interface {
	// NewRunID reserves a new run ID.
	NewRunID() (string, error)
	// Write applies a batch atomically.
	Write(b *Batch) error
	// Run returns a run's metadata, or an error wrapping ErrNoRun.
	Run(id string) (*RunMeta, error)
	// Runs returns every run's metadata, newest first.
	Runs() ([]*RunMeta, error)
	// Checkpoints calls fn with a run's checkpoints in order, up to and including seq
	// through (all of them when through is 0).
	Checkpoints(id string, through int, fn func(*engine.Checkpoint) error) error
	// LastCheckpoint returns a run's last checkpoint, or nil when it has none.
	LastCheckpoint(id string) (*engine.Checkpoint, error)
	// Events calls fn with a run's stored trace events in order.
	Events(id string, fn func(engine.Event) error) error
	// EventCount returns how many trace events a run has stored.
	EventCount(id string) (int, error)
	// State reads a named state entry into v; ok is false when there is none.
	State(key string, v any) (ok bool, err error)
	// Close releases the store.
	Close() error
}

// Batch is one atomic write.
type Batch struct {
	// Run, when set, replaces the run's metadata.
	Run *RunMeta
	// Truncate removes the run's checkpoints after Seq TruncateAfter before Checkpoints
	// are added: a redrive replaces what followed its restart point.
	Truncate      bool
	TruncateAfter int
	// Checkpoints and Events are appended to the run's journal and trace, encoded.
	Checkpoints []EncodedCheckpoint
	Events      []json.RawMessage
	// State entries are written (JSON-encoded) under their keys.
	State map[string]any
}

// EncodedCheckpoint is a checkpoint already encoded, with its Seq as its key.
type EncodedCheckpoint struct {
	Seq  int
	Data json.RawMessage
}

// RunMeta describes one run: what ran, with which options, and how it stands.
type RunMeta struct {
	ID       string `json:"id"`
	Workflow string `json:"workflow"`
	File     string `json:"file"`
	// Graph is the compiled graph's fingerprint, checked before a resume.
	GraphHash  string   `json:"graph_hash"`
	GraphLines []string `json:"graph_lines"`
	// Nodes are the workflow's node names in declaration order, for reports.
	Nodes []string `json:"nodes"`
	// The options the run was started with, which a resume reuses: Sets are the
	// KEY=VALUE param overrides as given.
	Scenario    string   `json:"scenario,omitempty"`
	Seed        int64    `json:"seed"`
	Sets        []string `json:"sets,omitempty"`
	VirtualTime bool     `json:"virtual_time,omitempty"`
	MaxSteps    int      `json:"max_steps,omitempty"`
	// Status is a final engine status, or StatusRunning while a process runs it.
	Status  string          `json:"status"`
	Started time.Time       `json:"started"`
	Elapsed engine.Duration `json:"elapsed"`
	// Visits counts committed visits; Resumes counts continuations and redrives.
	Visits  int    `json:"visits"`
	Resumes int    `json:"resumes,omitempty"`
	Error   string `json:"error,omitempty"`
	// Breakers are the breakers' snapshots when the run ended.
	Breakers []policy.Snapshot `json:"breakers,omitempty"`
	// EventsDropped counts trace events beyond the per-invocation limit.
	EventsDropped int `json:"events_dropped,omitempty"`
}

// StatusRunning marks a run some process is running. Since a store admits one process at
// a time, a run still marked running when another process opens the store was cut off
// (killed, crashed); StatusOf reports it as crashed.
const StatusRunning = "running"

// StatusOf says how a run stands for people: its status, or "crashed" for a run that was
// running when its process died.
func StatusOf(m *RunMeta) string {
	if m.Status == StatusRunning {
		return "crashed"
	}
	return m.Status
}
