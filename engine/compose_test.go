package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

const mapFlow = `
version: 1
name: fan
start: fan
nodes:
  fan:
    type: map
    items: ${{ params.items }}
    max_concurrency: %d
    tolerated_failures: %s
    body:
      start: check
      nodes:
        check:
          type: echo
          params: {value: "${{ item * 10 }}"}
          hooks:
            before_prep:
              - {assert: "item >= params.bad", message: "item below bad"}
          on: {success: nap}
        nap:
          type: sleep
          params: {sleep: 1s, value: "${{ index }}"}
      output: shared.check
    on: {success: done, map_failed: report}
  done: {type: echo}
  report: {type: echo}
params: {items: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], bad: 0}
`

func loadMap(t *testing.T, conc int, tolerated string) *Graph {
	t.Helper()
	return mustLoad(t, fmt.Sprintf(mapFlow, conc, tolerated))
}

func TestMapResultInInputOrder(t *testing.T) {
	res, _ := runVirtual(t, loadMap(t, 3, "0"), RunOptions{})
	if res.Status != StatusSuccess {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	got := res.Shared["fan"].(map[string]any)
	items := fmt.Sprint(got["items"])
	if items != "[0 10 20 30 40 50 60 70 80 90]" {
		t.Errorf("items %s", items)
	}
	if got["succeeded"] != 10 || got["failed"] != 0 {
		t.Errorf("counts %v/%v", got["succeeded"], got["failed"])
	}
	// Ten items of one second each, three at a time: four rounds on virtual time.
	if res.Elapsed.String() != "4s" {
		t.Errorf("elapsed %s, want 4s", res.Elapsed)
	}
	if p := pathString(res); p != "fan(success) → done(success) = success" {
		t.Errorf("path %s", p)
	}
}

func TestMapToleratedFailures(t *testing.T) {
	for _, tc := range []struct {
		tolerated string
		bad       int // items 0..bad-1 fail
		status    Status
		next      string
	}{
		{"0", 0, StatusSuccess, "done"},
		{"0", 1, StatusDegraded, "report"},
		{"3", 3, StatusDegraded, "done"}, // exactly at the limit
		{"3", 4, StatusDegraded, "report"},
		{"30%", 3, StatusDegraded, "done"},
		{"30%", 4, StatusDegraded, "report"},
		{"100%", 10, StatusDegraded, "done"},
	} {
		t.Run(fmt.Sprintf("%s_%d", tc.tolerated, tc.bad), func(t *testing.T) {
			res, _ := runVirtual(t, loadMap(t, 4, tc.tolerated), RunOptions{Params: map[string]any{"bad": tc.bad}})
			if res.Status != tc.status {
				t.Errorf("status %s, want %s (%v)", res.Status, tc.status, res.Err)
			}
			if len(res.Path) != 2 || res.Path[1].Node != tc.next {
				t.Fatalf("path %s, want fan → %s", pathString(res), tc.next)
			}
			if tc.next == "report" && res.Path[0].Action != ActionMapFailed {
				t.Errorf("action %q, want map_failed", res.Path[0].Action)
			}
			if tc.next == "done" && tc.bad > 0 {
				got := res.Shared["fan"].(map[string]any)
				if got["failed"] != tc.bad {
					t.Errorf("failed %v, want %d", got["failed"], tc.bad)
				}
			}
		})
	}
}

// traceBytes runs g on virtual time and returns the trace and result as JSON.
func traceBytes(t *testing.T, g *Graph, opts RunOptions) string {
	t.Helper()
	res, events := runVirtual(t, g, opts)
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(res); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const contendedFlow = `
version: 1
name: contended
start: fan
breakers:
  api: {failure_threshold: 3, open_timeout: 2s}
nodes:
  fan:
    type: map
    items: ${{ params.items }}
    max_concurrency: %d
    tolerated_failures: 100%%
    body:
      start: call
      nodes:
        call:
          type: sleep
          params: {sleep: 100ms, value: "${{ item }}"}
          retry: {attempts: 3, delay: 200ms, backoff: exponential, jitter: full}
          breaker: api
          timeout: 1s
          bulkhead: {max_concurrent: 2, max_wait: 300ms}
          on: {circuit_open: cached}
        cached: {type: echo, params: {value: -1}}
    on: {success: done, map_failed: done}
  done: {type: echo}
params: {items: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]}
scenarios:
  flaky:
    faults:
      fan/call: {rate: 0.4, kind: network, latency: 300ms, latency_rate: 0.5}
`

// TestMapDeterministicOnVirtualTime: items that contend for a shared breaker and a
// bulkhead, with random faults, jitter and timeouts, give the same bytes on every run at
// each concurrency, whatever the Go scheduler does.
func TestMapDeterministicOnVirtualTime(t *testing.T) {
	for _, conc := range []int{1, 8, 64} {
		t.Run(fmt.Sprint(conc), func(t *testing.T) {
			var first string
			for i, procs := range []int{1, 2, 8, 2, 1} {
				prev := runtime.GOMAXPROCS(procs)
				g := mustLoad(t, fmt.Sprintf(contendedFlow, conc))
				got := traceBytes(t, g, RunOptions{Scenario: "flaky", Seed: 11})
				runtime.GOMAXPROCS(prev)
				if i == 0 {
					first = got
					if !strings.Contains(got, `"scope":"fan[29]"`) || !strings.Contains(got, "breaker_state") {
						t.Fatalf("trace lacks the items or the breaker:\n%.2000s", got)
					}
					continue
				}
				if got != first {
					t.Fatalf("run %d (GOMAXPROCS %d) differs from the first:\n%s", i, procs, firstDiff(first, got))
				}
			}
		})
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(al), len(bl))
}

// TestBulkheadFillsOnVirtualTime: four items at once through a one-slot bulkhead that
// waits 500ms: the first holds the slot for a second, the others wait and are refused.
func TestBulkheadFillsOnVirtualTime(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: bulk
start: fan
nodes:
  fan:
    type: map
    items: [0, 1, 2, 3]
    max_concurrency: 4
    tolerated_failures: 3
    body:
      start: call
      nodes:
        call:
          type: sleep
          params: {sleep: 1s}
          bulkhead: {max_concurrent: 1, max_wait: 500ms}
`)
	res, _ := runVirtual(t, g, RunOptions{})
	got := res.Shared["fan"].(map[string]any)
	if fmt.Sprint(got["status"]) != "[success failed failed failed]" {
		t.Fatalf("status %v, errors %v", got["status"], got["errors"])
	}
	if e := fmt.Sprint(got["errors"]); !strings.Contains(e, "bulkhead full") {
		t.Errorf("errors %s", e)
	}
	if res.Elapsed.String() != "1s" {
		t.Errorf("elapsed %s", res.Elapsed)
	}
}

const parallelFlow = `
version: 1
name: par
start: both
nodes:
  both:
    type: parallel
    join: %s
    fail_fast: %v
    branches:
      fast:
        start: a
        nodes:
          a: {type: sleep, params: {sleep: 1s, value: 1}}
        output: shared.a
      slow:
        start: b
        nodes:
          b: {type: sleep, params: {sleep: 1h, value: 2}}
        output: shared.b
      broken:
        start: c
        nodes:
          c:
            type: sleep
            params: {sleep: "%s", value: 3}
            hooks:
              after_exec:
                - {assert: "params.ok", message: broken branch}
        output: shared.c
    on: {success: done, parallel_failed: report}
  done: {type: echo}
  report: {type: echo}
params: {ok: %v}
`

func TestParallelJoins(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("github.com/kgrun/kgrun/engine.(*driver).loop"))
	for _, tc := range []struct {
		name, join, brokenSleep string
		failFast, ok            bool
		next, winner, status    string
		elapsed                 string
	}{
		{"all waits for every branch", "all", "2s", false, true, "done", "", "fast:success slow:success broken:success", "1h0m0s"},
		{"all fails when a branch fails", "all", "2s", false, false, "report", "", "fast:success slow:success broken:failed", "1h0m0s"},
		{"fail_fast cancels the others", "all", "2s", true, false, "report", "", "fast:success slow:canceled broken:failed", "2s"},
		{"first: the hedged call's loser is canceled", "first", "2s", false, true, "done", "fast", "fast:success slow:canceled broken:canceled", "1s"},
		{"first: a failure does not end the race", "first", "10ms", false, false, "done", "fast", "fast:success slow:canceled broken:failed", "1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := mustLoad(t, fmt.Sprintf(parallelFlow, tc.join, tc.failFast, tc.brokenSleep, tc.ok))
			res, _ := runVirtual(t, g, RunOptions{})
			if len(res.Path) != 2 || res.Path[1].Node != tc.next {
				t.Fatalf("path %s (%v)", pathString(res), res.Err)
			}
			if res.Elapsed.String() != tc.elapsed {
				t.Errorf("elapsed %s, want %s", res.Elapsed, tc.elapsed)
			}
			if tc.next != "done" {
				return
			}
			if tc.join == "all" {
				for b, want := range map[string]int{"fast": 1, "slow": 2, "broken": 3} {
					if res.Shared[b] != want {
						t.Errorf("shared[%s] = %v, want %d", b, res.Shared[b], want)
					}
				}
			} else if res.Shared["fast"] != 1 || res.Shared["slow"] != nil {
				t.Errorf("shared %v: only the winner's output is merged", res.Shared)
			}
		})
	}
}

// TestParallelStatusAndWinner checks the result guards see.
func TestParallelStatusAndWinner(t *testing.T) {
	g := mustLoad(t, fmt.Sprintf(parallelFlow, "first", false, "2s", true))
	rec := &Recorder{}
	res, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch), Tracer: rec})
	if err != nil {
		t.Fatal(err)
	}
	ends := map[string]string{}
	for _, e := range eventsOf(rec.Events(), EventScopeEnd) {
		ends[e.Scope] = string(e.Status)
	}
	want := map[string]string{"both/fast": "success", "both/slow": "canceled", "both/broken": "canceled"}
	if fmt.Sprint(ends) != fmt.Sprint(want) {
		t.Errorf("scope ends %v, want %v", ends, want)
	}
	if res.Status != StatusSuccess {
		t.Errorf("status %s", res.Status)
	}
}

func TestNestedMapInParallelBranch(t *testing.T) {
	g := mustLoad(t, `
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
            items: [1, 2, 3]
            max_concurrency: 2
            body:
              start: nap
              nodes:
                nap: {type: sleep, params: {sleep: "${{ string(item) + 's' }}", value: "${{ item }}"}}
              output: shared.nap
        output: shared.fan.items
      right:
        start: one
        nodes:
          one: {type: sleep, params: {sleep: 2s, value: 7}}
        output: shared.one
`)
	res, events := runVirtual(t, g, RunOptions{})
	if res.Status != StatusSuccess {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	if fmt.Sprint(res.Shared["left"]) != "[1 2 3]" || res.Shared["right"] != 7 {
		t.Errorf("shared %v", res.Shared)
	}
	// Items 1 and 2 start at once; 3 starts when 1 ends (at 1s) and ends at 4s.
	if res.Elapsed.String() != "4s" {
		t.Errorf("elapsed %s", res.Elapsed)
	}
	var scopes []string
	for _, e := range eventsOf(events, EventScopeStart) {
		scopes = append(scopes, e.Scope)
	}
	if got := strings.Join(scopes, " "); got != "both/left both/right both/left/fan[0] both/left/fan[1] both/left/fan[2]" {
		t.Errorf("scopes in order: %s", got)
	}
}

// TestMapOnRealClock runs items concurrently on goroutines: the result is the same as on
// virtual time, and the race detector watches the children.
func TestMapOnRealClock(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("github.com/kgrun/kgrun/engine.(*driver).loop"))
	g := mustLoad(t, strings.ReplaceAll(fmt.Sprintf(mapFlow, 8, "2"), "sleep: 1s", "sleep: 1ms"))
	rec := &Recorder{}
	res, err := g.Run(context.Background(), RunOptions{Tracer: rec, Params: map[string]any{"bad": 2}})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Shared["fan"].(map[string]any)
	if fmt.Sprint(got["items"]) != "[<nil> <nil> 20 30 40 50 60 70 80 90]" || res.Status != StatusDegraded {
		t.Errorf("items %v, status %s", got["items"], res.Status)
	}
	if n := len(eventsOf(rec.Events(), EventScopeEnd)); n != 10 {
		t.Errorf("%d scope ends", n)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimLeft(src, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestWorkflowNodeRunsAnotherFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.yaml": `
version: 1
name: main
start: call
nodes:
  call:
    type: workflow
    workflow: child.yaml
    input: {n: "${{ params.n + 1 }}"}
    on: {success: done}
  done: {type: echo}
params: {n: 4}
`,
		"child.yaml": `
version: 1
name: child
start: work
input:
  properties: {n: {type: integer}}
  required: [n]
output:
  twice: input.n * 2
nodes:
  work: {type: sleep, params: {sleep: 3s}}
`,
	})
	g, ds := LoadFile(filepath.Join(dir, "main.yaml"), testRegistry(t))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	res, events := runVirtual(t, g, RunOptions{})
	if res.Status != StatusSuccess {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	if fmt.Sprint(res.Shared["call"]) != "map[twice:10]" {
		t.Errorf("shared %v", res.Shared)
	}
	if res.Elapsed.String() != "3s" {
		t.Errorf("elapsed %s", res.Elapsed)
	}
	if n := len(eventsOf(events, EventScopeStart)); n != 1 || eventsOf(events, EventScopeStart)[0].Scope != "call" {
		t.Errorf("scope events %v", eventsOf(events, EventScopeStart))
	}
}

func TestWorkflowNodeLoadErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml":      "version: 1\nname: a\nstart: c\nnodes:\n  c: {type: workflow, workflow: b.yaml}\n",
		"b.yaml":      "version: 1\nname: b\nstart: c\nnodes:\n  c: {type: workflow, workflow: a.yaml}\n",
		"bad.yaml":    "version: 1\nname: bad\nstart: c\nnodes:\n  c: {type: workflow, workflow: broken.yaml}\n",
		"broken.yaml": "version: 1\nname: broken\nstart: x\nnodes:\n  x: {type: nope}\n",
	})
	_, ds := LoadFile(filepath.Join(dir, "a.yaml"), testRegistry(t))
	if !strings.Contains(ds.Error(), "calls back into itself: a.yaml → b.yaml → a.yaml") {
		t.Errorf("cycle not reported:\n%s", ds)
	}
	_, ds = LoadFile(filepath.Join(dir, "bad.yaml"), testRegistry(t))
	s := ds.Error()
	if !strings.Contains(s, "broken.yaml:5:13") || !strings.Contains(s, `unknown node type "nope"`) || !strings.Contains(s, "bad.yaml:5:33") {
		t.Errorf("errors in the called file not positioned there:\n%s", s)
	}
}

func TestComposeStaticChecks(t *testing.T) {
	_, ds := Load("test.yaml", []byte(`version: 1
name: checks
start: fan
nodes:
  fan:
    type: map
    items: [1]
    retry: {attempts: 2}
    body:
      start: a
      nodes:
        a: {type: ech, on: {success: b}}
        b: {type: echo, params: {value: "${{ item.x + indx }}"}}
        lost: {type: echo}
    on: {success: done}
  done:
    type: echo
    items: [1]
`), testRegistry(t))
	s := ds.Error()
	for _, want := range []string{
		`test.yaml:8:12: error: node "fan": type map is never retried`,
		`test.yaml:12:19: error: node "fan/a": unknown node type "ech"`,
		`test.yaml:14:9: error: node "fan/lost" is unreachable`,
		`indx`,
		`test.yaml:18:5: error: node "done": key "items" does not apply to type echo`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in:\n%s", want, s)
		}
	}
}
