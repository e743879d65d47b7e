package policy

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// State is a circuit breaker's state.
type State uint8

const (
	// Closed lets every call through and counts consecutive failures.
	Closed State = iota
	// Open rejects every call until the open timeout has passed.
	Open
	// HalfOpen admits a limited number of probe calls to decide whether to close again.
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "closed"
}

// Outcome is what a call admitted by the breaker came to.
type Outcome uint8

const (
	// Success closes a half-open breaker and resets the failure count.
	Success Outcome = iota
	// Failure counts towards opening (closed) or reopens (half-open).
	Failure
	// Ignored counts as neither: errors of kinds the breaker does not count.
	Ignored
)

// BreakerConfig configures a Breaker.
type BreakerConfig struct {
	Name string
	// FailureThreshold consecutive counted failures open a closed breaker.
	FailureThreshold int
	// OpenTimeout is how long the breaker stays open before the next call finds it
	// half-open (the change happens lazily, on that call).
	OpenTimeout time.Duration
	// HalfOpenMaxCalls is how many probe calls a half-open breaker admits at once.
	HalfOpenMaxCalls int
}

// Transition reports a state change caused by a call; Changed is false when there was none.
type Transition struct {
	From, To State
	Changed  bool
}

// Ticket is handed out when a call is admitted and given back with its outcome, so that
// a result from an earlier state (a slow call admitted while closed that finishes after
// the breaker opened) cannot close or reopen the breaker.
type Ticket struct {
	generation uint64
}

// MarshalJSON lets a ticket travel with its call to another process, for a breaker kept
// there.
func (t Ticket) MarshalJSON() ([]byte, error) { return json.Marshal(t.generation) }

// UnmarshalJSON reads a ticket written by MarshalJSON.
func (t *Ticket) UnmarshalJSON(data []byte) error { return json.Unmarshal(data, &t.generation) }

// Counts are a breaker's cumulative call counts. Every admitted call ends as exactly one
// of Successes, Failures or Ignored; Rejections are calls refused while open or while the
// half-open probes were all in flight, and are never counted as failures.
type Counts struct {
	Successes   uint64 `json:"successes"`
	Failures    uint64 `json:"failures"`
	Ignored     uint64 `json:"ignored"`
	Rejections  uint64 `json:"rejections"`
	Transitions uint64 `json:"transitions"`
}

// Breaker is a consecutive-failure circuit breaker:
//
//	closed ──FailureThreshold consecutive failures──▶ open
//	open ──first call after OpenTimeout──▶ half_open
//	half_open ──a probe succeeds──▶ closed
//	half_open ──a probe fails──▶ open (the timeout starts again)
//
// A Breaker is safe for concurrent use.
type Breaker struct {
	cfg BreakerConfig

	mu         sync.Mutex
	state      State
	generation uint64
	failures   int
	openedAt   time.Time
	probes     int
	counts     Counts
}

// NewBreaker returns a closed breaker. A threshold or probe limit below 1 is taken as 1.
func NewBreaker(cfg BreakerConfig) *Breaker {
	cfg.FailureThreshold = max(cfg.FailureThreshold, 1)
	cfg.HalfOpenMaxCalls = max(cfg.HalfOpenMaxCalls, 1)
	return &Breaker{cfg: cfg}
}

// Config returns the breaker's configuration.
func (b *Breaker) Config() BreakerConfig { return b.cfg }

// Allow asks to make a call at time now. When ok is false the call must not be made and
// is counted as a rejection. The transition reports an open → half_open change that this
// call observed.
func (b *Breaker) Allow(now time.Time) (t Ticket, ok bool, tr Transition) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open && now.Sub(b.openedAt) >= b.cfg.OpenTimeout {
		tr = b.setState(HalfOpen, now)
	}
	switch b.state {
	case Open:
		b.counts.Rejections++
		return Ticket{}, false, tr
	case HalfOpen:
		if b.probes >= b.cfg.HalfOpenMaxCalls {
			b.counts.Rejections++
			return Ticket{}, false, tr
		}
		b.probes++
	}
	return Ticket{generation: b.generation}, true, tr
}

