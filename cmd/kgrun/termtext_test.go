package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kgrun/kgrun/engine"
)

func TestTermText(t *testing.T) {
	cases := []struct{ in, text, lines string }{
		{"plain name · → ü", "plain name · → ü", "plain name · → ü"},
		{"", "", ""},
		{"red \x1b[31mX\x1b[0m", `red \x1b[31mX\x1b[0m`, `red \x1b[31mX\x1b[0m`},
		{"a\r\nb\tc", `a\r\nb\tc`, "a\\r\nb\\tc"},
		{"bell\a del\x7f", `bell\x07 del\x7f`, `bell\x07 del\x7f`},
		{"csi \u009b2J", `csi \u009b2J`, `csi \u009b2J`},
		{"rtl \u202eexe.txt \u2066x\u2069", `rtl \u202eexe.txt \u2066x\u2069`, `rtl \u202eexe.txt \u2066x\u2069`},
		{"sep\u2028x", `sep\u2028x`, `sep\u2028x`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`, `bad \xff\xfe utf8`},
		{"emoji 👩‍🚀 stays", "emoji 👩‍🚀 stays", "emoji 👩‍🚀 stays"},
	}
	for _, c := range cases {
		if got := termText(c.in); got != c.text {
			t.Errorf("termText(%q) = %q, want %q", c.in, got, c.text)
		}
		if got := termLines(c.in); got != c.lines {
			t.Errorf("termLines(%q) = %q, want %q", c.in, got, c.lines)
		}
	}
}

func TestTermTextKeepsCleanTextWithoutAllocating(t *testing.T) {
	s := "collect → process · 3 attempts"
	if n := testing.AllocsPerRun(100, func() { _ = termText(s) }); n != 0 {
		t.Fatalf("termText allocated %v times on clean text", n)
	}
}

// controls finds what must never reach a terminal from kgrun's text output: any control
// character but the newline, C1 controls, line separators and bidi controls.
var controls = regexp.MustCompile("[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

// TestHostileTextIsEscaped runs a workflow whose name, guard, fault message and test name
// carry terminal escapes through every human-readable output, and checks each prints
// them escaped.
func TestHostileTextIsEscaped(t *testing.T) {
	const file = "testdata/cli/hostile.yaml"
	state := filepath.Join(t.TempDir(), "state.db")
	var all strings.Builder
	outputs := []struct {
		name string
		args []string
		code int
	}{
		{"run", []string{file, "--scenario", "hostile", "--virtual-time", "--clock-start", "2026-01-01T00:00:00Z",
			"--state", state, "--log-level", "debug", "--log-format", "text"}, exitFailed},
		{"runs", []string{"runs", "--state", state}, exitOK},
		{"show", []string{"show", "1", "--state", state}, exitOK},
		{"many", []string{file, "--scenario", "hostile", "--virtual-time", "--runs", "3"}, exitFailed},
		{"test", []string{"test", file}, exitFailed},
		{"graph", []string{"graph", file}, exitOK},
		{"dot", []string{"graph", file, "--format", "dot"}, exitOK},
		{"validate", []string{"validate", "testdata/cli/hostile_invalid.yaml"}, exitUsage},
		{"run invalid", []string{"testdata/cli/hostile_invalid.yaml"}, exitUsage},
		{"test invalid", []string{"test", "testdata/cli/hostile_invalid.yaml"}, exitUsage},
	}
	timestamp := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT[0-9:.]+Z `)
	for _, o := range outputs {
		stdout, stderr, code := kgrun(t, o.args...)
		if code != o.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", o.name, code, o.code, stdout, stderr)
		}
		for stream, text := range map[string]string{"stdout": stdout, "stderr": stderr} {
			if loc := controls.FindStringIndex(text); loc != nil {
				t.Errorf("%s: %s carries %q unescaped:\n%s", o.name, stream, text[loc[0]:loc[1]], text)
			}
		}
		if o.name == "runs" || o.name == "show" {
			continue // their layout belongs to the store's tests; only the escaping is checked here
		}
		stderr = timestamp.ReplaceAllString(stderr, "TIME ")
		all.WriteString("$ kgrun " + strings.Join(o.args, " ") + "\n" + stdout + "--- stderr\n" + stderr + "\n")
	}
	for _, want := range []string{`evil\x1b[31m\r\nStatus: SUCCESS\x1b]0;owned\x07`, `reset\x1b[2K\rall fine\u202egnp.exe\u009b31m`,
		`FAIL  \x1b[32mPASS\x1b[0m  forged`} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("output does not show %s escaped", want)
		}
	}
	checkGolden(t, "hostile.txt", strings.ReplaceAll(all.String(), state, "$STATE"))
}

// FuzzTermText checks, for any bytes, that termText leaves nothing a terminal would act
// on (termLines only newlines), and that text with nothing to escape comes back as is.
func FuzzTermText(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[31mred", "a\r\nb", "\xff\xfe", "\u202e", "\u009b2J", "👩‍🚀", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text, lines := termText(s), termLines(s)
		if loc := controls.FindStringIndex(text); loc != nil || strings.Contains(text, "\n") || !utf8.ValidString(text) {
			t.Fatalf("termText(%q) = %q still carries a control or invalid UTF-8", s, text)
		}
		if loc := controls.FindStringIndex(lines); loc != nil || !utf8.ValidString(lines) {
			t.Fatalf("termLines(%q) = %q still carries a control or invalid UTF-8", s, lines)
		}
		if strings.Count(lines, "\n") != strings.Count(s, "\n") {
			t.Fatalf("termLines(%q) = %q changed the line breaks", s, lines)
		}
		if !controls.MatchString(s) && !strings.Contains(s, "\n") && utf8.ValidString(s) && text != s {
			t.Fatalf("termText(%q) = %q changed clean text", s, text)
		}
	})
}

// TestReportColoursOnlyItsOwnStatusWord: with colour on, the status word keeps its escape
// sequence and the workflow's name still has its own escaped.
func TestReportColoursOnlyItsOwnStatusWord(t *testing.T) {
	var b strings.Builder
	res := &engine.Result{Workflow: "name\x1b[2J", Status: engine.StatusDegraded}
	writeReport(&b, res, newStats(), nil, reportOptions{color: true})
	out := b.String()
	if !strings.HasPrefix(out, `name\x1b[2J · seed 0`+"\nStatus: \x1b[1;33mDEGRADED\x1b[0m in 0s\n") {
		t.Fatalf("report:\n%q", out)
	}
	if strings.Count(out, "\x1b") != 2 {
		t.Fatalf("report carries escapes other than the status colour:\n%q", out)
	}
}
