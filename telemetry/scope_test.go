package telemetry

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/internal/golden"
)

// TestFanOutChildSpans traces workflows/fan_out.yaml (a map over six regions, four at a
// time; a parallel node whose first branch wins; a called workflow) in its outage
// scenario at the seed where two regions are lost after retries, on the virtual clock,
// and checks that every child run's visits are spans: an item, branch or workflow span
// under the composite node's visit, the child's visits under it and their attempts
// under those, as many as the run's own trace has node_start and attempt events.
func TestFanOutChildSpans(t *testing.T) {
	g := load(t, "../workflows/fan_out.yaml")
	clock := engine.NewVirtualClock(engine.Epoch)
	rec := newRecording(t, g, clock)
	events := &engine.Recorder{}
	res, err := g.Run(context.Background(), engine.RunOptions{Scenario: "outage", Seed: 6, Clock: clock, Tracer: engine.Tee{events, rec.tracer}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusDegraded {
		t.Fatalf("status %s, want degraded (two regions lost)", res.Status)
	}
	spans := rec.spans.Ended()
	golden.Check(t, "testdata/fan_out.txt", spanTree(spans))
	if n := checkScopes(t, spans, events.Events(), rec)["regions/collect"]; n <= 6 {
		t.Errorf("%d collect attempts measured, want the retries too", n)
	}
}

// TestFanOutChildSpansRealClock is the same on the real clock, where the items run on
// goroutines of their own and their events interleave.
func TestFanOutChildSpansRealClock(t *testing.T) {
	g := load(t, "../workflows/fan_out.yaml")
	rec := newRecording(t, g, engine.RealClock{})
	events := &engine.Recorder{}
	res, err := g.Run(context.Background(), engine.RunOptions{Seed: 1, Tracer: engine.Tee{events, rec.tracer}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != engine.StatusSuccess {
		t.Fatalf("status %s, want success", res.Status)
	}
	checkScopes(t, rec.spans.Ended(), events.Events(), rec)
}

// checkScopes checks the child runs' spans against the engine's events: an item, branch
// or workflow span under the composite node's visit for each child, the child's visits
// under it and their attempts under those, one per node_start and attempt event, and the
// attempt histogram counting every attempt by the node's path.
func checkScopes(t *testing.T, spans []sdktrace.ReadOnlySpan, events []engine.Event, rec *recording) (attemptsByNode map[string]uint64) {
	t.Helper()
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byID[s.SpanContext().SpanID().String()] = s
	}
	parent := func(s sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan { return byID[s.Parent().SpanID().String()] }

	// What the engine's own trace says each scope did.
	wantVisits, wantAttempts, wantByNode := map[string]int{}, map[string]int{}, map[string]uint64{}
	for _, e := range events {
		switch e.Kind {
		case engine.EventNodeStart:
			wantVisits[e.Scope]++
		case engine.EventAttempt:
			wantAttempts[e.Scope]++
			wantByNode[e.NodePath()]++
		}
	}
	gotVisits, gotAttempts := map[string]int{}, map[string]int{}
	var items []string
	scopes := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		name, scope := s.Name(), attr(s, AttrScope)
		switch {
		case strings.HasPrefix(name, "item "), strings.HasPrefix(name, "branch "), strings.HasPrefix(name, "workflow "):
			scopes[scope] = s
			p := parent(s)
			if p == nil || p.Name() != "visit "+attr(s, AttrNode) || attr(p, AttrScope) != "" {
				t.Errorf("%s (%s) is not a child of its composite node's visit", name, scope)
			}
			if strings.HasPrefix(name, "item ") {
				items = append(items, fmt.Sprintf("%s=%s", scope, attr(s, AttrItem)))
			}
		case strings.HasPrefix(name, "visit "):
			gotVisits[scope]++
		case strings.HasPrefix(name, "attempt "):
			gotAttempts[scope]++
			if p := parent(s); p == nil || p.Name() != "visit "+strings.TrimPrefix(name, "attempt ") || attr(p, AttrScope) != scope || attr(p, AttrVisit) != attr(s, AttrVisit) {
				t.Errorf("%s in %q is not under its visit", name, scope)
			}
		}
	}
	sort.Strings(items)
	if got := strings.Join(items, " "); got != "regions[0]=0 regions[1]=1 regions[2]=2 regions[3]=3 regions[4]=4 regions[5]=5" {
		t.Errorf("item spans %s, want one per region with its index", got)
	}
	for scope, n := range wantVisits {
		if gotVisits[scope] != n || gotAttempts[scope] != wantAttempts[scope] {
			t.Errorf("scope %q: %d visit and %d attempt spans, want %d and %d", scope, gotVisits[scope], gotAttempts[scope], n, wantAttempts[scope])
		}
		if scope != "" && scopes[scope] == nil {
			t.Errorf("scope %q has visits but no span", scope)
		}
	}
	if len(gotVisits) != len(wantVisits) {
		t.Errorf("visit spans in scopes %v, want %v", gotVisits, wantVisits)
	}
	for _, s := range spans {
		if scope := attr(s, AttrScope); strings.HasPrefix(s.Name(), "visit ") && scope != "" && parent(s) != scopes[scope] {
			t.Errorf("%s in %q is not under its scope's span", s.Name(), scope)
		}
	}
	if scopes["publish"] == nil || scopes["catalogue/primary"] == nil || scopes["catalogue/mirror"] == nil {
		t.Errorf("want spans for the called workflow and both branches, have %v", keys(scopes))
	}

	// Every attempt, the children's too, is measured, by the node's path.
	var rm metricdata.ResourceMetrics
	if err := rec.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	hist, _ := metricsByName(rm)[MetricAttempt].(metricdata.Histogram[float64])
	byNode := map[string]uint64{}
	for _, dp := range hist.DataPoints {
		byNode[dpAttr(dp.Attributes.ToSlice(), AttrNode)] += dp.Count
	}
	if fmt.Sprint(byNode) != fmt.Sprint(wantByNode) {
		t.Errorf("attempt histogram counts by node %v, want %v", byNode, wantByNode)
	}
	return byNode
}

// TestNestedScopeSpans runs a map inside a parallel branch: the item spans hang under
// the map node's visit inside the branch, and scopes name the whole nesting.
func TestNestedScopeSpans(t *testing.T) {
	g := loadSource(t, `
version: 1
name: nested
start: both
nodes:
  both:
    type: parallel
    branches:
      left:
        start: fan
        nodes:
          fan:
            type: map
            items: [a, b]
            body:
              start: one
              nodes:
                one: {type: transform, params: {values: {v: "${{ item }}"}}}
      right:
        start: solo
        nodes:
          solo: {type: transform, params: {values: {v: 1}}}
`)
	clock := engine.NewVirtualClock(engine.Epoch)
	rec := newRecording(t, g, clock)
	if _, err := g.Run(context.Background(), engine.RunOptions{Clock: clock, Tracer: rec.tracer}); err != nil {
		t.Fatal(err)
	}
	got := spanTree(rec.spans.Ended())
	want := `run nested [0s..0s] kgrun.status=success
  visit both [0s..0s] kgrun.action=success kgrun.node.type=parallel kgrun.node=both kgrun.visit=1
    attempt both [0s..0s] kgrun.attempt=1 kgrun.node.type=parallel kgrun.node=both kgrun.visit=1
    branch both/left [0s..0s] kgrun.attempt=1 kgrun.branch=left kgrun.node=both kgrun.scope=both/left kgrun.status=success
      visit fan [0s..0s] kgrun.action=success kgrun.node.type=map kgrun.node=fan kgrun.scope=both/left kgrun.visit=1
        attempt fan [0s..0s] kgrun.attempt=1 kgrun.node.type=map kgrun.node=fan kgrun.scope=both/left kgrun.visit=1
        item fan [0s..0s] kgrun.attempt=1 kgrun.item=0 kgrun.node=fan kgrun.scope=both/left/fan[0] kgrun.status=success
          visit one [0s..0s] kgrun.action=success kgrun.node.type=transform kgrun.node=one kgrun.scope=both/left/fan[0] kgrun.visit=1
            attempt one [0s..0s] kgrun.attempt=1 kgrun.node.type=transform kgrun.node=one kgrun.scope=both/left/fan[0] kgrun.visit=1
        item fan [0s..0s] kgrun.attempt=1 kgrun.item=1 kgrun.node=fan kgrun.scope=both/left/fan[1] kgrun.status=success
          visit one [0s..0s] kgrun.action=success kgrun.node.type=transform kgrun.node=one kgrun.scope=both/left/fan[1] kgrun.visit=1
            attempt one [0s..0s] kgrun.attempt=1 kgrun.node.type=transform kgrun.node=one kgrun.scope=both/left/fan[1] kgrun.visit=1
    branch both/right [0s..0s] kgrun.attempt=1 kgrun.branch=right kgrun.node=both kgrun.scope=both/right kgrun.status=success
      visit solo [0s..0s] kgrun.action=success kgrun.node.type=transform kgrun.node=solo kgrun.scope=both/right kgrun.visit=1
        attempt solo [0s..0s] kgrun.attempt=1 kgrun.node.type=transform kgrun.node=solo kgrun.scope=both/right kgrun.visit=1
`
	if got != want {
		t.Errorf("span tree:\n%s\nwant:\n%s", got, want)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
