package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// FuzzLoad compiles arbitrary workflow files against the test registry: loading must
// never panic, and a file that loads must run (briefly, on virtual time) without one.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"../testdata/valid/*.yaml", "../testdata/invalid/*.yaml", "../workflows/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(retryWorkflow("{attempts: 3, delay: 1s}", 2)))
	reg := testRegistry(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, ds := Load("fuzz.yaml", data, reg)
		for _, d := range ds {
			if d.Pos.Line < 1 {
				t.Fatalf("diagnostic without a line: %s", d)
			}
		}
		if g == nil {
			return
		}
		for _, sc := range append([]string{""}, g.Scenarios()...) {
			if _, err := g.Run(context.Background(), RunOptions{Scenario: sc, MaxSteps: 50, Clock: NewVirtualClock(Epoch)}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzGuard compiles arbitrary guard expressions in place: compiling must never panic,
// errors must point inside the file, and a guard that compiles must evaluate (to a
// routing failure at worst) without a panic.
func FuzzGuard(f *testing.F) {
	for _, s := range []string{
		"result.value > 1", "result.value > params.threshold && shared.x == nil", "len(shared) > 0",
		"error.kind == 'network'", "node == 'work' || attempt > 2", "result.valu > 1", "result.value >",
		"1 / 0 > 1", "shared.missing.deep > 1", `"a" + 1`, "all(shared.list, {# > 0})", "let x = 1; x > 0",
		"let r = 1..999999; all(r, {all(r, {true})})", `reduce(1..31, #acc + #acc, "a") != ""`,
		`reduce(1..params.threshold * 10, #acc + #acc, "a") != ""`, `len(repeat("ab", params.threshold * 100000000)) > 0`,
	} {
		f.Add(s)
	}
	reg := testRegistry(f)
	f.Fuzz(func(t *testing.T, guard string) {
		src := "version: 1\nname: g\nstart: a\nparams: {threshold: 3}\nnodes:\n  a:\n    type: echo\n    params: {value: 5}\n" +
			"    on:\n      success:\n        - {to: b, when: " + strconv.Quote(guard) + "}\n        - {to: b}\n  b: {type: echo}\n"
		g, ds := Load("guard.yaml", []byte(src), reg)
		for _, d := range ds {
			if d.Pos.Line < 1 {
				t.Fatalf("diagnostic without a line: %s", d)
			}
		}
		if g == nil {
			return
		}
		if _, err := g.Run(context.Background(), RunOptions{MaxSteps: 10, Clock: NewVirtualClock(Epoch)}); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzResume feeds arbitrary journal contents to a resume: a damaged or hostile journal
// must give an error or a run, never a panic.
func FuzzResume(f *testing.F) {
	g := mustLoad(f, `
version: 1
name: resume
start: a
nodes:
  a: {type: echo, params: {value: 1}, on: {success: b}}
  b: {type: recover, on: {success: c, recovered: c}}
  c: {type: echo}
scenarios:
  down: {faults: {b: {rate: 1, kind: network}}}
`)
	var seeds [][]byte
	_, _ = g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch), Scenario: "down", Journal: journalFunc(func(cp *Checkpoint) error {
		b, err := json.Marshal(cp)
		seeds = append(seeds, b)
		return err
	})})
	for i := range seeds {
		f.Add(bytes.Join(seeds[:i+1], []byte("\n")))
	}
	f.Add([]byte(`{"seq":1,"step":{"node":"zz","visit":-5},"next":"nowhere","set":{"k":[1,2]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st := NewRunState()
		for _, line := range bytes.Split(data, []byte("\n")) {
			var cp Checkpoint
			if json.Unmarshal(line, &cp) != nil || st.Apply(&cp) != nil {
				return
			}
		}
		res, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch), MaxSteps: 20, Resume: st})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status == "" {
			t.Fatal("a resumed run ended without a status")
		}
	})
}
