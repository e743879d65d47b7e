package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// sample is one result line's measurements.
type sample struct {
	ns, bytes, allocs float64
	hasMem            bool
}

// impl is one implementation's samples within a case, in input order.
type impl struct {
	name    string
	samples []sample
}

// benchCase is one Benchmark function: its implementations in order of first appearance.
type benchCase struct {
	name  string
	impls []*impl
}

// results holds every case read so far, in order of first appearance.
type results struct {
	cases []*benchCase
}

// read adds the result lines of one go test output. Other lines (goos, PASS, ok, logs)
// are skipped; a result line that cannot be read is an error naming where it is.
func (rs *results) read(name string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if !strings.HasPrefix(text, "Benchmark") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 2 {
			continue // a bare name, printed before a failure or a sub-benchmark's output
		}
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			continue // a name followed by log output, not a result
		}
		cse, im := splitName(fields[0])
		s, err := parseMetrics(fields[2:])
		if err != nil {
			return fmt.Errorf("%s:%d: %v in %q", name, line, err, text)
		}
		rs.add(cse, im, s)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// splitName turns "BenchmarkSuccess4/kgrun-run-real-2" into ("Success4", "kgrun-run-real"):
// the GOMAXPROCS suffix goes, and a benchmark without sub-benchmarks is its own case.
func splitName(full string) (cse, im string) {
	full = strings.TrimPrefix(full, "Benchmark")
	if i := strings.LastIndexByte(full, '-'); i > 0 {
		if _, err := strconv.Atoi(full[i+1:]); err == nil {
			full = full[:i]
		}
	}
	cse, im, ok := strings.Cut(full, "/")
	if !ok {
		return cse, cse
	}
	return cse, im
}

// parseMetrics reads "value unit" pairs; ns/op is required.
func parseMetrics(f []string) (sample, error) {
	var s sample
	if len(f)%2 != 0 {
		return s, fmt.Errorf("a value without its unit")
	}
	hasNs := false
	for i := 0; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return s, fmt.Errorf("%q is not a number", f[i])
		}
		switch f[i+1] {
		case "ns/op":
			s.ns, hasNs = v, true
		case "B/op":
			s.bytes, s.hasMem = v, true
		case "allocs/op":
			s.allocs, s.hasMem = v, true
		}
	}
	if !hasNs {
		return s, fmt.Errorf("no ns/op")
	}
	return s, nil
}

func (rs *results) add(cse, name string, s sample) {
	var c *benchCase
	for _, x := range rs.cases {
		if x.name == cse {
			c = x
		}
	}
	if c == nil {
		c = &benchCase{name: cse}
		rs.cases = append(rs.cases, c)
	}
	for _, im := range c.impls {
		if im.name == name {
			im.samples = append(im.samples, s)
			return
		}
	}
	c.impls = append(c.impls, &impl{name: name, samples: []sample{s}})
}
