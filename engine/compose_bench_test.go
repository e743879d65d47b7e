package engine

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// The per-item overhead of a map: one map node whose body is a single no-op node, run
// over N items at max_concurrency 64, beside a hand-written loop doing the least
// equivalent work per item (the body node's Prep, Exec and Post on a store of the item's
// own, its output kept in input order), so the ratio comes from one process.

const mapBenchFlow = `
version: 1
name: fanbench
start: fan
nodes:
  fan:
    type: map
    items: ${{ params.items }}
    max_concurrency: 64
    body:
      start: noop
      nodes:
        noop: {type: echo}
params: {items: []}
`

// mapBenchConc is the flow's max_concurrency.
const mapBenchConc = 64

func benchItems(n int) []any {
	items := make([]any, n)
	for i := range items {
		items[i] = i
	}
	return items
}

// BenchmarkMapItem reports ns/item, allocs/item and B/item for a whole run of the map
// (one op) at 100, 1,000 and 10,000 items, on the virtual clock and on the real clock;
// "runs" is the body's graph run as many times through Graph.Run, one run after
// another, and "direct" the hand-written baseline of the same size and clock.
func BenchmarkMapItem(b *testing.B) {
	g := mustLoad(b, mapBenchFlow)
	for _, clock := range []string{"virtual", "real"} {
		for _, n := range []int{100, 1_000, 10_000} {
			items := benchItems(n)
			b.Run(fmt.Sprintf("clock=%s/items=%d/kgrun", clock, n), func(b *testing.B) {
				opts := RunOptions{Params: map[string]any{"items": items}}
				perItem(b, n, func() {
					if clock == "virtual" {
						opts.Clock = NewVirtualClock(Epoch)
					}
					res, err := g.Run(context.Background(), opts)
					if err != nil {
						b.Fatal(err)
					}
					if res.Status != StatusSuccess {
						b.Fatalf("status %s: %v", res.Status, res.Err)
					}
					if got := res.Shared["fan"].(map[string]any)["succeeded"]; got != n {
						b.Fatalf("%v items succeeded, want %d", got, n)
					}
				})
			})
			b.Run(fmt.Sprintf("clock=%s/items=%d/runs", clock, n), func(b *testing.B) {
				// The body's graph run n times through Graph.Run, one after another:
				// what the items' child runs cost without the map around them.
				body := g.byName["fan"].compose.body.g
				opts := RunOptions{Params: map[string]any{"items": items}}
				perItem(b, n, func() {
					for range n {
						if clock == "virtual" {
							opts.Clock = NewVirtualClock(Epoch)
						}
						res, err := body.Run(context.Background(), opts)
						if err != nil || res.Status != StatusSuccess {
							b.Fatalf("%v %v", err, res.Status)
						}
					}
				})
			})
			b.Run(fmt.Sprintf("clock=%s/items=%d/direct", clock, n), func(b *testing.B) {
				d := newDirectMap(b, g, items)
				run := d.sequential
				if clock == "real" {
					run = d.fanOut
				}
				perItem(b, n, func() {
					out := run()
					if len(out) != n || out[n-1] == nil {
						b.Fatalf("baseline kept %d outputs", len(out))
					}
				})
			})
		}
	}
}

// perItem runs op b.N times and reports the figures per item as well as per op.
func perItem(b *testing.B, items int, op func()) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		op()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	ops := float64(b.N) * float64(items)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/ops, "ns/item")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/ops, "allocs/item")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/ops, "B/item")
}

// directMap is the baseline: the map's body node called by hand.
type directMap struct {
	impl  Node
	items []any
	slots chan *directSlot
}

// directSlot is what one item in flight needs to call the node's methods: a run
// carrying the item's own shared store and the params, with its Visit and Attempt.
type directSlot struct {
	r *run
	v Visit
	a Attempt
}

func newDirectMap(tb testing.TB, g *Graph, items []any) *directMap {
	body := g.byName["fan"].compose.body.g
	n := body.nodes[0]
	d := &directMap{impl: n.impl, items: items, slots: make(chan *directSlot, mapBenchConc)}
	for range mapBenchConc {
		s := &directSlot{r: directRun(body, items)}
		s.v = Visit{r: s.r, n: n, number: 1}
		s.a = Attempt{r: s.r, n: n, visit: 1, number: 1, call: 1}
		d.slots <- s
	}
	if len(items) > 0 {
		s := <-d.slots
		if d.one(s, 0) == nil {
			tb.Fatal("the body node wrote nothing")
		}
		d.slots <- s
	}
	return d
}

