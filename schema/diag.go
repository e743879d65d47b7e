package schema

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a workflow file. Line and Col are 1-based; a zero Line means the
// position is unknown (for example, for an option set on the command line).
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String formats the position as file:line:col, leaving out the parts that are unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0 && p.File == "":
		return "-"
	case p.Line == 0:
		return p.File
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Before reports whether p sorts before q (by file, line, then column).
func (p Pos) Before(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// Severity says whether a diagnostic stops the workflow from loading.
type Severity int

const (
	// Error diagnostics make the file unusable.
	Error Severity = iota
	// Warning diagnostics point at something that is probably a mistake but can run.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem found in a workflow file.
type Diagnostic struct {
	Severity Severity
	Pos      Pos
	// Summary says what is wrong, in one line.
	Summary string
	// Detail says what to do about it; it may be empty.
	Detail string
}

// String renders the diagnostic as "file:line:col: severity: summary", followed by the
// detail on an indented line when there is one.
func (d Diagnostic) String() string {
	s := fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Summary)
	if d.Detail != "" {
		s += "\n    " + strings.ReplaceAll(d.Detail, "\n", "\n    ")
	}
	return s
}

// Diagnostics is a list of problems, usually all those found in one file.
type Diagnostics []Diagnostic

// Errorf appends an error diagnostic.
func (ds *Diagnostics) Errorf(pos Pos, detail, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Error, Pos: pos, Summary: fmt.Sprintf(format, args...), Detail: detail})
}

// Warnf appends a warning diagnostic.
func (ds *Diagnostics) Warnf(pos Pos, detail, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Warning, Pos: pos, Summary: fmt.Sprintf(format, args...), Detail: detail})
}

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the error diagnostics.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == Error {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders the diagnostics by position, then severity, then text, and drops exact
// duplicates, so output is stable whatever order the checks ran in.
func (ds Diagnostics) Sort() Diagnostics {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.Pos != b.Pos {
			return a.Pos.Before(b.Pos)
		}
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		return a.Summary < b.Summary
	})
	out := ds[:0]
	for i, d := range ds {
		if i > 0 && d == ds[i-1] {
			continue
		}
		out = append(out, d)
	}
	return out
}

// Error implements error so that a list of diagnostics can be returned as one error.
func (ds Diagnostics) Error() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// Err returns the diagnostics as an error when there is at least one error among them,
// and nil otherwise (warnings alone do not fail a load).
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}
