package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/internal/golden"
)

// TestTable renders a captured go test output (two passes, with the lines go test
// interleaves) against the golden table.
func TestTable(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"testdata/sample.txt"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/table.md", out.String())
}

func TestSplitName(t *testing.T) {
	for _, tc := range []struct{ in, cse, impl string }{
		{"BenchmarkSuccess4/kgrun-run-real-2", "Success4", "kgrun-run-real"},
		{"BenchmarkSuccess4/retry-go+gobreaker-16", "Success4", "retry-go+gobreaker"},
		{"BenchmarkTransition-2", "Transition", "Transition"},
		{"BenchmarkTransition", "Transition", "Transition"},
		{"BenchmarkCompile/nodes=100-2", "Compile", "nodes=100"},
		{"BenchmarkA/b/c-2", "A", "b/c"},
	} {
		cse, impl := splitName(tc.in)
		if cse != tc.cse || impl != tc.impl {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", tc.in, cse, impl, tc.cse, tc.impl)
		}
	}
}

func TestMedian(t *testing.T) {
	ns := func(vs ...float64) []sample {
		var ss []sample
		for _, v := range vs {
			ss = append(ss, sample{ns: v})
		}
		return ss
	}
	for _, tc := range []struct {
		in   []sample
		want float64
	}{
		{ns(5), 5},
		{ns(9, 1, 5), 5},
		{ns(4, 1, 3, 2), 2.5},
		{ns(7, 7, 100, 7, 1), 7},
	} {
		if got := median(tc.in, func(s sample) float64 { return s.ns }); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestBadInput: a result line that cannot be read is refused with where it is and why;
// input without results is refused with what to feed instead.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"goos: linux\nBenchmarkX-2 10 abc ns/op\n", `standard input:2: "abc" is not a number`},
		{"BenchmarkX-2 10 5 ns/op 3\n", "standard input:1: a value without its unit"},
		{"BenchmarkX-2 10 5 B/op\n", "standard input:1: no ns/op"},
		{"PASS\nok x 1s\n", "no benchmark results in the input"},
		{"", "no benchmark results in the input"},
	} {
		var out bytes.Buffer
		err := run(nil, strings.NewReader(tc.in), &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("input %q: error %v, want one containing %q", tc.in, err, tc.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct {
		v          float64
		num, ratio string
	}{
		{0, "0", "0.00×"},
		{0.5, "0.50", "0.50×"},
		{12.34, "12.3", "12.3×"},
		{1234.6, "1,235", "1,235×"},
		{2680464, "2,680,464", "2,680,464×"},
	} {
		if got := number(tc.v); got != tc.num {
			t.Errorf("number(%v) = %q, want %q", tc.v, got, tc.num)
		}
		if got := ratio(tc.v, 1); got != tc.ratio {
			t.Errorf("ratio(%v, 1) = %q, want %q", tc.v, got, tc.ratio)
		}
	}
	if got := ratio(1, 0); got != "—" {
		t.Errorf("ratio(1, 0) = %q, want —", got)
	}
}

// FuzzRead: any input either is refused with an error or renders a table; nothing panics.
func FuzzRead(f *testing.F) {
	f.Add("BenchmarkA/kgrun-x-2 10 5 ns/op 0 B/op 0 allocs/op\nBenchmarkA/baseline-2 10 1 ns/op\n")
	f.Add("BenchmarkA 10 1e400 ns/op\n")
	f.Add("BenchmarkA/kgrun 1 NaN ns/op\nBenchmarkA/b 1 0 ns/op\n")
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		if err := run(nil, strings.NewReader(in), &out); err == nil && out.Len() == 0 {
			t.Fatal("no error and no table")
		}
	})
}
