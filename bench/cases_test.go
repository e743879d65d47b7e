package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/avast/retry-go/v4"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

const fourPolicies = `
version: 1
name: success4
start: work
breakers:
  svc: {failure_threshold: 5, open_timeout: 30s}
nodes:
  work:
    type: work
    retry: {attempts: 3, delay: 0s}
    breaker: svc
    bulkhead: {max_concurrent: 4, max_wait: 1s}
    timeout: 1s
`

// BenchmarkSuccess4: one call that succeeds at once through retry, breaker, bulkhead and
// per-attempt timeout. For kgrun, one op is a whole Graph.Run of a one-node workflow.
func BenchmarkSuccess4(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := work(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range clocks {
		b.Run("kgrun-run-"+c.name, func(b *testing.B) {
			runEach(b, compile(b, fourPolicies), c.new(), succeeded)
		})
	}
	b.Run("failsafe-go", func(b *testing.B) {
		exec := failsafeStack()
		b.ReportAllocs()
		for range b.N {
			if _, err := exec.Get(work); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("retry-go+gobreaker", func(b *testing.B) {
		c := newComposed(work)
		b.ReportAllocs()
		for range b.N {
			if _, err := c.call(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFailTwice: a call that fails twice and succeeds on its third attempt, under a
// retry policy of three attempts with no delay.
func BenchmarkFailTwice(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		f := &flaky{}
		b.ReportAllocs()
		for range b.N {
			f.calls = 0
			var err error
			for range attempts {
				if _, err = f.call(); err == nil {
					break
				}
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range clocks {
		b.Run("kgrun-run-"+c.name, func(b *testing.B) {
			g := compile(b, `
version: 1
name: failtwice
start: work
nodes:
  work: {type: flaky, retry: {attempts: 3, delay: 0s}}
`)
			runEach(b, g, c.new(), func(res *engine.Result) error {
				if err := succeeded(res); err != nil {
					return err
				}
				if n := res.Path[0].Attempts; n != 3 {
					return fmt.Errorf("succeeded after %d attempts, want 3", n)
				}
				return nil
			})
		})
	}
	b.Run("failsafe-go", func(b *testing.B) {
		exec := failsafeRetry()
		f := &flaky{}
		call := f.call
		b.ReportAllocs()
		for range b.N {
			f.calls = 0
			if _, err := exec.Get(call); err != nil || f.calls != 3 {
				b.Fatal(err, f.calls)
			}
		}
	})
	b.Run("retry-go", func(b *testing.B) {
		f := &flaky{}
		call := f.call
		b.ReportAllocs()
		for range b.N {
			f.calls = 0
			if _, err := retry.DoWithData(call, retryOptions...); err != nil || f.calls != 3 {
				b.Fatal(err, f.calls)
			}
		}
	})
}

// BenchmarkBreakerOpen: a call refused by a breaker that five failures opened.
func BenchmarkBreakerOpen(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		h := &handBreaker{}
		trip(b, func() error { _, err := h.call(failing); return err })
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := h.call(failing); err != errOpen {
				b.Fatal(err)
			}
		}
	})
	for _, c := range clocks {
		b.Run("kgrun-run-"+c.name, func(b *testing.B) {
			g := compile(b, `
version: 1
name: open
start: work
breakers:
  svc: {failure_threshold: 5, open_timeout: 30s}
nodes:
  work: {type: failing, breaker: svc}
`)
			clock := c.new()
			trip(b, func() error {
				res, err := g.Run(context.Background(), engine.RunOptions{Clock: clock})
				if err != nil {
					return err
				}
				return res.Err
			})
			runEach(b, g, clock, func(res *engine.Result) error {
				if !errors.Is(res.Err, engine.ErrCircuitOpen) {
					return fmt.Errorf("run ended with %v, want a rejection", res.Err)
				}
				return nil
			})
		})
	}
	for _, c := range clocks {
		// One op is one rejected visit inside a long run: two nodes routing their
		// rejections to each other.
		b.Run("kgrun-visit-"+c.name, func(b *testing.B) {
			g := compile(b, `
version: 1
name: open-loop
start: a
breakers:
  svc: {failure_threshold: 5, open_timeout: 30s}
nodes:
  a: {type: failing, breaker: svc, on: {next: b, error: b, circuit_open: b}}
  b: {type: failing, breaker: svc, on: {next: a, error: a, circuit_open: a}}
`)
			clock := c.new()
			res, err := g.Run(context.Background(), engine.RunOptions{Clock: clock, MaxSteps: failureThreshold})
			if err != nil {
				b.Fatal(err)
			}
			if st := g.Breakers()[0].State; st != policy.Open {
				b.Fatalf("breaker %s after %d failures (%v), want open", st, len(res.Failures), res.Err)
			}
			runVisits(b, g, clock)
		})
	}
	b.Run("kgrun-primitive", func(b *testing.B) {
		br := policy.NewBreaker(policy.BreakerConfig{Name: "svc", FailureThreshold: failureThreshold, OpenTimeout: openTimeout})
		call := func() error {
			t, ok, _ := br.Allow(time.Now())
			if !ok {
				return errOpen
			}
			_, err := failing()
			br.Record(t, time.Now(), policy.Failure)
			return err
		}
		trip(b, call)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := call(); err != errOpen {
				b.Fatal(err)
			}
		}
	})
	b.Run("failsafe-go", func(b *testing.B) {
		exec := failsafe.With[any](failsafeBreaker())
		trip(b, func() error { _, err := exec.Get(failing); return err })
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := exec.Get(failing); !errors.Is(err, circuitbreaker.ErrOpen) {
				b.Fatal(err)
			}
		}
	})
	b.Run("gobreaker", func(b *testing.B) {
		cb := newGobreaker()
		trip(b, func() error { _, err := cb.Execute(failing); return err })
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, err := cb.Execute(failing); err != gobreaker.ErrOpenState {
				b.Fatal(err)
			}
		}
	})
}

// trip makes the failing calls that open a breaker, checking that each one failed.
func trip(b *testing.B, call func() error) {
	b.Helper()
	for i := range failureThreshold {
		if err := call(); err == nil || errors.Is(err, errOpen) {
			b.Fatalf("call %d while tripping: %v, want a failure", i+1, err)
		}
	}
}

// BenchmarkBreakerAlone: a call that succeeds through a closed breaker and nothing else.
func BenchmarkBreakerAlone(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		h := &handBreaker{}
		b.ReportAllocs()
		for range b.N {
			if _, err := h.call(work); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range clocks {
		b.Run("kgrun-run-"+c.name, func(b *testing.B) {
			g := compile(b, `
version: 1
name: breaker
start: work
breakers:
  svc: {failure_threshold: 5, open_timeout: 30s}
nodes:
  work: {type: work, breaker: svc}
`)
			runEach(b, g, c.new(), succeeded)
		})
	}
	b.Run("kgrun-primitive", func(b *testing.B) {
		br := policy.NewBreaker(policy.BreakerConfig{Name: "svc", FailureThreshold: failureThreshold, OpenTimeout: openTimeout})
		b.ReportAllocs()
		for range b.N {
			t, ok, _ := br.Allow(time.Now())
			if !ok {
				b.Fatal("rejected")
			}
			if _, err := work(); err != nil {
				b.Fatal(err)
			}
			br.Record(t, time.Now(), policy.Success)
		}
	})
	b.Run("failsafe-go", func(b *testing.B) {
		exec := failsafe.With[any](failsafeBreaker())
		b.ReportAllocs()
		for range b.N {
			if _, err := exec.Get(work); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gobreaker", func(b *testing.B) {
		cb := newGobreaker()
		b.ReportAllocs()
		for range b.N {
			if _, err := cb.Execute(work); err != nil {
				b.Fatal(err)
			}
		}
	})
}
