package engine

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRoutingPrecedence pins, for each failure action, which handler wins:
// on_error hook → failure edge → fallback → error_handler → run fails.
func TestRoutingPrecedence(t *testing.T) {
	base := `
version: 1
name: precedence
start: work
%ERRH%
breakers:
  b: {failure_threshold: 1, open_timeout: 1m}
nodes:
  work:
    type: echo
    %POLICY%
    %HOOK%
    %FALLBACK%
    on:
      success: done
      %EDGE%
  done: {type: echo}
%NODES%
scenarios:
  fail: {faults: {work: {rate: 1, kind: %KIND%}}}
`
	type layer struct{ hook, edge, fallback, handler bool }
	actions := []struct {
		action, policy, kind string
	}{
		{"error", "", "failed"},
		{"retry_exhausted", "retry: {attempts: 2}", "network"},
		{"timeout", "timeout: 1s", "timeout"},
		{"circuit_open", "breaker: b", "network"},
	}
	layers := []struct {
		l    layer
		want string
	}{
		{layer{true, true, true, true}, "by_hook"},
		{layer{false, true, true, true}, "by_edge"},
		{layer{false, false, true, true}, "by_fallback"},
		{layer{false, false, false, true}, "handler"},
		{layer{false, false, false, false}, ""},
	}
	for _, a := range actions {
		for _, l := range layers {
			name := a.action + "/" + l.want
			if l.want == "" {
				name = a.action + "/unhandled"
			}
			t.Run(name, func(t *testing.T) {
				src := base
				rep := map[string]string{"%POLICY%": a.policy, "%KIND%": a.kind, "%HOOK%": "", "%EDGE%": "", "%FALLBACK%": "", "%ERRH%": ""}
				var nodes []string
				if l.l.hook {
					rep["%HOOK%"] = "hooks: {on_error: [{when: \"error.action == '" + a.action + "'\", action: other}]}"
					rep["%EDGE%"] = "other: by_hook\n      "
					nodes = append(nodes, "by_hook")
				}
				if l.l.edge {
					rep["%EDGE%"] += a.action + ": by_edge"
					nodes = append(nodes, "by_edge")
				}
				if l.l.fallback {
					rep["%FALLBACK%"] = "fallback: by_fallback"
					nodes = append(nodes, "by_fallback")
				}
				if l.l.handler {
					rep["%ERRH%"] = "error_handler: handler"
					nodes = append(nodes, "handler")
				}
				for i, n := range nodes {
					nodes[i] = "  " + n + ": {type: echo}"
				}
				rep["%NODES%"] = strings.Join(nodes, "\n")
				for k, v := range rep {
					src = strings.ReplaceAll(src, k, v)
				}
				g, ds := Load("p.yaml", []byte(src), testRegistry(t))
				if ds.HasErrors() {
					t.Fatalf("%s\n%s", ds, src)
				}
				if a.action == "circuit_open" {
					// Open the breaker with one failing run, then observe the rejection.
					runVirtual(t, g, RunOptions{Scenario: "fail"})
				}
				res, _ := runVirtual(t, g, RunOptions{Scenario: "fail"})
				first := res.Path[0]
				if first.Action != actionFor(a.action, l.l.hook) {
					t.Fatalf("first step %+v, want action %s", first, a.action)
				}
				if l.want == "" {
					if res.Status != StatusFailed || !errors.Is(res.Err, ErrUnrouted) || len(res.Path) != 1 {
						t.Fatalf("unhandled: %s, err %v", pathString(res), res.Err)
					}
					return
				}
				if first.To != l.want || res.Status != StatusDegraded {
					t.Fatalf("routed to %q (%s), want %q; path %s", first.To, first.Route, l.want, pathString(res))
				}
			})
		}
	}
}

func actionFor(action string, hook bool) string {
	if hook {
		return "other"
	}
	return action
}

func TestGuardOrder(t *testing.T) {
	src := `
version: 1
name: guards
start: work
params: {threshold: 5}
nodes:
  work:
    type: echo
    params: {value: 7}
    on:
      success:
        - {to: big, when: "result.value > 10"}
        - {to: medium, when: "result.value > params.threshold"}
        - {to: medium2, when: "result.value > 0"}
        - {to: small}
  big: {type: echo}
  medium: {type: echo}
  medium2: {type: echo}
  small: {type: echo}
`
	for _, c := range []struct {
		value int
		want  string
	}{{20, "big"}, {7, "medium"}, {3, "medium2"}, {-1, "small"}} {
		g := mustLoad(t, strings.Replace(src, "value: 7", "value: "+strconv.Itoa(c.value), 1))
		res, events := runVirtual(t, g, RunOptions{})
		if res.Path[0].To != c.want {
			t.Errorf("value %v: went to %s, want %s", c.value, res.Path[0].To, c.want)
		}
		tr := eventsOf(events, EventTransition)[0]
		if c.want != "small" && tr.Guard == "" {
			t.Errorf("value %v: transition event does not name its guard", c.value)
		}
	}
}

