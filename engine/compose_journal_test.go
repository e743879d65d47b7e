package engine

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// itemJournal keeps what a store would: checkpoints and item records, JSON round-tripped.
type itemJournal struct {
	cps   []*Checkpoint
	items []*ItemRecord
}

func (j *itemJournal) Commit(cp *Checkpoint) error {
	var c Checkpoint
	b, _ := json.Marshal(cp)
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	j.cps = append(j.cps, &c)
	return nil
}

func (j *itemJournal) CommitItem(rec *ItemRecord) error {
	var c ItemRecord
	b, _ := json.Marshal(rec)
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	j.items = append(j.items, &c)
	return nil
}

const bigMapFlow = `
version: 1
name: big
start: prepare
nodes:
  prepare: {type: echo, params: {value: 1}, on: {success: fan}}
  fan:
    type: map
    items: ${{ 0..999 }}
    max_concurrency: 16
    tolerated_failures: 5%
    body:
      start: work
      nodes:
        work:
          type: sleep
          params: {sleep: "${{ string(item % 7) + 'ms' }}", value: "${{ item * 3 }}"}
          retry: {attempts: 2, delay: 1ms}
      output: shared.work
    on: {success: done}
  done: {type: echo}
scenarios:
  flaky:
    faults:
      fan/work: {rate: 0.05, kind: network}
`

// TestMapResumesOnlyUnfinishedItems: a run journaled item by item is cut off after k of
// 1,000 items; resumed from its journal, it runs only the other items, and ends with the
// same output as the run that was never cut off.
func TestMapResumesOnlyUnfinishedItems(t *testing.T) {
	g := mustLoad(t, bigMapFlow)
	whole := &itemJournal{}
	want, _ := runVirtual(t, g, RunOptions{Scenario: "flaky", Seed: 5, Journal: whole})
	if want.Status == StatusFailed || len(whole.items) != 1000 {
		t.Fatalf("uninterrupted run: %s, %d items journaled", want.Status, len(whole.items))
	}
	for _, k := range []int{0, 1, 500, 999} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			// The process died after prepare's checkpoint and k items of the map.
			st := NewRunState()
			if err := st.Apply(whole.cps[0]); err != nil {
				t.Fatal(err)
			}
			for _, rec := range whole.items[:k] {
				if err := st.AddItem(rec); err != nil {
					t.Fatal(err)
				}
			}
			got, events := runVirtual(t, g, RunOptions{Scenario: "flaky", Seed: 5, Resume: st, Journal: &itemJournal{}})
			if n := len(eventsOf(events, EventScopeStart)); n != 1000-k {
				t.Errorf("resumed run ran %d items, want %d", n, 1000-k)
			}
			if !reflect.DeepEqual(jsonOf(t, got.Shared["fan"]), jsonOf(t, want.Shared["fan"])) || got.Status != want.Status {
				t.Errorf("resumed result differs: %s vs %s", got.Status, want.Status)
			}
		})
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
