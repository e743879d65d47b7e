package main

import (
	"sync"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// stats is a Tracer that keeps only what the report needs (retries, waits, breaker
// transitions), so a run's report costs constant memory however long the run.
type stats struct {
	mu          sync.Mutex
	retries     map[string]int
	waits       map[string]time.Duration
	retryKinds  map[string]map[engine.Kind]int
	transitions []transition
	// params are the values the first visits' ${{ }} params computed, as traced
	// (secrets already redacted by their node types), up to reportPathLimit visits.
	params []visitParams
}

type visitParams struct {
	Node   string
	Visit  int
	Params map[string]any
}

type transition struct {
	Breaker string `json:"breaker"`
	From    string `json:"from"`
	To      string `json:"to"`
	Node    string `json:"node"`
	At      string `json:"at"`
	at      time.Duration
}

func newStats() *stats {
	return &stats{retries: map[string]int{}, waits: map[string]time.Duration{}, retryKinds: map[string]map[engine.Kind]int{}}
}

func (s *stats) Event(e engine.Event) {
	switch e.Kind {
	case engine.EventRetryScheduled, engine.EventBreakerState, engine.EventParams:
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Kind == engine.EventParams {
		if len(s.params) < reportPathLimit {
			s.params = append(s.params, visitParams{Node: e.Node, Visit: e.Visit, Params: e.Params})
		}
		return
	}
	if e.Kind == engine.EventRetryScheduled {
		s.retries[e.Node]++
		s.waits[e.Node] += time.Duration(e.Delay)
		if s.retryKinds[e.Node] == nil {
			s.retryKinds[e.Node] = map[engine.Kind]int{}
		}
		s.retryKinds[e.Node][e.ErrKind]++
		return
	}
	s.transitions = append(s.transitions, transition{Breaker: e.Breaker, From: e.From, To: e.State, Node: e.Node, At: e.At.String(), at: time.Duration(e.At)})
}
