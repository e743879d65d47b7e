// Package store owns what outlives a kgrun process: each run's metadata, its journal of
// checkpoints and its trace, and named state such as breakers and caches. Store is the
// small interface the rest of kgrun uses; Open gives the embedded implementation, one
// SQLite file in WAL mode that several processes share at once and that needs no server.
// Every record carries a checksum checked on read, so a damaged store is reported (as an
// error wrapping ErrDamaged) rather than misread.
package store

import (
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

// Errors callers can test for with errors.Is.
var (
	// ErrNoRun: no run has the given ID.
	ErrNoRun = errors.New("no such run")
	// ErrDamaged: the store, or a record in it, is not what kgrun wrote.
	ErrDamaged = errors.New("store damaged")
)

// Store keeps runs and named state. Every Write is atomic and durable when it returns
// (unless the store was opened with NoSync). A Store is safe for concurrent use by the
// goroutines of one process and by several processes at once.
type Store interface {
	// CreateRun records a new run and sets meta.ID.
	CreateRun(meta *RunMeta) error
	// Write applies a batch atomically.
	Write(b *Batch) error
	// Run returns a run's metadata, or an error wrapping ErrNoRun or ErrDamaged.
	Run(id string) (*RunMeta, error)
	// Runs returns the metadata of the runs f selects, newest first. A run whose record
	// is damaged is listed with only its ID and Damage set.
	Runs(f RunFilter) ([]*RunMeta, error)
	// Checkpoints calls fn with a run's checkpoints in order, up to and including seq
	// through (all of them when through is 0).
	Checkpoints(id string, through int, fn func(*engine.Checkpoint) error) error
	// LastCheckpoint returns a run's last checkpoint, or nil when it has none.
	LastCheckpoint(id string) (*engine.Checkpoint, error)
	// Items calls fn with the item records of a run's visit seq (engine.ItemRecord).
	Items(id string, seq int, fn func(*engine.ItemRecord) error) error
	// Events calls fn with a run's stored trace events in order.
	Events(id string, fn func(engine.Event) error) error
	// EventCount returns how many trace events a run has stored.
	EventCount(id string) (int, error)
	// State reads a named state entry into v; ok is false when there is none.
	State(key string, v any) (ok bool, err error)
	// Close releases the store.
	Close() error
}

// RunFilter selects runs for Runs; its zero value selects them all.
type RunFilter struct {
	// Workflow and Status, when set, must match (Status as StatusOf reports it).
	Workflow, Status string
	// Since and Until, when set, bound the wall-clock start.
	Since, Until time.Time
	// Scenario, when set, must match the run's scenario; NoScenario selects runs
	// without one.
	Scenario string
	// Offset skips that many of the newest runs selected, and Limit, when above 0,
	// keeps that many of the rest: a page of the list.
	Offset, Limit int
}

// NoScenario is the RunFilter.Scenario that selects runs started without a scenario.
const NoScenario = "-"

// Batch is one atomic write.
type Batch struct {
	// Info, when set, replaces the run's static description: written when a run starts or
	// resumes, never per visit, so a commit costs the same whatever the workflow's size.
	Info *RunInfo
	// Progress, when set, replaces how the run stands; RunID names the run.
	RunID    string
	Progress *RunProgress
	// Truncate removes the run's checkpoints after Seq TruncateAfter before Checkpoints
	// are added: a redrive replaces what followed its restart point.
	Truncate      bool
	TruncateAfter int
	// Checkpoints and Events are appended to the run's journal and trace, encoded.
	Checkpoints []EncodedCheckpoint
	Events      []json.RawMessage
	// Items are item records of composite nodes' visits, encoded.
	Items []EncodedItem
	// State entries are written (JSON-encoded) under their keys.
	State map[string]any
}

// EncodedCheckpoint is a checkpoint already encoded, with its Seq as its key.
type EncodedCheckpoint struct {
	Seq  int
	Data json.RawMessage
}

// RunMeta describes one run: what ran and how it stands.
type RunMeta struct {
	RunInfo
	RunProgress
	// Damage, set only by Runs, says why the run's record cannot be read.
	Damage string `json:"damage,omitempty"`
}

// RunInfo is what a run is: written when it starts (and again when it resumes with
// other options), never per visit.
type RunInfo struct {
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
	// ClockStart is where a virtual-time run's clock started.
	ClockStart time.Time `json:"clock_start,omitzero"`
	// Started is the wall-clock time the run started, whatever clock it ran on.
	Started time.Time `json:"started"`
}

// Simulated reports whether the run is a simulation: on virtual time or under a
// scenario's injected faults.
func (i *RunInfo) Simulated() bool { return i.VirtualTime || i.Scenario != "" }

// RunProgress is how a run stands; it is rewritten with every commit, so it stays small.
type RunProgress struct {
	// Status is a final engine status, or StatusRunning while a process runs it.
	Status  string          `json:"status"`
	Elapsed engine.Duration `json:"elapsed"`
	// Visits counts committed visits; Resumes counts continuations and redrives.
	Visits  int    `json:"visits"`
	Resumes int    `json:"resumes,omitempty"`
	Error   string `json:"error,omitempty"`
	// Breakers are the breakers' snapshots when the run ended.
	Breakers []policy.Snapshot `json:"breakers,omitempty"`
	// Output is the workflow's output, computed when the run ended.
	Output map[string]any `json:"output,omitempty"`
	// EventsDropped counts trace events beyond the per-invocation limit.
	EventsDropped int `json:"events_dropped,omitempty"`
	// Owner names the process running the run (host/pid) while Status is running.
	Owner string `json:"owner,omitempty"`
	// Checkpoints and Events count the records the run's journal and trace hold; Write
	// keeps them, and a read that finds fewer reports damage instead of a shorter run.
	Checkpoints int `json:"checkpoints"`
	Events      int `json:"events"`
}

// StatusRunning marks a run some process is running.
const StatusRunning = "running"

// StatusCrashed is how StatusOf reports a run whose process died while running it.
const StatusCrashed = "crashed"

// StatusOf says how a run stands for people: its status, or "crashed" for a run marked
// running whose process, on this host, is gone.
func StatusOf(m *RunMeta) string {
	if m.Damage != "" {
		return "damaged"
	}
	if m.Status == StatusRunning && !ownerAlive(m.Owner) {
		return StatusCrashed
	}
	return m.Status
}

// ownerName names this process for RunProgress.Owner.
func ownerName() string {
	host, _ := os.Hostname()
	return host + "/" + itoa(os.Getpid())
}
