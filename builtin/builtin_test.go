package builtin

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

// runOne runs a small workflow built from src with the built-in types on virtual time.
func runOne(t *testing.T, src string, opts engine.RunOptions) *engine.Result {
	t.Helper()
	g, ds := engine.Load("t.yaml", []byte(src), Registry(Options{}))
	if ds.HasErrors() {
		t.Fatalf("%s", ds)
	}
	opts.Clock = engine.NewVirtualClock(engine.Epoch)
	res, err := g.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const alternateFlow = `
version: 1
name: alt
start: collect
params: {batch_size: 5}
nodes:
  collect: {type: data_collector, on: {success: process}}
  process: {type: processor, params: {record_failure_rate: 0}, on: {success: alternate}}
  alternate: {type: alternate_delivery, params: {file: %FILE%}, on: {alternate_delivery: done, error: done}}
  done: {type: completion}
`

func TestAlternateDeliveryStaysInsideItsDirectory(t *testing.T) {
	dir := t.TempDir()
	res := runOne(t, strings.Replace(alternateFlow, "%FILE%", "out.json", 1), engine.RunOptions{Params: map[string]any{"alternate_dir": dir}})
	data, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil || res.Status != engine.StatusDegraded {
		t.Fatalf("status %s, read: %v", res.Status, err)
	}
	var payload struct{ Records []Processed }
	if err := json.Unmarshal(data, &payload); err != nil || len(payload.Records) != 5 {
		t.Fatalf("payload %s: %v", data, err)
	}
	for _, name := range []string{"../escape.json", "sub/../../escape.json", "/etc/escape.json", ".."} {
		res := runOne(t, strings.Replace(alternateFlow, "%FILE%", `"`+name+`"`, 1), engine.RunOptions{Params: map[string]any{"alternate_dir": dir}})
		if len(res.Failures) != 1 || res.Failures[0].Kind != engine.Data {
			t.Errorf("file %q: failures %v, want one data error", name, res.Failures)
		}
		if _, err := os.Stat(filepath.Join(dir, "..", "escape.json")); err == nil {
			t.Fatalf("file %q escaped the directory", name)
		}
	}
	// A symlink inside the directory that points out of it is never followed: the write
	// goes to a temporary name and the rename replaces the link itself.
	outside := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "target.json"), filepath.Join(dir, "link.json")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	res = runOne(t, strings.Replace(alternateFlow, "%FILE%", "link.json", 1), engine.RunOptions{Params: map[string]any{"alternate_dir": dir}})
	if _, err := os.Stat(filepath.Join(outside, "target.json")); err == nil {
		t.Fatal("write followed a symlink out of the directory")
	}
	fi, err := os.Lstat(filepath.Join(dir, "link.json"))
	if err != nil || !fi.Mode().IsRegular() || len(res.Failures) != 0 {
		t.Fatalf("link.json: %v, %v; failures %v", fi, err, res.Failures)
	}
}

func TestDeliveryFailoverAndPartial(t *testing.T) {
	flow := `
version: 1
name: deliver
start: collect
params: {batch_size: 10}
nodes:
  collect: {type: data_collector, on: {success: process}}
  process: {type: processor, params: {record_failure_rate: 0}, on: {success: deliver}}
  deliver:
    type: delivery
    params: {channels: %CHANNELS%}
    on: {success: done, delivery_failed: done}
  done: {type: completion}
`
	cases := []struct {
		channels, verdict string
		status            engine.Status
		delivered         int
	}{
		{"[{name: a, failure_rate: 0}]", "delivered", engine.StatusSuccess, 10},
		{"[{name: a, failure_rate: 1}, {name: b, failure_rate: 0}]", "delivered", engine.StatusDegraded, 10},
		{"[{name: a, failure_rate: 0, capacity: 4}, {name: b, failure_rate: 0, capacity: 3}]", "partially delivered", engine.StatusDegraded, 7},
		{"[{name: a, failure_rate: 1}, {name: b, failure_rate: 1}]", "nothing delivered", engine.StatusFailed, 0},
	}
	for _, c := range cases {
		res := runOne(t, strings.Replace(flow, "%CHANNELS%", c.channels, 1), engine.RunOptions{})
		d := res.Shared["delivery"].(DeliveryResult)
		comp := res.Shared["completion"].(CompletionReport)
		if res.Status != c.status || d.Delivered != c.delivered || comp.Verdict != c.verdict {
			t.Errorf("channels %s: status %s, delivered %d, verdict %q; want %s, %d, %q",
				c.channels, res.Status, d.Delivered, comp.Verdict, c.status, c.delivered, c.verdict)
		}
	}
}

