package engine

import "testing"

func TestEmitsPolicyEvents(t *testing.T) {
	cases := []struct {
		name, nodes string
		want        bool
	}{
		{"no policies", "  a: {type: echo}\n", false},
		{"one attempt never retries", "  a: {type: echo, retry: {attempts: 1}}\n", false},
		{"retry", "  a: {type: echo, retry: {attempts: 3}}\n", true},
		{"timeout and bulkhead emit neither", "  a: {type: echo, timeout: 1s, bulkhead: {max_concurrent: 2}}\n", false},
		{"breaker", "  a: {type: echo, breaker: b}\nbreakers:\n  b: {failure_threshold: 2, open_timeout: 1s}\n", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := mustLoad(t, "version: 1\nname: p\nstart: a\nnodes:\n"+c.nodes)
			if got := g.EmitsPolicyEvents(); got != c.want {
				t.Errorf("EmitsPolicyEvents = %v, want %v", got, c.want)
			}
			// Cross-check against what a run really emits.
			if !c.want {
				_, events := runVirtual(t, g, RunOptions{})
				if n := len(eventsOf(events, EventRetryScheduled)) + len(eventsOf(events, EventBreakerState)); n != 0 {
					t.Errorf("graph said no policy events, run emitted %d", n)
				}
			}
		})
	}
}