// one runs item i on s: a fresh store (each item's run has its own), the node's three
// methods, and the store as the item's output (what a body without output returns).
func (d *directMap) one(s *directSlot, i int) map[string]any {
	s.r.shared = make(map[string]any, 1)
	in, err := d.impl.Prep(&s.v)
	if err != nil {
		panic(err)
	}
	out, err := d.impl.Exec(context.Background(), &s.a, in)
	if err != nil {
		panic(err)
	}
	if _, err := d.impl.Post(&s.v, in, out); err != nil {
		panic(err)
	}
	return s.r.shared
}

// sequential is the virtual clock's baseline: one item after another, as the
// discrete-event scheduler runs a no-op body.
func (d *directMap) sequential() []any {
	out := make([]any, len(d.items))
	status := make([]string, len(d.items))
	s := <-d.slots
	for i := range d.items {
		out[i] = d.one(s, i)
		status[i] = string(StatusSuccess)
	}
	d.slots <- s
	return out
}

// fanOut is the real clock's baseline: a goroutine per item, at most 64 at once (the
// slots are the semaphore).
func (d *directMap) fanOut() []any {
	out := make([]any, len(d.items))
	status := make([]string, len(d.items))
	var wg sync.WaitGroup
	wg.Add(len(d.items))
	for i := range d.items {
		s := <-d.slots
		go func() {
			defer wg.Done()
			out[i] = d.one(s, i)
			status[i] = string(StatusSuccess)
			d.slots <- s
		}()
	}
	wg.Wait()
	return out
}

// probeNode records the most goroutines alive at any of its execs, and sleeps on the
// clock for its "sleep" param when it has one.
type probeNode struct{ peak *atomic.Int64 }

func (p probeNode) Prep(*Visit) (any, error) { return nil, nil }
func (p probeNode) Exec(ctx context.Context, a *Attempt, _ any) (any, error) {
	n := int64(runtime.NumGoroutine())
	for {
		old := p.peak.Load()
		if n <= old || p.peak.CompareAndSwap(old, n) {
			break
		}
	}
	if d, ok := a.Param("sleep"); ok {
		if err := a.Sleep(ctx, parseDur(d)); err != nil {
			return nil, err
		}
	}
	return nil, nil
}
func (p probeNode) Post(*Visit, any, any) (string, error) { return "success", nil }

const mapProbeFlow = `
version: 1
name: fanprobe
start: fan
nodes:
  fan:
    type: map
    items: ${{ params.items }}
    max_concurrency: 64
    body:
      start: probe
      nodes:
        probe: {type: probe%s}
      output: item
params: {items: []}
`

func loadProbe(t *testing.T, sleep string) (*Graph, *atomic.Int64) {
	t.Helper()
	peak := new(atomic.Int64)
	reg := testRegistry(t)
	if err := reg.Register(NodeType{Name: "probe", Actions: []string{"success"},
		New: func(NodeSpec) (Node, error) { return probeNode{peak: peak}, nil }}); err != nil {
		t.Fatal(err)
	}
	params := ""
	if sleep != "" {
		params = ", params: {sleep: " + sleep + "}"
	}
	g, ds := Load("probe.yaml", fmt.Appendf(nil, mapProbeFlow, params), reg)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return g, peak
}

// mapRetained runs the probe map over items on clock and returns the heap kept while
// the result is held and once it is dropped, both beyond what was live before the run
// (the items themselves are allocated before and kept by the caller).
func mapRetained(t *testing.T, g *Graph, items []any, clock func() Clock) (withResult, without int64) {
	var base, held, dropped runtime.MemStats
	opts := RunOptions{Params: map[string]any{"items": items}, Clock: clock()}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&base)
	res, err := g.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&held)
	if res.Status != StatusSuccess || res.Shared["fan"].(map[string]any)["succeeded"] != len(items) {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	runtime.KeepAlive(res)
	res = nil
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&dropped)
	runtime.KeepAlive(items)
	return int64(held.HeapAlloc) - int64(base.HeapAlloc), int64(dropped.HeapAlloc) - int64(base.HeapAlloc)
}

// leastRetained is the least of three readings of mapRetained, since the heap also holds
// what the test binary's other goroutines allocate meanwhile.
func leastRetained(t *testing.T, g *Graph, items []any, clock func() Clock) (withResult, without int64) {
	withResult, without = math.MaxInt64, math.MaxInt64
	for range 3 {
		w, o := mapRetained(t, g, items, clock)
		withResult, without = min(withResult, w), min(without, o)
	}
	return withResult, without
}

