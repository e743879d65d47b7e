package temporal

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// runBoth runs the workflow in file on the local engine on virtual time and on the
// Temporal backend in exact order (state kept in the run) with the same scenario and
// seed, and checks that they end alike, timestamps and breakers included.
func runBoth(t *testing.T, file, scenario string, seed int64) (remote, local *engine.Result) {
	t.Helper()
	params := map[string]any{"alternate_dir": t.TempDir()}
	g, ds := engine.LoadFile(file, newRegistry())
	if g == nil {
		t.Fatalf("%s: %v", file, ds.Error())
	}
	local, err := g.Run(context.Background(), engine.RunOptions{Scenario: scenario, Seed: seed, Params: params,
		Clock: engine.NewVirtualClock(engine.Epoch)})
	if err != nil {
		t.Fatal(err)
	}
	req := NewRunRequest(g, engine.RunOptions{Scenario: scenario, Seed: seed, Params: params})
	req.SharedState, req.Order = SharedRun, OrderExact
	remote, _ = runOnTestServer(t, req)
	compareRuns(t, remote, local, true)
	return remote, local
}

// TestExactOrderAcrossSeeds runs fan_out.yaml's outage, whose map items share a breaker
// that counts their failures, for many seeds (3 and 6 among them, which the parallel
// order has been seen to end differently): in exact order each ends as locally.
func TestExactOrderAcrossSeeds(t *testing.T) {
	statuses := map[engine.Status]int{}
	for seed := int64(1); seed <= 12; seed++ {
		_, local := runBoth(t, "../workflows/fan_out.yaml", "outage", seed)
		statuses[local.Status]++
	}
	// The seeds must cover the outcomes the breaker's order decides between.
	if statuses[engine.StatusFailed] == 0 || statuses[engine.StatusDegraded] == 0 {
		t.Errorf("statuses over the seeds %v; want failed and degraded runs among them", statuses)
	}
}

// hedgeWorkflow asks two mirrors with join: first; the scenarios delay one or the other,
// and the items of its map share a one-slot bulkhead.
const hedgeWorkflow = `version: 1
name: hedge
start: lookup
nodes:
  lookup:
    type: parallel
    join: first
    branches:
      primary:
        start: ask
        nodes:
          ask: {type: transform, params: {values: {mirror: primary}}}
        output: shared.ask
      mirror:
        start: ask
        nodes:
          ask: {type: transform, params: {values: {mirror: mirror}}}
        output: shared.ask
    on: {success: each}
  each:
    type: map
    items: [1, 2, 3, 4]
    max_concurrency: 4
    tolerated_failures: 1
    body:
      start: slow
      nodes:
        slow:
          type: transform
          bulkhead: {max_concurrent: 1, max_wait: 700ms}
          params: {values: {n: "${{ item }}"}}
      output: shared.slow
output:
  status: shared.each.status
scenarios:
  primary_slow:
    faults:
      lookup/primary/ask: {latency: 800ms}
      each/slow: {latency: 300ms}
  mirror_slow:
    faults:
      lookup/mirror/ask: {latency: 800ms}
      each/slow: {latency: 300ms}
`

// TestExactOrderHedgeAndBulkhead checks a hedged join and a bulkhead shared by map
// items in exact order: the branch that answers first on virtual time wins (the first
// declared on a tie), and the items that wait longer than the bulkhead allows fail, as
// on the local engine.
func TestExactOrderHedgeAndBulkhead(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hedge.yaml")
	if err := os.WriteFile(file, []byte(hedgeWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ scenario, winner, loser, status string }{
		// Without latency every item holds the slot for no time at all.
		{"", "primary", "mirror", `["success","success","success","success"]`},
		// An item holds the slot 300ms: the fourth has waited 700ms when the third takes it.
		{"primary_slow", "mirror", "primary", `["success","success","success","failed"]`},
		{"mirror_slow", "primary", "mirror", `["success","success","success","failed"]`},
	} {
		t.Run("scenario "+tc.scenario, func(t *testing.T) {
			remote, _ := runBoth(t, file, tc.scenario, 1)
			if _, ok := remote.Shared[tc.winner]; !ok {
				t.Errorf("shared %v; want %s's answer", remote.Shared, tc.winner)
			}
			if _, ok := remote.Shared[tc.loser]; ok {
				t.Errorf("shared %v; want no answer from %s", remote.Shared, tc.loser)
			}
			if got := jsonOf(t, remote.Output["status"]); got != tc.status {
				t.Errorf("item status %s; want %s", got, tc.status)
			}
		})
	}
}
