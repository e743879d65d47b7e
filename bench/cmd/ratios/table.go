package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// subject reports whether an implementation is one of kgrun's, which the table divides
// by the references: every other implementation of its case.
func subject(name string) bool { return strings.HasPrefix(name, "kgrun") }

// median of the samples' field, the mean of the middle two for an even count.
func median(ss []sample, field func(sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = field(s)
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// passRatio is the median over passes of im's ns/op divided by ref's in the same pass,
// which cancels load that changes from one pass to the next; with unequal pass counts it
// is the ratio of the medians. It returns the dividend and divisor for ratio.
func passRatio(im, ref *impl, ns map[string]float64) (float64, float64) {
	if len(im.samples) != len(ref.samples) {
		return ns[im.name], ns[ref.name]
	}
	per := make([]sample, 0, len(im.samples))
	for i, s := range im.samples {
		if ref.samples[i].ns == 0 {
			return ns[im.name], ns[ref.name]
		}
		per = append(per, sample{ns: s.ns / ref.samples[i].ns})
	}
	return median(per, func(s sample) float64 { return s.ns }), 1
}

// table renders the results as markdown.
func (rs *results) table() string {
	var sb strings.Builder
	counts := 0
	sb.WriteString("| case | implementation | ns/op | B/op | allocs/op | kgrun ÷ reference |\n")
	sb.WriteString("|---|---|---:|---:|---:|---|\n")
	for _, c := range rs.cases {
		ns := map[string]float64{}
		for _, im := range c.impls {
			ns[im.name] = median(im.samples, func(s sample) float64 { return s.ns })
			counts = max(counts, len(im.samples))
		}
		for _, im := range c.impls {
			mem := [2]string{"—", "—"}
			withMem := slices.DeleteFunc(slices.Clone(im.samples), func(s sample) bool { return !s.hasMem })
			if len(withMem) > 0 {
				mem[0] = number(median(withMem, func(s sample) float64 { return s.bytes }))
				mem[1] = number(median(withMem, func(s sample) float64 { return s.allocs }))
			}
			var ratios []string
			if subject(im.name) {
				for _, ref := range c.impls {
					if !subject(ref.name) {
						ratios = append(ratios, ratio(passRatio(im, ref, ns))+" "+ref.name)
					}
				}
			}
			fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s |\n", c.name, im.name, number(ns[im.name]), mem[0], mem[1], strings.Join(ratios, " · "))
		}
	}
	fmt.Fprintf(&sb, "\nMedians of up to %d passes per implementation; each ratio is the median of the\nratios within a pass.\n", counts)
	return sb.String()
}

// number prints a figure with as many decimals as a benchmark's precision warrants.
func number(v float64) string {
	switch a := math.Abs(v); {
	case a == math.Trunc(a) && a < 1e15:
		return grouped(v)
	case a < 10:
		return fmt.Sprintf("%.2f", v)
	case a < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return grouped(math.Round(v))
}

// grouped prints a whole number with thousands separators.
func grouped(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ratio prints a/b as a factor.
func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	r := a / b
	switch {
	case r < 10:
		return fmt.Sprintf("%.2f×", r)
	case r < 100:
		return fmt.Sprintf("%.1f×", r)
	}
	return grouped(math.Round(r)) + "×"
}
