package engine

import (
	"context"
	"sync"
	"testing"
)

// lateExecWorkflow injects latency equal to the node's timeout on the real clock, then
// fails half the calls: the exec often outlives its attempt and injects its failure after
// the run has moved on.
const lateExecWorkflow = `
version: 1
name: late
start: work
nodes:
  work:
    type: echo
    timeout: 1ms
    retry: {attempts: 3, delay: 1ms}
    on: {success: done, retry_exhausted: done, timeout: done, error: done}
  done: {type: echo}
scenarios:
  slow: {faults: {work: {latency: 1ms, rate: 0.5, kind: network}}}
`

// TestLateExecTouchesNoRunState: many concurrent real-clock runs whose exec outlives its
// timeout. Under -race this fails if the late exec writes run state; in any build the
// trace's sequence numbers must be 1, 2, 3... with no duplicate or gap.
func TestLateExecTouchesNoRunState(t *testing.T) {
	g := mustLoad(t, lateExecWorkflow)
	const runs, workers = 300, 16
	var wg sync.WaitGroup
	seeds := make(chan int64)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				rec := &Recorder{}
				res, err := g.Run(context.Background(), RunOptions{Scenario: "slow", Seed: seed, Tracer: rec, DisableBreakers: true})
				if err != nil {
					t.Error(err)
					return
				}
				if res.Status == "" {
					t.Errorf("seed %d: no status", seed)
				}
				for i, e := range rec.Events() {
					if e.Seq != i+1 {
						t.Errorf("seed %d: event %d (%s) has seq %d", seed, i, e.Kind, e.Seq)
						return
					}
				}
			}
		}()
	}
	for s := int64(0); s < runs; s++ {
		seeds <- s
	}
	close(seeds)
	wg.Wait()
}
