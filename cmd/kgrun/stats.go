package main

import (
	"sort"
	"strings"
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
	// fanouts summarise the children of the run's own map, parallel and workflow
	// nodes, in the order they first started one; scopeStarts holds when each child in
	// flight started.
	fanouts     []*fanoutStats
	scopeStarts map[string]time.Duration
}

// fanoutStats is what the report says of one composite node's children: how many ended
// how, and the slowest few.
type fanoutStats struct {
	node     string
	statuses map[engine.Status]int
	slowest  []childTime // longest first, at most slowestKept
	children int
}

type childTime struct {
	scope  string
	took   time.Duration
	status engine.Status
}

// slowestKept bounds what the report keeps of a map's items, whatever their number.
const slowestKept = 3

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
	return &stats{retries: map[string]int{}, waits: map[string]time.Duration{}, retryKinds: map[string]map[engine.Kind]int{},
		scopeStarts: map[string]time.Duration{}}
}

func (s *stats) Event(e engine.Event) {
	switch e.Kind {
	case engine.EventRetryScheduled, engine.EventBreakerState, engine.EventParams:
	case engine.EventScopeStart, engine.EventScopeEnd:
		s.mu.Lock()
		s.scope(e)
		s.mu.Unlock()
		return
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	node := e.NodePath()
	if e.Kind == engine.EventParams {
		if len(s.params) < reportPathLimit {
			label := e.Node // a child's visit is named with its item: fan[3]/check
			if e.Scope != "" {
				label = e.Scope + "/" + e.Node
			}
			s.params = append(s.params, visitParams{Node: label, Visit: e.Visit, Params: e.Params})
		}
		return
	}
	if e.Kind == engine.EventRetryScheduled {
		s.retries[node]++
		s.waits[node] += time.Duration(e.Delay)
		if s.retryKinds[node] == nil {
			s.retryKinds[node] = map[engine.Kind]int{}
		}
		s.retryKinds[node][e.ErrKind]++
		return
	}
	s.transitions = append(s.transitions, transition{Breaker: e.Breaker, From: e.From, To: e.State, Node: node, At: e.At.String(), at: time.Duration(e.At)})
}

// scope records a child run's start or end; only the run's own composite nodes (not
// those nested inside bodies) are summarised.
func (s *stats) scope(e engine.Event) {
	if strings.Contains(e.Scope, "/") && !strings.HasPrefix(e.Scope, e.Node+"/") {
		return
	}
	if strings.Count(e.Scope, "/") > 1 || (strings.Contains(e.Scope, "/") && strings.Contains(e.Scope, "[")) {
		return
	}
	if e.Kind == engine.EventScopeStart {
		s.scopeStarts[e.Scope] = time.Duration(e.At)
		return
	}
	took := time.Duration(e.At) - s.scopeStarts[e.Scope]
	delete(s.scopeStarts, e.Scope)
	var f *fanoutStats
	for _, x := range s.fanouts {
		if x.node == e.Node {
			f = x
		}
	}
	if f == nil {
		f = &fanoutStats{node: e.Node, statuses: map[engine.Status]int{}}
		s.fanouts = append(s.fanouts, f)
	}
	f.children++
	f.statuses[e.Status]++
	f.slowest = append(f.slowest, childTime{scope: e.Scope, took: took, status: e.Status})
	sort.SliceStable(f.slowest, func(i, j int) bool { return f.slowest[i].took > f.slowest[j].took })
	if len(f.slowest) > slowestKept {
		f.slowest = f.slowest[:slowestKept]
	}
}
