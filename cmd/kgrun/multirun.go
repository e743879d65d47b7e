package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/kgrun/kgrun/engine"
)

// runMany runs the workflow N times with seeds seed..seed+N-1, sharing the graph's
// breakers, and prints a summary. On the real clock C runs go at once; on virtual time
// the runs are simulated on one discrete-event clock (engine.Simulate), arriving every
// --interval, so the summary is the same bytes whatever C and the Go scheduler do.
func runMany(ctx context.Context, g *engine.Graph, opts engine.RunOptions, f *runFlags, st *stats, stdout, stderr io.Writer) int {
	sum := newRunSummary()
	if vc, ok := opts.Clock.(*engine.VirtualClock); ok {
		engine.Simulate(ctx, vc, f.runs, f.interval, func(i int, clock engine.Clock) {
			o := opts
			o.Seed, o.Clock = opts.Seed+int64(i), clock
			res, err := g.Run(ctx, o)
			if err != nil {
				res = nil
			}
			sum.add(res)
		})
	} else {
		runConcurrently(ctx, g, opts, f, sum)
	}
	return printSummary(ctx, g, opts, f, st, sum, stdout)
}

// runConcurrently makes the runs on the real clock, C at a time.
func runConcurrently(ctx context.Context, g *engine.Graph, opts engine.RunOptions, f *runFlags, sum *runSummary) {
	seeds := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < f.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range seeds {
				o := opts
				o.Seed = opts.Seed + int64(i)
				res, err := g.Run(ctx, o)
				if err != nil {
					res = nil
				}
				sum.add(res)
			}
		}()
	}
	for i := 0; i < f.runs; i++ {
		seeds <- i
	}
	close(seeds)
	wg.Wait()
}

// printSummary prints what the runs did.
func printSummary(ctx context.Context, g *engine.Graph, opts engine.RunOptions, f *runFlags, st *stats, sum *runSummary, stdout io.Writer) int {
	statuses, calls, paths, elapsed := sum.statuses, sum.calls, sum.paths, &sum.elapsed
	p := &printer{w: stdout}
	arrivals := fmt.Sprintf("concurrency %d", f.concurrency)
	if f.virtual {
		arrivals = "all at once"
		if f.interval > 0 {
			arrivals = "one every " + f.interval.String()
		}
	}
	header := fmt.Sprintf("%s · %d runs, %s · seeds %d..%d · breakers %s", g.Spec().Name, f.runs, arrivals,
		opts.Seed, opts.Seed+int64(f.runs)-1, f.breakers)
	if opts.Scenario != "" {
		header += " · scenario " + opts.Scenario
	}
	if f.virtual {
		header += " · virtual time"
	}
	p.line("%s", header)
	var sparts []string
	for _, s := range []engine.Status{engine.StatusSuccess, engine.StatusDegraded, engine.StatusFailed, engine.StatusCanceled} {
		if statuses[s] > 0 || s != engine.StatusCanceled {
			sparts = append(sparts, fmt.Sprintf("%s %d", s, statuses[s]))
		}
	}
	p.line("Statuses: %s", strings.Join(sparts, " · "))
	p.line("Elapsed per run: p50 %s · p90 %s · p99 %s · max %s", ms(elapsed.pct(50)), ms(elapsed.pct(90)), ms(elapsed.pct(99)), ms(elapsed.max))
	var cparts []string
	for _, n := range g.Spec().NodeNames() {
		if calls[n] > 0 {
			cparts = append(cparts, fmt.Sprintf("%s %d", n, calls[n]))
		}
	}
	p.line("Calls: %s", strings.Join(cparts, " · "))
	p.section("Paths")
	keys := sortedKeys(paths)
	sort.SliceStable(keys, func(i, j int) bool { return paths[keys[i]] > paths[keys[j]] })
	for _, k := range keys {
		p.line("  %5d  %s", paths[k], k)
	}
	if bs := g.Breakers(); len(bs) > 0 {
		p.section("Breakers")
		for _, b := range bs {
			c := b.Counts
			p.line("  %s  %s · %s, %s", b.Name, b.StateStr, breakerCounts(c), plural(int(c.Transitions), "transition"))
		}
		kinds := map[string]int{}
		for _, t := range st.transitions {
			kinds[t.From+" → "+t.To]++
		}
		for _, k := range sortedKeys(kinds) {
			p.line("    %s ×%d", k, kinds[k])
		}
	}
	switch {
	case ctx.Err() != nil:
		return exitInterrupted
	case statuses[engine.StatusFailed] > 0:
		return exitFailed
	}
	return exitOK
}
