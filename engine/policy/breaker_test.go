package policy

import (
	"context"
	"errors"
	"testing"
	"time"
)

// step is one call against a breaker: when it arrives (offset from t0) and, if
// admitted, its outcome.
type step struct {
	at      time.Duration
	outcome Outcome
	// want is whether the call must be admitted, and state the state afterwards.
	want  bool
	state State
}

func TestBreakerStateMachine(t *testing.T) {
	cfg := BreakerConfig{Name: "api", FailureThreshold: 3, OpenTimeout: 30 * time.Second, HalfOpenMaxCalls: 1}
	cases := []struct {
		name  string
		steps []step
	}{
		{"opens after threshold consecutive failures", []step{
			{0, Failure, true, Closed}, {1, Failure, true, Closed}, {2, Failure, true, Open},
			{3, Success, false, Open},
		}},
		{"a success resets the consecutive count", []step{
			{0, Failure, true, Closed}, {1, Failure, true, Closed}, {2, Success, true, Closed},
			{3, Failure, true, Closed}, {4, Failure, true, Closed}, {5, Failure, true, Open},
		}},
		{"ignored errors neither count nor reset", []step{
			{0, Failure, true, Closed}, {1, Ignored, true, Closed}, {2, Failure, true, Closed},
			{3, Ignored, true, Closed}, {4, Failure, true, Open},
		}},
		{"stays open until open_timeout, then half-opens lazily and closes on success", []step{
			{0, Failure, true, Closed}, {0, Failure, true, Closed}, {0, Failure, true, Open},
			{29 * time.Second, Success, false, Open},
			{30 * time.Second, Success, true, Closed},
			{31 * time.Second, Failure, true, Closed},
		}},
		{"a failed probe reopens and restarts the timeout", []step{
			{0, Failure, true, Closed}, {0, Failure, true, Closed}, {0, Failure, true, Open},
			{40 * time.Second, Failure, true, Open},
			{69 * time.Second, Success, false, Open},
			{70 * time.Second, Success, true, Closed},
		}},
		{"an ignored probe frees its slot without deciding", []step{
			{0, Failure, true, Closed}, {0, Failure, true, Closed}, {0, Failure, true, Open},
			{30 * time.Second, Ignored, true, HalfOpen},
			{31 * time.Second, Success, true, Closed},
		}},
	}
	t0 := time.Unix(0, 0)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBreaker(cfg)
			for i, s := range c.steps {
				now := t0.Add(s.at)
				tk, ok, _ := b.Allow(now)
				if ok != s.want {
					t.Fatalf("step %d at %v: admitted=%v, want %v", i, s.at, ok, s.want)
				}
				if ok {
					b.Record(tk, now, s.outcome)
				}
				if got := b.Snapshot().State; got != s.state {
					t.Fatalf("step %d at %v: state %v, want %v", i, s.at, got, s.state)
				}
			}
		})
	}
}

func TestBreakerProbeLimitAndCounts(t *testing.T) {
	b := NewBreaker(BreakerConfig{FailureThreshold: 1, OpenTimeout: time.Second, HalfOpenMaxCalls: 2})
	t0 := time.Unix(0, 0)
	tk, _, _ := b.Allow(t0)
	if tr := b.Record(tk, t0, Failure); !tr.Changed || tr.To != Open {
		t.Fatalf("transition %+v, want to open", tr)
	}
	later := t0.Add(time.Second)
	p1, ok1, tr := b.Allow(later)
	if !ok1 || !tr.Changed || tr.From != Open || tr.To != HalfOpen {
		t.Fatalf("first probe admitted=%v transition %+v", ok1, tr)
	}
	p2, ok2, _ := b.Allow(later)
	_, ok3, _ := b.Allow(later)
	if !ok2 || ok3 {
		t.Fatalf("probe limit 2: second admitted=%v, third admitted=%v", ok2, ok3)
	}
	b.Record(p1, later, Success)
	// p2 was admitted in the half-open generation; its failure must not reopen the
	// breaker that p1 closed.
	b.Record(p2, later, Failure)
	s := b.Snapshot()
	if s.State != Closed {
		t.Fatalf("state %v after a stale failure, want closed", s.State)
	}
	want := Counts{Successes: 1, Failures: 2, Rejections: 1, Transitions: 3}
	if s.Counts != want {
		t.Fatalf("counts %+v, want %+v", s.Counts, want)
	}
}

func TestBulkhead(t *testing.T) {
	b := NewBulkhead(1)
	never := func(time.Duration) <-chan time.Time { return nil }
	fired := func(time.Duration) <-chan time.Time {
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	ctx := context.Background()
	if err := b.Acquire(ctx, 0, never); err != nil {
		t.Fatal(err)
	}
	if err := b.Acquire(ctx, 0, never); !errors.Is(err, ErrBulkheadFull) {
		t.Fatalf("no wait: %v, want ErrBulkheadFull", err)
	}
	if err := b.Acquire(ctx, time.Second, fired); !errors.Is(err, ErrBulkheadFull) {
		t.Fatalf("wait elapsed: %v, want ErrBulkheadFull", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Acquire(cctx, time.Second, never); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	done := make(chan error)
	go func() { done <- b.Acquire(ctx, time.Hour, never) }()
	b.Release()
	if err := <-done; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if b.InUse() != 1 {
		t.Fatalf("in use %d", b.InUse())
	}
}

// TestBreakerExportRestore: a breaker restored from another's export behaves as the
// original would have: still open before open_timeout, half-open after it, with the
// counts carried over; a stale ticket from before the restore changes nothing.
func TestBreakerExportRestore(t *testing.T) {
	cfg := BreakerConfig{Name: "api", FailureThreshold: 2, OpenTimeout: 30 * time.Second, HalfOpenMaxCalls: 1}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewBreaker(cfg)
	for range 2 {
		tk, _, _ := a.Allow(t0)
		a.Record(tk, t0, Failure)
	}
	saved := a.Export()
	if saved.State != "open" || !saved.OpenedAt.Equal(t0) || saved.Counts.Failures != 2 {
		t.Fatalf("export %+v", saved)
	}

	b := NewBreaker(cfg)
	stale, _, _ := b.Allow(t0)
	if err := b.Restore(saved); err != nil {
		t.Fatal(err)
	}
	if tr := b.Record(stale, t0, Success); tr.Changed || b.Snapshot().State != Open {
		t.Fatalf("a ticket from before the restore changed the breaker: %+v", b.Snapshot())
	}
	if _, ok, _ := b.Allow(t0.Add(10 * time.Second)); ok {
		t.Fatal("restored open breaker admitted a call before open_timeout")
	}
	tk, ok, tr := b.Allow(t0.Add(30 * time.Second))
	if !ok || tr.To != HalfOpen {
		t.Fatalf("after open_timeout: admitted %v, transition %+v", ok, tr)
	}
	b.Record(tk, t0.Add(30*time.Second), Success)
	if s := b.Snapshot(); s.State != Closed || s.Counts.Rejections != 1 || s.Counts.Failures != 2 {
		t.Fatalf("after the probe: %+v", s)
	}
	if err := b.Restore(BreakerState{State: "ajar"}); err == nil || b.Snapshot().State != Closed {
		t.Fatalf("unknown state: err %v, state %v", err, b.Snapshot().State)
	}
}