// Record reports the outcome of a call admitted by Allow.
func (b *Breaker) Record(t Ticket, now time.Time, o Outcome) Transition {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch o {
	case Success:
		b.counts.Successes++
	case Failure:
		b.counts.Failures++
	default:
		b.counts.Ignored++
	}
	if t.generation != b.generation {
		return Transition{}
	}
	switch b.state {
	case Closed:
		switch o {
		case Success:
			b.failures = 0
		case Failure:
			b.failures++
			if b.failures >= b.cfg.FailureThreshold {
				return b.setState(Open, now)
			}
		}
	case HalfOpen:
		switch o {
		case Success:
			return b.setState(Closed, now)
		case Failure:
			return b.setState(Open, now)
		default:
			b.probes--
		}
	}
	return Transition{}
}

// setState moves to a new state and starts a new generation. Callers hold b.mu.
func (b *Breaker) setState(s State, now time.Time) Transition {
	tr := Transition{From: b.state, To: s, Changed: true}
	b.state = s
	b.generation++
	b.failures = 0
	b.probes = 0
	if s == Open {
		b.openedAt = now
	}
	b.counts.Transitions++
	return tr
}

// Snapshot is a consistent view of a breaker at one moment.
type Snapshot struct {
	Name     string `json:"name"`
	State    State  `json:"-"`
	StateStr string `json:"state"`
	// Failures is the current run of consecutive counted failures (closed state only).
	Failures int    `json:"consecutive_failures"`
	Counts   Counts `json:"counts"`
}

// Snapshot returns the breaker's state and counts. The state is as last recorded: an
// open breaker whose timeout has passed still reads open until a call arrives.
func (b *Breaker) Snapshot() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Snapshot{Name: b.cfg.Name, State: b.state, StateStr: b.state.String(), Failures: b.failures, Counts: b.counts}
}

// BreakerState is what a breaker must carry across processes to behave as one long-lived
// breaker: its state, the current run of failures, when it opened (on the clock its
// callers use) and its counts. Probes in flight are not part of it: a process that ends
// with a probe in flight leaves a half-open breaker that admits probes again.
type BreakerState struct {
	State    string    `json:"state"`
	Failures int       `json:"consecutive_failures"`
	OpenedAt time.Time `json:"opened_at,omitzero"`
	Counts   Counts    `json:"counts"`
	// Generation, when set (by Carry), keeps the tickets of calls admitted before the
	// state was carried valid after Restore.
	Generation uint64 `json:"generation,omitempty"`
}

// Carry returns the breaker's state for a process that takes over from this one while
// calls are still in flight (a breaker workflow continuing as new): unlike Export's, its
// restored breaker accepts those calls' outcomes.
func (b *Breaker) Carry() BreakerState {
	st := b.Export()
	b.mu.Lock()
	st.Generation = b.generation
	b.mu.Unlock()
	return st
}

// Export returns the breaker's state for saving.
func (b *Breaker) Export() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := BreakerState{State: b.state.String(), Failures: b.failures, Counts: b.counts}
	if b.state != Closed {
		st.OpenedAt = b.openedAt
	}
	return st
}

// Restore replaces the breaker's state with a saved one. Results of calls admitted
// before Restore are ignored, as after any state change, unless the state was carried
// (Carry). An unknown state name is an
// error and leaves the breaker unchanged.
func (b *Breaker) Restore(st BreakerState) error {
	s, ok := parseState(st.State)
	if !ok {
		return fmt.Errorf("breaker %q: unknown saved state %q", b.cfg.Name, st.State)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state = s
	b.generation++
	if st.Generation != 0 {
		b.generation = st.Generation
	}
	b.failures = max(st.Failures, 0)
	b.openedAt = st.OpenedAt
	b.probes = 0
	b.counts = st.Counts
	return nil
}

// ParseState returns the state a name (State.String) stands for.
func ParseState(name string) (State, bool) { return parseState(name) }

func parseState(name string) (State, bool) {
	for _, s := range []State{Closed, Open, HalfOpen} {
		if s.String() == name {
			return s, true
		}
	}
	return 0, false
}
