package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/kgrun/kgrun/engine"
	"github.com/kgrun/kgrun/schema"
)

// validateFlags are the flags of "kgrun validate".
type validateFlags struct {
	format string
	strict bool
}

func newValidateFlags() (*flag.FlagSet, *validateFlags) {
	f := &validateFlags{}
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.StringVar(&f.format, "format", "text", "output `text` or json (one document of diagnostics, for CI and editors)")
	fs.BoolVar(&f.strict, "strict", false, "fail on warnings too (exit 2)")
	return fs, f
}

// validateCommand loads each file and prints every diagnostic, then one line per file.
// It exits 2 when any file has an error, or a warning under --strict.
func validateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, f := newValidateFlags()
	pos, code, ok := parseCommand(ctx, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return usageError(stderr, "validate", fmt.Errorf("name at least one workflow file"))
	}
	if f.format != "text" && f.format != "json" {
		return usageError(stderr, "validate", fmt.Errorf("--format takes text or json, not %q", f.format))
	}
	code = exitOK
	report := validateReport{Files: []validatedFile{}}
	for _, file := range pos {
		g, diags := loadQuiet(file)
		v := validatedFile{File: file, Errors: len(diags.Errors()), Diagnostics: []jsonDiagnostic{}}
		v.Warnings = len(diags) - v.Errors
		v.OK = g != nil && (!f.strict || v.Warnings == 0)
		if !v.OK {
			code = exitUsage
		}
		for _, d := range diags {
			v.Diagnostics = append(v.Diagnostics, newJSONDiagnostic(d))
		}
		report.Files = append(report.Files, v)
		if f.format == "json" {
			continue
		}
		writeDiagnostics(stdout, diags)
		counts := fmt.Sprintf("%s, %s", plural(v.Errors, "error"), plural(v.Warnings, "warning"))
		switch {
		case g == nil:
			fmt.Fprintf(stdout, "%s: invalid (%s)\n", termText(file), counts)
		case !v.OK:
			fmt.Fprintf(stdout, "%s: invalid under --strict (%s)\n", termText(file), counts)
		default:
			fmt.Fprintf(stdout, "%s: ok (%s, %s, %s, %s)\n", termText(file), plural(len(g.Spec().Nodes), "node"),
				plural(len(g.Spec().Scenarios), "scenario"), plural(len(g.Spec().Tests), "test"), plural(v.Warnings, "warning"))
		}
	}
	if f.format == "json" {
		report.OK = code == exitOK
		writeJSON(stdout, report)
	}
	return code
}

// validateReport is validate's JSON output, for CI and editors.
type validateReport struct {
	// OK is false when any file has an error (or, under --strict, a warning).
	OK    bool            `json:"ok"`
	Files []validatedFile `json:"files"`
}

type validatedFile struct {
	File        string           `json:"file"`
	OK          bool             `json:"ok"`
	Errors      int              `json:"errors"`
	Warnings    int              `json:"warnings"`
	Diagnostics []jsonDiagnostic `json:"diagnostics"`
}

// jsonDiagnostic is one schema.Diagnostic as editors want it: a position (line and
// column 1-based, 0 when unknown), a severity, the message and what to do about it.
type jsonDiagnostic struct {
	File       string `json:"file"`
	Line       int    `json:"line"`
	Column     int    `json:"column"`
	Severity   string `json:"severity"`
	Message    string `json:"message"`
	Suggestion string `json:"suggestion,omitempty"`
}

func newJSONDiagnostic(d schema.Diagnostic) jsonDiagnostic {
	return jsonDiagnostic{File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col, Severity: d.Severity.String(),
		Message: d.Summary, Suggestion: d.Detail}
}

// writeDiagnostics prints diagnostics as schema.Diagnostic.String does, with the text
// from the file escaped for the terminal (a detail keeps its line breaks).
func writeDiagnostics(w io.Writer, ds schema.Diagnostics) {
	for _, d := range ds {
		line := fmt.Sprintf("%s: %s: %s", termText(d.Pos.String()), d.Severity, termText(d.Summary))
		if d.Detail != "" {
			line += "\n    " + strings.ReplaceAll(termLines(d.Detail), "\n", "\n    ")
		}
		fmt.Fprintln(w, line)
	}
}

func loadQuiet(file string) (*engine.Graph, schema.Diagnostics) {
	return engine.LoadFile(file, newRegistry(nil))
}
