package engine

import (
	"fmt"
	"testing"
	"time"
)

// A workflow whose only node fails its first `fails` calls with a network error.
func retryWorkflow(retry string, fails int) string {
	return fmt.Sprintf(`
version: 1
name: retry
start: work
nodes:
  work:
    type: echo
    retry: %s
scenarios:
  flaky:
    faults:
      work:
        script:
          - {calls: "1-%d", fail: network}
`, retry, fails)
}

func TestRetryDelaySequence(t *testing.T) {
	cases := []struct {
		name   string
		retry  string
		fails  int
		delays string
		status Status
		calls  int
	}{
		{"fixed", "{attempts: 4, delay: 1s}", 3, "1s 1s 1s", StatusSuccess, 4},
		{"exponential", "{attempts: 5, delay: 1s, backoff: exponential}", 4, "1s 2s 4s 8s", StatusSuccess, 5},
		{"exponential multiplier 3", "{attempts: 4, delay: 100ms, multiplier: 3}", 3, "100ms 300ms 900ms", StatusSuccess, 4},
		{"capped", "{attempts: 6, delay: 1s, backoff: exponential, max_delay: 5s}", 5, "1s 2s 4s 5s 5s", StatusSuccess, 6},
		{"exhausted", "{attempts: 3, delay: 1s}", 10, "1s 1s", StatusFailed, 3},
		{"one attempt never retries", "{attempts: 1, delay: 1s}", 10, "", StatusFailed, 1},
		{"zero delay", "{attempts: 3}", 2, "0s 0s", StatusSuccess, 3},
		{"max_duration stops early", "{attempts: 10, delay: 1s, backoff: exponential, max_duration: 10s}", 10, "1s 2s 4s", StatusFailed, 4},
		{"jitter full is seeded and capped", "{attempts: 5, delay: 1s, backoff: exponential, max_delay: 4s, jitter: full}", 4,
			"", StatusSuccess, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := mustLoad(t, retryWorkflow(c.retry, c.fails))
			res, events := runVirtual(t, g, RunOptions{Scenario: "flaky", Seed: 42})
			if res.Status != c.status || res.Calls["work"] != c.calls {
				t.Fatalf("status %s with %d calls, want %s with %d", res.Status, res.Calls["work"], c.status, c.calls)
			}
			if c.name == "jitter full is seeded and capped" {
				caps := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
				got := eventsOf(events, EventRetryScheduled)
				if len(got) != 4 {
					t.Fatalf("%d retries, want 4", len(got))
				}
				same := true
				for i, e := range got {
					d := time.Duration(e.Delay)
					if d < 0 || d > caps[i] {
						t.Errorf("jittered delay %d = %v, outside [0, %v]", i+1, d, caps[i])
					}
					same = same && d == caps[i]
				}
				if same {
					t.Errorf("jitter changed nothing: %s", delays(events))
				}
				_, again := runVirtual(t, g, RunOptions{Scenario: "flaky", Seed: 42})
				if delays(again) != delays(events) {
					t.Errorf("same seed, different jitter: %s vs %s", delays(events), delays(again))
				}
				_, other := runVirtual(t, g, RunOptions{Scenario: "flaky", Seed: 43})
				if delays(other) == delays(events) {
					t.Errorf("different seeds, same jitter: %s", delays(other))
				}
				return
			}
			if got := delays(events); got != c.delays {
				t.Errorf("delays %q, want %q", got, c.delays)
			}
		})
	}
}

func TestRetryFailureActions(t *testing.T) {
	// Exhausted retries emit retry_exhausted; a data error is not retried and emits error.
	src := `
version: 1
name: actions
start: work
nodes:
  work:
    type: echo
    retry: {attempts: 3, delay: 1s}
    on: {success: done, retry_exhausted: exhausted, error: errored}
  done: {type: echo}
  exhausted: {type: echo}
  errored: {type: echo}
scenarios:
  network:
    faults: {work: {rate: 1, kind: network}}
  data:
    faults: {work: {rate: 1, kind: data}}
`
	g := mustLoad(t, src)
	res, _ := runVirtual(t, g, RunOptions{Scenario: "network"})
	if got := pathString(res); got != "work(retry_exhausted) → exhausted(success) = degraded" || res.Calls["work"] != 3 {
		t.Errorf("network: %s, %d calls", got, res.Calls["work"])
	}
	res, _ = runVirtual(t, g, RunOptions{Scenario: "data"})
	if got := pathString(res); got != "work(error) → errored(success) = degraded" || res.Calls["work"] != 1 {
		t.Errorf("data: %s, %d calls", got, res.Calls["work"])
	}
}