func TestFallbackServesCacheWithAge(t *testing.T) {
	flow := `
version: 1
name: cache
start: collect
params: {batch_size: 7}
nodes:
  collect: {type: data_collector, fallback: cached, on: {success: done}}
  cached: {type: fallback_data, params: {default_records: 3}, on: {fallback_data: done}}
  done: {type: processor}
scenarios:
  down: {faults: {collect: {rate: 1, kind: network}}}
`
	g, ds := engine.Load("t.yaml", []byte(flow), Registry(Options{}))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	clock := engine.NewVirtualClock(engine.Epoch)
	run := func(scenario string) *engine.Result {
		res, err := g.Run(context.Background(), engine.RunOptions{Scenario: scenario, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := run("down"); res.Shared["data_source"] != "defaults" || len(res.Shared["records"].([]Record)) != 3 {
		t.Fatalf("no cache yet: %v, %d records", res.Shared["data_source"], len(res.Shared["records"].([]Record)))
	}
	run("")
	clock.Advance(90_000_000_000) // 90s
	res := run("down")
	if res.Shared["data_source"] != "cache" || res.Shared["data_age"] != "1m30s" || len(res.Shared["records"].([]Record)) != 7 {
		t.Fatalf("cache: source %v, age %v, %d records", res.Shared["data_source"], res.Shared["data_age"], len(res.Shared["records"].([]Record)))
	}
}

func TestErrorHandlerClassifiesAndCleansUp(t *testing.T) {
	flow := `
version: 1
name: errors
start: collect
error_handler: handler
nodes:
  collect: {type: data_collector, on: {success: process}}
  process: {type: processor, params: {record_failure_rate: 5}}
  handler: {type: error_handler}
`
	res := runOne(t, flow, engine.RunOptions{})
	rep, ok := res.Shared["error_report"].(ErrorReport)
	if !ok || res.Status != engine.StatusFailed {
		t.Fatalf("status %s, report %v", res.Status, res.Shared["error_report"])
	}
	if rep.CauseKind != "data" || rep.ByKind["data"] != 1 || len(rep.Recommendations) != 1 ||
		!strings.HasPrefix(rep.Recommendations[0], "data: ") || strings.Join(rep.CleanedUp, ",") != "records" {
		t.Fatalf("report %+v", rep)
	}
	if _, left := res.Shared["records"]; left {
		t.Fatal("records were not cleaned up")
	}
}

func TestBadParamsAreDiagnostics(t *testing.T) {
	for _, params := range []string{
		"{channels: []}", "{channels: [{name: a, failure_rate: 2}]}", "{channels: [{name: a, colour: red}]}", "{channels: [a, a]}",
	} {
		src := "version: 1\nname: p\nstart: d\nnodes:\n  d: {type: delivery, params: " + params + "}\n"
		_, ds := engine.Load("p.yaml", []byte(src), Registry(Options{}))
		if !ds.HasErrors() || ds[0].Pos.Line != 5 {
			t.Errorf("params %s: diagnostics %v", params, ds)
		}
	}
}

func TestAlternateDeliveryDefaultDirIsPrivate(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	flow := strings.Replace(alternateFlow, "%FILE%", "out.json", 1)
	res := runOne(t, flow, engine.RunOptions{})
	dir := filepath.Join(state, "kgrun", "alternate")
	if _, err := os.Stat(filepath.Join(dir, "out.json")); err != nil || len(res.Failures) != 0 {
		t.Fatalf("default dir: %v; failures %v", err, res.Failures)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("default dir mode %v, want 0700", fi.Mode().Perm())
	}
	refused := func(t *testing.T, res *engine.Result, want string) {
		t.Helper()
		if len(res.Failures) != 1 || res.Failures[0].Kind != engine.Data || !strings.Contains(res.Failures[0].Err.Error(), want) {
			t.Fatalf("failures %v, want one data error saying %q", res.Failures, want)
		}
	}

	t.Run("open to others", func(t *testing.T) {
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o700)
		refused(t, runOne(t, flow, engine.RunOptions{}), "is open to other users (mode 0777; chmod 700 it)")
	})
	t.Run("planted symlink", func(t *testing.T) {
		other := t.TempDir()
		t.Setenv("XDG_STATE_HOME", other)
		planted := t.TempDir()
		if err := os.MkdirAll(filepath.Join(other, "kgrun"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(planted, filepath.Join(other, "kgrun", "alternate")); err != nil {
			t.Skip("no symlinks here:", err)
		}
		refused(t, runOne(t, flow, engine.RunOptions{}), "is a symbolic link")
		if entries, _ := os.ReadDir(planted); len(entries) != 0 {
			t.Fatalf("wrote into the symlink's target: %v", entries)
		}
	})
	t.Run("another user's directory", func(t *testing.T) {
		foreign := "/" // owned by root: another user's unless this test runs as root
		if os.Getuid() == 0 {
			foreign = t.TempDir()
			if err := os.Chown(foreign, 4242, 4242); err != nil {
				t.Skip("cannot give a directory away:", err)
			}
		}
		refused(t, runOne(t, flow, engine.RunOptions{Params: map[string]any{"alternate_dir": foreign}}), "is owned by another user")
	})
}
