package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kgrun/kgrun/builtin"
	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/engine/policy"
)

// reportOptions say how a run was made, for the report's header.
type reportOptions struct {
	virtual bool
	color   bool
	// runID names the run in the store ("" when none); resumed says how it resumed.
	runID   string
	resumed string
}

// reportPathLimit is how many steps of the path the text report shows.
const reportPathLimit = 50

// writeReport prints what a person wants to know after a run: the path, each stage's
// record counts, retries and waits, fallbacks and why, breakers, calls, the final status
// and what to do about the failures seen.
func writeReport(w io.Writer, res *engine.Result, st *stats, nodes []string, o reportOptions) {
	p := &printer{w: w}
	header := res.Workflow
	if res.Scenario != "" {
		header += " · scenario " + res.Scenario
	}
	header += fmt.Sprintf(" · seed %d", res.Seed)
	if o.virtual {
		header += " · virtual time"
	}
	p.line("%s", header)
	if o.runID != "" {
		p.line("Run %s (kgrun show %s)", o.runID, o.runID)
	}
	if o.resumed != "" {
		p.line("Resumed: %s", o.resumed)
	}
	p.line("Status: %s in %s", statusWord(res.Status, o.color), ms(time.Duration(res.Elapsed)))
	if res.Err != nil && (res.Status == engine.StatusFailed || res.Status == engine.StatusCanceled) {
		p.line("  %s", engine.ShortMessage(res.Err))
	}

	p.section("Path")
	width, actionWidth := 0, 0
	for _, s := range res.Path {
		width = max(width, len(s.Node))
		actionWidth = max(actionWidth, len(s.Action))
	}
	shown := res.Path
	if len(shown) > reportPathLimit {
		shown = shown[:reportPathLimit]
	}
	for i, s := range shown {
		dest := "(end)"
		switch {
		case s.To != "":
			dest = "→ " + s.To
		case s.Route == "unhandled":
			dest = "(unhandled)"
		case s.Route == "canceled":
			dest = "(interrupted)"
		}
		note := []string{}
		if s.Route != "edge" && s.Route != "end" && s.Route != "unhandled" && s.Route != "canceled" {
			note = append(note, s.Route)
		}
		if s.Guard != "" {
			note = append(note, "when "+s.Guard)
		}
		if s.Attempts > 1 {
			note = append(note, fmt.Sprintf("%d attempts", s.Attempts))
		}
		extra := ""
		if len(note) > 0 {
			extra = "  (" + strings.Join(note, "; ") + ")"
		}
		p.line("  %2d. %-*s  %-*s  %s%s", i+1, width, s.Node, actionWidth, s.Action, dest, extra)
	}
	if more := len(res.Path) - len(shown) + res.PathDropped; more > 0 {
		p.line("      … %d more steps (%d visits in all; --trace records every one)", more, res.Steps())
	}

	stages(p, res)

	if len(st.params) > 0 {
		p.section("Params computed")
		width := 0
		for _, vp := range st.params {
			width = max(width, len(vp.Node)+len(fmt.Sprint(vp.Visit))+1)
		}
		for _, vp := range st.params {
			var parts []string
			for _, k := range sortedKeys(vp.Params) {
				parts = append(parts, termText(k)+"="+termText(shortJSON(vp.Params[k])))
			}
			p.line("  %-*s  %s", width, fmt.Sprintf("%s#%d", vp.Node, vp.Visit), strings.Join(parts, " "))
		}
	}

	if len(res.Output) > 0 {
		p.section("Output")
		width := 0
		for k := range res.Output {
			width = max(width, len(k))
		}
		for _, k := range sortedKeys(res.Output) {
			p.line("  %-*s  %s", width, termText(k), termText(shortJSON(res.Output[k])))
		}
	}

	if len(st.retries) > 0 {
		p.section("Retries")
		for _, n := range sortedKeys(st.retries) {
			var kinds []string
			for _, k := range sortedKinds(st.retryKinds[n]) {
				kinds = append(kinds, fmt.Sprintf("%s ×%d", k, st.retryKinds[n][k]))
			}
			p.line("  %-*s  %s, waited %s (after %s)", width, n, plural(st.retries[n], "retry"), ms(st.waits[n]), strings.Join(kinds, ", "))
		}
	}

	if len(st.fanouts) > 0 {
		p.section("Fan-out")
		for _, f := range st.fanouts {
			var counts []string
			for _, s := range []engine.Status{engine.StatusSuccess, engine.StatusDegraded, engine.StatusFailed, engine.StatusCanceled} {
				if n := f.statuses[s]; n > 0 {
					counts = append(counts, fmt.Sprintf("%d %s", n, s))
				}
			}
			var slow []string
			for _, c := range f.slowest {
				slow = append(slow, fmt.Sprintf("%s %s (%s)", termText(c.scope), ms(c.took), c.status))
			}
			p.line("  %-*s  %s: %s · slowest %s", width, termText(f.node), plural(f.children, "child run"), strings.Join(counts, ", "), strings.Join(slow, ", "))
		}
	}

	var fallbacks []string
	for _, s := range res.Path {
		if s.Failure != nil && s.To != "" {
			fallbacks = append(fallbacks, fmt.Sprintf("  %s → %s by %s on %s: %s failure in %s: %s",
				s.Node, s.To, s.Route, s.Action, s.Failure.Kind, s.Failure.Phase, s.Failure.Message))
		}
	}
	if len(fallbacks) > 0 {
		p.section("Fallbacks")
		for _, f := range fallbacks {
			p.line("%s", f)
		}
	}

	if len(res.Breakers) > 0 {
		p.section("Breakers")
		for _, b := range res.Breakers {
			c := b.Counts
			p.line("  %s  %s · %s", b.Name, b.StateStr, breakerCounts(c))
		}
		for _, t := range st.transitions {
			p.line("    %s: %s → %s at %s (node %s)", t.Breaker, t.From, t.To, t.at.Round(time.Millisecond), t.Node)
		}
	}

	p.section("Calls")
	var calls []string
	for _, n := range nodes {
		if c := res.Calls[n]; c > 0 {
			calls = append(calls, fmt.Sprintf("%s %d", n, c))
		}
	}
	p.line("  %s", strings.Join(calls, " · "))

	if len(res.Degradations) > 0 {
		p.section("Degradations")
		for _, d := range res.Degradations {
			p.line("  - %s", d)
		}
	}
	if recs := recommendationsFor(res); len(recs) > 0 {
		p.section("Recommendations")
		for _, r := range recs {
			p.line("  - %s", r)
		}
	}
}