func TestGuardRuntimeErrorNamesPosition(t *testing.T) {
	src := `
version: 1
name: guards
start: work
error_handler: handler
nodes:
  work:
    type: echo
    on:
      success:
        - {to: next, when: "shared.missing.deep > 1"}
  next: {type: echo}
  handler: {type: echo}
`
	g := mustLoad(t, src)
	res, _ := runVirtual(t, g, RunOptions{})
	if len(res.Failures) != 1 {
		t.Fatalf("failures %v", res.Failures)
	}
	var ge *GuardError
	if !errors.As(res.Failures[0], &ge) || ge.Pos.String() != "test.yaml:10:44" {
		t.Fatalf("guard error %v (pos %v), want one at test.yaml:10:44", res.Failures[0], ge)
	}
	if res.Path[0].To != "handler" || res.Status != StatusDegraded {
		t.Fatalf("path %s", pathString(res))
	}
}

func TestHooks(t *testing.T) {
	src := `
version: 1
name: hooks
start: work
params: {limit: 3}
nodes:
  work:
    type: echo
    params: {value: 2}
    hooks:
      before_prep:
        - {assert: "params.limit > 0", message: "limit must be positive"}
        - {set: {started: "node + ' started'"}}
      after_exec:
        - {when: "result.value > 1", set: {doubled: "result.value * 2"}}
      on_error:
        - {when: "error.kind == 'network'", set: {recovered_from: "error.message"}, action: other}
    on: {success: done, other: recovered}
  done: {type: echo}
  recovered: {type: echo}
scenarios:
  down: {faults: {work: {rate: 1, kind: network, message: "connection refused"}}}
  bad: {params: {limit: 0}}
`
	g := mustLoad(t, src)
	res, _ := runVirtual(t, g, RunOptions{})
	if pathString(res) != "work(success) → done(success) = success" || res.Shared["started"] != "work started" || res.Shared["doubled"] != 4 {
		t.Fatalf("clean: %s %v", pathString(res), res.Shared)
	}
	res, _ = runVirtual(t, g, RunOptions{Scenario: "down"})
	if pathString(res) != "work(other) → recovered(success) = degraded" || res.Shared["recovered_from"] != "connection refused" {
		t.Fatalf("suppressed: %s %v", pathString(res), res.Shared)
	}
	if res.Path[0].Route != "hook" {
		t.Fatalf("route %q, want hook", res.Path[0].Route)
	}
	res, _ = runVirtual(t, g, RunOptions{Scenario: "bad"})
	if res.Status != StatusFailed || res.Failures[0].Kind != Data || !strings.Contains(res.Err.Error(), "limit must be positive") {
		t.Fatalf("assert: %s %v", pathString(res), res.Err)
	}
	if res.Calls["work"] != 0 {
		t.Fatalf("exec ran %d times after a failed before_prep assertion", res.Calls["work"])
	}
}

func TestGoErrorHookSuppresses(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: gohook
start: work
nodes:
  work:
    type: recover
    on: {success: done, recovered: cache}
  done: {type: echo}
  cache: {type: echo}
`)
	res, events := runVirtual(t, g, RunOptions{})
	if pathString(res) != "work(recovered) → cache(success) = degraded" {
		t.Fatalf("path %s", pathString(res))
	}
	if h := eventsOf(events, EventHook); len(h) != 1 || h[0].Hook != "go:on_error" {
		t.Fatalf("hook events %+v", h)
	}
}

func TestScriptedFaultsAndTimeout(t *testing.T) {
	src := `
version: 1
name: script
start: work
nodes:
  work:
    type: echo
    retry: {attempts: 5, delay: 1s, on: [network, timeout]}
    timeout: 2s
    on: {success: done}
  done: {type: echo}
scenarios:
  scripted:
    faults:
      work:
        script:
          - {calls: "1-2", fail: network}
          - {calls: 3, latency: 10s}
          - {calls: "4-", latency: 500ms}
`
	g := mustLoad(t, src)
	res, events := runVirtual(t, g, RunOptions{Scenario: "scripted"})
	if res.Status != StatusSuccess || res.Calls["work"] != 4 || res.Path[0].Attempts != 4 {
		t.Fatalf("%s with %d calls", pathString(res), res.Calls["work"])
	}
	var kinds []string
	for _, e := range eventsOf(events, EventAttemptFailed) {
		kinds = append(kinds, string(e.ErrKind))
	}
	if got := strings.Join(kinds, ","); got != "network,network,timeout" {
		t.Fatalf("failed attempts %s, want network,network,timeout", got)
	}
	// 1s + 1s waits, the third attempt cut at 2s, a 1s wait, then 500ms of latency.
	if res.Elapsed != Duration(5500*time.Millisecond) {
		t.Fatalf("elapsed %v on the virtual clock, want 5.5s", res.Elapsed)
	}
}

func TestTimeoutIsFailureActionTimeout(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: slow
start: work
nodes:
  work:
    type: sleep
    params: {sleep: 10s}
    timeout: 1s
    on: {success: done, timeout: late}
  done: {type: echo}
  late: {type: echo}
`)
	res, _ := runVirtual(t, g, RunOptions{})
	if pathString(res) != "work(timeout) → late(success) = degraded" || res.Elapsed != Duration(time.Second) {
		t.Fatalf("%s in %v", pathString(res), res.Elapsed)
	}
}

