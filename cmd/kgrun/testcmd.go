package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/schema"
)

func newTestFlags() (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	format := fs.String("format", "text", "output `text` or json")
	return fs, format
}

func testCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, format := newTestFlags()
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return usageError(stderr, "test", fmt.Errorf("name at least one workflow file"))
	}
	if *format != "text" && *format != "json" {
		return usageError(stderr, "test", fmt.Errorf("--format takes text or json, not %q", *format))
	}
	return testFiles(ctx, pos, *format, stdout, stderr)
}

// testOutcome is one workflow test's result.
type testOutcome struct {
	File     string        `json:"file"`
	Name     string        `json:"name"`
	Pos      string        `json:"pos"`
	Passed   bool          `json:"passed"`
	Problems []string      `json:"problems,omitempty"`
	Status   engine.Status `json:"status"`
	Path     []string      `json:"path"`
}

// testFiles runs the tests declared in each file, each on a fresh graph (so breaker state
// never leaks between tests), on virtual time with the test's seed. It exits 1 when any
// test fails and 2 when a file does not load.
func testFiles(ctx context.Context, files []string, format string, stdout, stderr io.Writer) int {
	all := []testOutcome{} // JSON [] rather than null when nothing ran
	code := exitOK
	var noTests []string
	for _, file := range files {
		data, ds := schema.ReadFile(file, schema.DefaultLimits)
		if ds.HasErrors() {
			writeDiagnostics(stderr, ds)
			code = exitUsage
			continue
		}
		// Compile before anything else: a file that does not compile fails here whether
		// or not it declares tests, with every diagnostic.
		g, ds := engine.Load(file, data, newRegistry(nil))
		if g == nil {
			writeDiagnostics(stderr, ds)
			code = exitUsage
			continue
		}
		w := g.Spec()
		if len(w.Tests) == 0 {
			noTests = append(noTests, file)
			fmt.Fprintf(stderr, "kgrun test: %s declares no tests\n", termText(file))
			continue
		}
		dir, err := os.MkdirTemp("", "kgrun-test-")
		if err != nil {
			fmt.Fprintf(stderr, "kgrun test: %s\n", termText(err.Error()))
			return exitUsage
		}
		defer os.RemoveAll(dir)
		for i, t := range w.Tests {
			if i > 0 { // a fresh graph per test, so breaker state never leaks between tests
				if g, ds = engine.Load(file, data, newRegistry(nil)); g == nil {
					writeDiagnostics(stderr, ds)
					return exitUsage
				}
			}
			params := map[string]any{"alternate_dir": dir}
			for k, v := range t.Params {
				params[k] = v
			}
			res, err := g.Run(ctx, engine.RunOptions{Scenario: t.Scenario.Name, Seed: t.Seed, Params: params, Input: t.Input,
				Clock: engine.NewVirtualClock(engine.Epoch), Env: os.LookupEnv})
			if err != nil {
				fmt.Fprintf(stderr, "kgrun test: %s: %s\n", termText(t.Name), termText(err.Error()))
				return exitUsage
			}
			o := testOutcome{File: file, Name: t.Name, Pos: t.Pos.String(), Status: res.Status, Path: res.PathNodes()}
			o.Problems = expectations(t.Expect, res)
			o.Passed = len(o.Problems) == 0
			if !o.Passed {
				code = max(code, exitFailed)
			}
			all = append(all, o)
		}
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(all)
		return code
	}
	passed := 0
	p := &printer{w: stdout}
	for _, o := range all {
		if o.Passed {
			passed++
			p.line("PASS  %s  (%s: %s)", o.Name, o.Status, strings.Join(o.Path, " > "))
			continue
		}
		p.line("FAIL  %s  at %s", o.Name, o.Pos)
		for _, problem := range o.Problems {
			p.line("      %s", problem)
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, len(all)-passed)
	if len(noTests) > 0 {
		summary += fmt.Sprintf("; %s declared no tests: %s", plural(len(noTests), "file"), strings.Join(noTests, ", "))
	}
	p.line("%s", summary)
	return code
}

// expectations compares a run with a test's expect block and lists every mismatch.
func expectations(e schema.Expect, res *engine.Result) []string {
	var problems []string
	if e.Status != "" && string(res.Status) != e.Status {
		msg := fmt.Sprintf("status: got %s, want %s", res.Status, e.Status)
		if res.Err != nil {
			msg += " (" + res.Err.Error() + ")"
		}
		problems = append(problems, msg)
	}
	path := res.PathNodes()
	if len(e.Path) > 0 {
		want := make([]string, len(e.Path))
		for i, id := range e.Path {
			want[i] = id.Name
		}
		if !slices.Equal(path, want) {
			problems = append(problems, fmt.Sprintf("path: got %s, want %s", strings.Join(path, " > "), strings.Join(want, " > ")))
		}
	}
	for _, id := range e.Visited {
		if !res.Visited(id.Name) {
			problems = append(problems, fmt.Sprintf("visited: %s was not visited (path %s)", id.Name, strings.Join(path, " > ")))
		}
	}
	for _, id := range e.NotVisited {
		if res.Visited(id.Name) {
			problems = append(problems, fmt.Sprintf("not_visited: %s was visited (path %s)", id.Name, strings.Join(path, " > ")))
		}
	}
	problems = append(problems, valueDiffs("output", e.Output, res.Output)...)
	problems = append(problems, valueDiffs("shared", e.Shared, res.Shared)...)
	return problems
}

// valueDiffs compares the values a test expects with the run's, key by key, as JSON (so
// 5 and 5.0 are equal, as they are to an expression), and lists each difference.
func valueDiffs(what string, want, got map[string]any) []string {
	var problems []string
	for _, k := range sortedKeys(want) {
		g, ok := got[k]
		if !ok {
			has := "nothing"
			if len(got) > 0 {
				has = strings.Join(sortedKeys(got), ", ")
			}
			problems = append(problems, fmt.Sprintf("%s.%s: missing, want %s (%s has %s)", what, k, jsonText(want[k]), what, has))
			continue
		}
		if gs, ws := jsonText(g), jsonText(want[k]); gs != ws {
			problems = append(problems, fmt.Sprintf("%s.%s: got %s, want %s", what, k, gs, ws))
		}
	}
	return problems
}

// jsonText writes a value as canonical JSON (map keys sorted, numbers as JSON numbers),
// so that values compare by what they are, not by their Go types.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	var norm any
	if json.Unmarshal(b, &norm) == nil {
		if nb, err := json.Marshal(norm); err == nil {
			return string(nb)
		}
	}
	return string(b)
}