// stages prints each pipeline stage's record counts from what the built-in roles left in
// the shared store; stages a workflow does not have are left out.
func stages(p *printer, res *engine.Result) {
	var lines []string
	sh := res.Shared
	if recs, ok := sharedAs[[]builtin.Record](sh, "records"); ok {
		src, _ := sharedAs[string](sh, "data_source")
		line := fmt.Sprintf("data        %s from %s", plural(len(recs), "record"), src)
		if age, _ := sharedAs[string](sh, "data_age"); age != "" {
			line += " (age " + age + ")"
		}
		lines = append(lines, line)
	}
	if proc, ok := sharedAs[[]builtin.Processed](sh, "processed"); ok {
		mode, _ := sharedAs[string](sh, "processing_mode")
		rate, _ := sharedAs[float64](sh, "success_rate")
		line := fmt.Sprintf("processing  %s: %d processed (success rate %.0f%%)", mode, len(proc), rate*100)
		if failed, _ := sharedAs[[]int](sh, "failed_records"); len(failed) > 0 {
			line += fmt.Sprintf(", %s failed (ids %s)", plural(len(failed), "record"), joinInts(failed, 8))
		}
		lines = append(lines, line)
	}
	if d, ok := sharedAs[builtin.DeliveryResult](sh, "delivery"); ok {
		var chs []string
		for _, c := range d.Channels {
			s := c.Name + " " + c.Status
			if c.Delivered > 0 {
				s += fmt.Sprintf(" %d", c.Delivered)
			}
			chs = append(chs, s)
		}
		lines = append(lines, fmt.Sprintf("delivery    %s → %d of %d delivered", strings.Join(chs, " · "), d.Delivered, d.Total))
	}
	if a, ok := sharedAs[builtin.AlternateResult](sh, "alternate_delivery"); ok {
		lines = append(lines, fmt.Sprintf("alternate   wrote %d records to %s in the alternate directory", a.Records, a.File))
	}
	if c, ok := sharedAs[builtin.CompletionReport](sh, "completion"); ok {
		lines = append(lines, "completion  "+c.Verdict)
	}
	if e, ok := sharedAs[builtin.ErrorReport](sh, "error_report"); ok {
		line := "errors      " + e.Status
		if len(e.CleanedUp) > 0 {
			line += "; cleaned up " + strings.Join(e.CleanedUp, ", ")
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return
	}
	p.section("Stages")
	for _, l := range lines {
		p.line("  %s", l)
	}
}

// sharedAs reads a shared value as a T; values rebuilt from a journal are converted.
func sharedAs[T any](sh map[string]any, key string) (T, bool) {
	raw, ok := sh[key]
	if !ok {
		var zero T
		return zero, false
	}
	v, err := engine.As[T](raw)
	return v, err == nil
}

// breakerCounts writes a breaker's counts: "1 success, 3 failures, 0 ignored, 2 rejected".
func breakerCounts(c policy.Counts) string {
	return fmt.Sprintf("%s, %s, %d ignored, %d rejected", plural(int(c.Successes), "success"),
		plural(int(c.Failures), "failure"), c.Ignored, c.Rejections)
}

func recommendationsFor(res *engine.Result) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range res.Failures {
		r := builtin.RecommendationFor(f)
		if r == "" {
			continue
		}
		line := string(f.Kind) + ": " + r
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	sort.Strings(out)
	return out
}

func statusWord(s engine.Status, color bool) styled {
	word := styled(strings.ToUpper(string(s)))
	if !color {
		return word
	}
	code := "32" // green
	switch s {
	case engine.StatusDegraded:
		code = "33"
	case engine.StatusFailed, engine.StatusCanceled:
		code = "31"
	}
	return "\x1b[1;" + styled(code) + "m" + word + "\x1b[0m"
}

// printer writes the text reports. Every string, error and Stringer it is given goes
// through termText, so names and messages from files, services and the store cannot
// drive the terminal; format strings must therefore be kgrun's own constants.
type printer struct{ w io.Writer }

func (p *printer) line(format string, args ...any) {
	fmt.Fprintf(p.w, format+"\n", safeArgs(args)...)
}
func (p *printer) section(title string) { fmt.Fprintf(p.w, "\n%s\n", title) }

func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	case strings.HasSuffix(noun, "s"):
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// ms rounds a duration for people: to the millisecond, or the microsecond below that.
func ms(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}

func joinInts(xs []int, limit int) string {
	var parts []string
	for i, x := range xs {
		if i == limit {
			parts = append(parts, fmt.Sprintf("… %d more", len(xs)-limit))
			break
		}
		parts = append(parts, fmt.Sprint(x))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedKinds(m map[engine.Kind]int) []engine.Kind {
	keys := make([]engine.Kind, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// reportValueLimit is how much of a value the text report prints; --format json carries
// it whole.
const reportValueLimit = 200

// shortJSON writes a value as JSON for the report, cut at reportValueLimit bytes.
func shortJSON(v any) string {
	s := jsonText(v)
	if len(s) > reportValueLimit {
		cut := reportValueLimit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + fmt.Sprintf("… (%d bytes; --format json has it all)", len(s))
	}
	return s
}