func TestRealClockTimeoutCutsExec(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: slow
start: work
nodes:
  work:
    type: sleep
    params: {sleep: 1h}
    timeout: 20ms
    on: {timeout: late}
  late: {type: echo}
`)
	res, err := g.Run(context.Background(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pathString(res) != "work(timeout) → late(success) = degraded" {
		t.Fatalf("%s", pathString(res))
	}
}

func TestPanicBecomesInternalError(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: panics
start: work
nodes:
  work:
    type: panic
    on: {error: handled}
  handled: {type: echo}
`)
	res, _ := runVirtual(t, g, RunOptions{})
	if pathString(res) != "work(error) → handled(success) = degraded" || res.Failures[0].Kind != Internal ||
		!strings.Contains(res.Failures[0].Error(), "panic: boom") {
		t.Fatalf("%s: %v", pathString(res), res.Failures)
	}
}

func TestBreakerInEngine(t *testing.T) {
	src := `
version: 1
name: breaker
start: work
breakers:
  api: {failure_threshold: 3, open_timeout: 30s}
nodes:
  work:
    type: echo
    breaker: api
    on: {success: done, circuit_open: cache, error: failed}
  done: {type: echo}
  cache: {type: echo}
  failed: {type: echo}
scenarios:
  down: {faults: {work: {rate: 1, kind: network}}}
  bad_data: {faults: {work: {rate: 1, kind: data}}}
`
	g := mustLoad(t, src)
	clock := NewVirtualClock(Epoch)
	run := func(scenario string) *Result {
		res, err := g.Run(context.Background(), RunOptions{Scenario: scenario, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for i := 0; i < 5; i++ {
		run("bad_data")
	}
	if s, _ := g.Breaker("api"); s.StateStr != "closed" || s.Counts.Ignored != 5 {
		t.Fatalf("data errors tripped the breaker: %+v", s)
	}
	for i := 0; i < 3; i++ {
		if res := run("down"); res.Path[0].To != "failed" {
			t.Fatalf("run %d: %s", i, pathString(res))
		}
	}
	if res := run(""); res.Path[0].To != "cache" || res.Calls["work"] != 0 {
		t.Fatalf("open breaker: %s, %d calls", pathString(res), res.Calls["work"])
	}
	clock.Advance(30 * time.Second)
	if res := run(""); res.Path[0].To != "done" {
		t.Fatalf("after open_timeout: %s", pathString(res))
	}
	s, _ := g.Breaker("api")
	if s.StateStr != "closed" || s.Counts.Rejections != 1 || s.Counts.Failures != 3 || s.Counts.Transitions != 3 {
		t.Fatalf("breaker %+v", s)
	}
}

// TestConcurrentRunsShareBreaker runs many runs at once against one breaker; under
// -race it proves the sharing is safe, and the counts prove every call was accounted
// for exactly once.
func TestConcurrentRunsShareBreaker(t *testing.T) {
	g := mustLoad(t, `
version: 1
name: concurrent
start: work
breakers:
  api: {failure_threshold: 5, open_timeout: 1s}
nodes:
  work:
    type: echo
    breaker: api
    retry: {attempts: 3, delay: 10ms}
    bulkhead: {max_concurrent: 4, max_wait: 1s}
    on: {success: done, circuit_open: done, retry_exhausted: done}
  done: {type: echo}
scenarios:
  flaky: {faults: {work: {rate: 0.5, kind: network}}}
`)
	clock := NewVirtualClock(Epoch)
	const runs = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[Status]int{}
	calls := 0
	for i := 0; i < runs; i++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			res, err := g.Run(context.Background(), RunOptions{Scenario: "flaky", Seed: seed, Clock: clock})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			statuses[res.Status]++
			calls += res.Calls["work"]
			mu.Unlock()
		}(int64(i))
	}
	wg.Wait()
	if statuses[StatusSuccess]+statuses[StatusDegraded] != runs {
		t.Fatalf("statuses %v do not add up to %d", statuses, runs)
	}
	s, _ := g.Breaker("api")
	admitted := s.Counts.Successes + s.Counts.Failures + s.Counts.Ignored
	if int(admitted) != calls {
		t.Fatalf("breaker saw %d admitted calls, runs made %d", admitted, calls)
	}
}