// TestMapMemoryBounded: what a map keeps once it has run is its result, whose size
// follows the items' outputs and statuses (a few words per item), not the child runs'
// state (each child run has its own run, Result, path, env and counters: kilobytes); and
// during the map the goroutines alive stay near max_concurrency, not the number of items.
func TestMapMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 150,000 items")
	}
	clocks := []struct {
		name  string
		clock func() Clock
	}{
		{"virtual", func() Clock { return NewVirtualClock(Epoch) }},
		{"real", func() Clock { return RealClock{} }},
	}
	g, _ := loadProbe(t, "")
	for _, c := range clocks {
		t.Run("retained/"+c.name, func(t *testing.T) {
			per := map[int]float64{}
			for _, n := range []int{10_000, 40_000} {
				items := benchItems(n)
				with, without := leastRetained(t, g, items, c.clock)
				per[n] = float64(with) / float64(n)
				t.Logf("%d items: %d B kept with the result (%.1f B/item), %d B once it is dropped", n, with, per[n], without)
				// The result is three slices of interfaces (items, status, errors): 48 B
				// per item, the outputs being the items themselves; a child run's state
				// would be kilobytes per item.
				if per[n] > 128 {
					t.Errorf("%d items: %.1f B kept per item, more than the result's arrays (bound 128)", n, per[n])
				}
				if without > 256<<10 {
					t.Errorf("%d items: %d B still kept once the result is dropped", n, without)
				}
			}
			if d := per[40_000] - per[10_000]; d > 16 {
				t.Errorf("kept per item grows with the items: %.1f B at 10,000, %.1f B at 40,000", per[10_000], per[40_000])
			}
		})
	}
	for _, tc := range []struct {
		name, sleep string
		clock       func() Clock
	}{
		// On virtual time a body that sleeps keeps 64 items in flight at once; one that
		// does not runs its items one after another on the first task.
		{"virtual", "1s", func() Clock { return NewVirtualClock(Epoch) }},
		{"real", "1ms", func() Clock { return RealClock{} }},
		{"real-noop", "", func() Clock { return RealClock{} }},
	} {
		t.Run("goroutines/"+tc.name, func(t *testing.T) {
			g, peak := loadProbe(t, tc.sleep)
			const n = 10_000
			base := runtime.NumGoroutine()
			res, err := g.Run(context.Background(), RunOptions{Params: map[string]any{"items": benchItems(n)}, Clock: tc.clock()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != StatusSuccess {
				t.Fatalf("status %s: %v", res.Status, res.Err)
			}
			extra := peak.Load() - int64(base)
			t.Logf("%d items at max_concurrency %d: at most %d goroutines beyond the %d before the run", n, mapBenchConc, extra, base)
			// Per item in flight: its worker (a task on virtual time) and its child run's
			// driver; plus the parent run's driver and up to maxIdleDrivers kept idle.
			if limit := int64(2*mapBenchConc + maxIdleDrivers + 8); extra > limit {
				t.Errorf("%d goroutines beyond those before the run, more than %d", extra, limit)
			}
		})
	}
}

// TestMapDefaultOutputIsWrittenKeys: a body without output returns the shared keys its
// visits wrote, whether or not the store it started from had others, and each item's
// output is its own.
func TestMapDefaultOutputIsWrittenKeys(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: written
start: first
nodes:
  first: {type: echo, params: {value: 5}, on: {success: fan}}
  fan:
    type: map
    items: [1, 2, 3]
    max_concurrency: 2
    body:
      start: a
      nodes:
        a: {type: echo, params: {value: "${{ item }}"}, on: {success: b}}
        b: {type: echo, params: {value: "${{ item * 10 }}"}}
    on: {success: again}
  again:
    type: map
    items: [1, 2]
    body:
      start: first
      nodes:
        first: {type: echo, params: {value: "${{ item + shared.first }}"}}
`)
	res, _ := runVirtual(t, g, RunOptions{})
	if res.Status != StatusSuccess {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	// fan's items started from {first: 5} and wrote a and b; again's overwrote first.
	fan := res.Shared["fan"].(map[string]any)["items"].([]any)
	again := res.Shared["again"].(map[string]any)["items"].([]any)
	if got := fmt.Sprint(fan, again); got != "[map[a:1 b:10] map[a:2 b:20] map[a:3 b:30]] [map[first:6] map[first:7]]" {
		t.Errorf("outputs %s", got)
	}
	fan[0].(map[string]any)["a"] = -1
	if fan[1].(map[string]any)["a"] != 2 || res.Shared["first"] != 5 {
		t.Errorf("items share a store: %v, shared %v", fan, res.Shared)
	}
}

// directRun is the run a direct slot's visits see: the body's graph and the items.
func directRun(body *Graph, items []any) *run {
	r := &run{}
	r.g, r.params = body, map[string]any{"items": items}
	return r
}
