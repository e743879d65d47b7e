package builtin

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// rejections counts breaker rejections across concurrent runs.
type rejections struct{ n atomic.Int64 }

func (r *rejections) Event(e engine.Event) {
	if e.Kind == engine.EventBreakerRejected {
		r.n.Add(1)
	}
}

// TestThousandConcurrentRunsAccounting runs the flagship 1000 times, 16 at a time, on one
// graph (shared breaker) and one virtual clock. Under -race it proves the sharing safe;
// the counts prove every breaker call is accounted for exactly once and every run ends
// in exactly one status.
func TestThousandConcurrentRunsAccounting(t *testing.T) {
	const runs, workers = 1000, 16
	g, ds := engine.LoadFile("../workflows/fault_tolerant.yaml", Registry(Options{}))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	clock := engine.NewVirtualClock(engine.Epoch)
	rej := &rejections{}
	dir := t.TempDir()
	var (
		mu       sync.Mutex
		statuses = map[engine.Status]int{}
		calls    int
		wg       sync.WaitGroup
		seeds    = make(chan int64)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				res, err := g.Run(context.Background(), engine.RunOptions{Scenario: "network", Seed: seed, Clock: clock, Tracer: rej,
					Params: map[string]any{"alternate_dir": dir}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				statuses[res.Status]++
				calls += res.Calls["collect"]
				mu.Unlock()
			}
		}()
	}
	for i := int64(0); i < runs; i++ {
		seeds <- i
	}
	close(seeds)
	wg.Wait()

	total := 0
	for _, n := range statuses {
		total += n
	}
	if total != runs || statuses[engine.StatusFailed] != 0 {
		t.Fatalf("statuses %v: want %d runs and none failed", statuses, runs)
	}
	b, _ := g.Breaker("primary_api")
	c := b.Counts
	if admitted := c.Successes + c.Failures + c.Ignored; int(admitted) != calls {
		t.Fatalf("breaker recorded %d admitted calls (%+v), the runs made %d collect calls", admitted, c, calls)
	}
	if int64(c.Rejections) != rej.n.Load() {
		t.Fatalf("breaker counted %d rejections, the traces saw %d", c.Rejections, rej.n.Load())
	}
	if c.Rejections == 0 || c.Transitions == 0 {
		t.Fatalf("the shared breaker never opened across %d network runs: %+v", runs, c)
	}
}
