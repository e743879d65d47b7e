package engine

import (
	"context"
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
