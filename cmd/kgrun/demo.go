package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

// demoBreaker shows one breaker alone: threshold 3, open timeout 5s, in front of a
// service that fails 80% of calls, called once a second for ten seconds on a virtual
// clock. The seed fixes which calls fail.
func demoBreaker(w io.Writer, seed int64) int {
	b := policy.NewBreaker(policy.BreakerConfig{Name: "demo", FailureThreshold: 3, OpenTimeout: 5 * time.Second, HalfOpenMaxCalls: 1})
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6b6772756e))
	clock := engine.NewVirtualClock(engine.Epoch)
	fmt.Fprintf(w, "Circuit breaker demo: threshold 3, open timeout 5s, service failing 80%% of calls, seed %d\n\n", seed)
	for call := 1; call <= 10; call++ {
		now := clock.Now()
		at := now.Sub(engine.Epoch)
		t, ok, tr := b.Allow(now)
		note := ""
		if tr.Changed {
			note = fmt.Sprintf("  (%s → %s)", tr.From, tr.To)
		}
		if !ok {
			fmt.Fprintf(w, "  call %2d at %3s: rejected, breaker %s%s\n", call, at, b.Snapshot().StateStr, note)
		} else {
			outcome, word := policy.Success, "success"
			if rng.Float64() < 0.8 {
				outcome, word = policy.Failure, "failure"
			}
			if tr2 := b.Record(t, now, outcome); tr2.Changed {
				note += fmt.Sprintf("  (%s → %s)", tr2.From, tr2.To)
			}
			fmt.Fprintf(w, "  call %2d at %3s: %-8s breaker %s%s\n", call, at, word, b.Snapshot().StateStr, note)
		}
		clock.Advance(time.Second)
	}
	c := b.Snapshot().Counts
	fmt.Fprintf(w, "\n%s, %s, %d rejected without calling the service, %s\n", plural(int(c.Successes), "success"),
		plural(int(c.Failures), "failure"), c.Rejections, plural(int(c.Transitions), "transition"))
	return exitOK
}
