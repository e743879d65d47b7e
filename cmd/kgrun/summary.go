package main

import (
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// runSummary folds the outcomes of --runs N as they finish, so its memory depends on the
// workflow (its nodes and distinct paths), never on N.
type runSummary struct {
	mu       sync.Mutex
	statuses map[engine.Status]int
	calls    map[string]int
	paths    map[string]int
	elapsed  durationSketch
}

func newRunSummary() *runSummary {
	return &runSummary{statuses: map[engine.Status]int{}, calls: map[string]int{}, paths: map[string]int{}}
}

// add records one run; res is nil when the run could not start.
func (s *runSummary) add(res *engine.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if res == nil {
		s.statuses[engine.StatusFailed]++
		s.paths[""]++
		s.elapsed.add(0)
		return
	}
	s.statuses[res.Status]++
	for n, c := range res.Calls {
		s.calls[n] += c
	}
	s.paths[strings.Join(res.PathNodes(), " > ")]++
	s.elapsed.add(time.Duration(res.Elapsed))
}

// exactSamples is how many durations durationSketch keeps as they are: up to this many
// runs, percentiles are exact (nearest rank).
const exactSamples = 1024

// subBuckets per power of two: beyond exactSamples a percentile is the upper bound of
// its bucket, at most 1/subBuckets (1.6 %) above the true value, and never above max.
const subBuckets = 64

// durationSketch gives nearest-rank percentiles of durations in bounded memory: exact for
// the first exactSamples values, then a fixed log-linear histogram (64 powers of two ×
// subBuckets), in the manner of HDR histograms.
type durationSketch struct {
	n       int
	max     time.Duration
	exact   []time.Duration
	buckets *[64 * subBuckets]uint64
}

func (s *durationSketch) add(d time.Duration) {
	d = max(d, 0)
	s.n++
	s.max = max(s.max, d)
	if s.buckets == nil {
		if len(s.exact) < exactSamples {
			s.exact = append(s.exact, d)
			return
		}
		s.buckets = new([64 * subBuckets]uint64)
		for _, e := range s.exact {
			s.buckets[bucketOf(e)]++
		}
		s.exact = nil
	}
	s.buckets[bucketOf(d)]++
}

// bucketOf maps d to its bucket: values below subBuckets have one bucket each; above,
// each power of two [2^k, 2^(k+1)) is split into subBuckets equal parts.
func bucketOf(d time.Duration) int {
	v := uint64(d)
	if v < subBuckets {
		return int(v)
	}
	k := bits.Len64(v) - 1 // 2^k ≤ v
	shift := k - 6         // subBuckets = 2^6
	return (k-5)*subBuckets + int((v>>shift)-subBuckets)
}

// bucketTop is the largest duration in bucket i.
func bucketTop(i int) time.Duration {
	if i < subBuckets {
		return time.Duration(i)
	}
	k := i/subBuckets + 5
	sub := uint64(i%subBuckets) + subBuckets
	shift := k - 6
	return time.Duration((sub+1)<<shift - 1)
}

// pct is the p-th percentile (nearest rank), 0 when nothing was added.
func (s *durationSketch) pct(p int) time.Duration {
	if s.n == 0 {
		return 0
	}
	rank := max(1, (p*s.n+99)/100)
	if s.buckets == nil {
		sorted := slices.Clone(s.exact)
		slices.Sort(sorted)
		return sorted[min(len(sorted), rank)-1]
	}
	seen := uint64(0)
	for i, c := range s.buckets {
		seen += c
		if seen >= uint64(rank) {
			return min(bucketTop(i), s.max)
		}
	}
	return s.max
}
