package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// nearestRank is the reference percentile: the sorted slice's nearest rank.
func nearestRank(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted) + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

func TestDurationSketchPercentiles(t *testing.T) {
	for _, n := range []int{1, 2, 7, 100, exactSamples, exactSamples + 1, 10_000, 200_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(n), 1))
			var s durationSketch
			all := make([]time.Duration, n)
			for i := range all {
				// Spread over nine decades, zero included, as run times on both clocks are.
				all[i] = time.Duration(r.Int64N(1 << uint(r.IntN(40))))
				s.add(all[i])
			}
			slices.Sort(all)
			if s.max != all[n-1] {
				t.Errorf("max %v, want %v", s.max, all[n-1])
			}
			for _, p := range []int{0, 1, 50, 90, 99, 100} {
				got, want := s.pct(p), nearestRank(all, p)
				if n <= exactSamples && got != want {
					t.Errorf("p%d = %v, want exactly %v", p, got, want)
				}
				if got < want || float64(got-want) > float64(want)/subBuckets {
					t.Errorf("p%d = %v, want %v within %.1f%% above", p, got, want, 100.0/subBuckets)
				}
			}
		})
	}
	var empty durationSketch
	if empty.pct(50) != 0 {
		t.Error("percentile of nothing should be 0")
	}
}

func TestBucketsCoverEveryDuration(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 63, 64, 65, 127, 128, 1 << 20, 1<<62 + 12345, 1<<63 - 1} {
		i := bucketOf(d)
		if i < 0 || i >= 64*subBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", d, i)
		}
		if top := bucketTop(i); top < d || (i > 0 && bucketTop(i-1) >= d) {
			t.Errorf("%d falls in bucket %d whose range ends at %d (previous ends at %d)", d, i, top, bucketTop(i-1))
		}
	}
}

// retainedPerRun folds n results like --runs n and returns the heap kept per run: the
// least of three tries, since the heap also holds what other goroutines of the test
// binary allocate and free meanwhile.
func retainedPerRun(t *testing.T, n int) float64 {
	least := math.Inf(1)
	for range 3 {
		least = math.Min(least, retainedOnce(n))
	}
	return least
}

func retainedOnce(n int) float64 {
	res := &engine.Result{Status: engine.StatusSuccess, Calls: map[string]int{"a": 1, "b": 2}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := newRunSummary()
	for i := 0; i < n; i++ {
		res.Elapsed = engine.Duration(time.Duration(i%5000) * time.Microsecond)
		s.add(res)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// The summary of --runs N keeps the same memory at N = 1,000 and N = 100,000: a
// summary that kept every outcome would keep about 100 times more at the larger N.
func TestRunSummaryMemoryDoesNotGrowWithRuns(t *testing.T) {
	small := retainedPerRun(t, 1_000) * 1_000
	large := retainedPerRun(t, 100_000) * 100_000
	t.Logf("retained: %.0f B at N=1,000 (%.2f B/run), %.0f B at N=100,000 (%.3f B/run)", small, small/1_000, large, large/100_000)
	if large-small > 256<<10 { // keeping every outcome would be about 32 MB more
		t.Errorf("N=100,000 keeps %.0f B more than N=1,000; the summary grows with N", large-small)
	}
	kept := keptPerRun(100_000)
	t.Logf("keeping every outcome instead: %.0f B/run at N=100,000", kept)
	if large/100_000 > kept/100 {
		t.Errorf("streaming keeps %.3f B/run, not under 1%% of keeping every outcome (%.0f B/run)", large/100_000, kept)
	}
}

// keptPerRun is what the former summary kept per run (every outcome until the end),
// measured the same way, for the figure beside the streaming one.
func keptPerRun(n int) float64 {
	type outcome struct {
		status  engine.Status
		elapsed time.Duration
		calls   map[string]int
		path    string
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	outcomes := make([]outcome, n)
	for i := range outcomes {
		outcomes[i] = outcome{status: engine.StatusSuccess, elapsed: time.Duration(i), calls: map[string]int{"a": 1, "b": 2}, path: fmt.Sprint("a > b > ", i%3)}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(outcomes)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}
