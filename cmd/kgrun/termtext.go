package main

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Text from workflow files, from failing services and from the store reaches the terminal
// through termText: a workflow name, node name or error message carrying an escape
// sequence must not be able to recolour, move the cursor, retitle the window or rewrite
// lines already printed. JSON output needs none of this; encoding/json escapes already.

// termText returns s with every character that could act on a terminal written as a Go
// escape: C0 and C1 controls (ESC, CR, newline and tab included), DEL, the line and
// paragraph separators, the bidirectional overrides, and bytes that are not UTF-8.
// Text without any comes back unchanged, without allocating.
func termText(s string) string { return escapeText(s, false) }

// termLines is termText for text whose line breaks are its structure (a multi-line
// diagnostic detail, a log stream): newlines are kept, everything else is escaped.
func termLines(s string) string { return escapeText(s, true) }

func escapeText(s string, keepNewlines bool) string {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, size) && !(keepNewlines && r == '\n') {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafeRune(r, size) || (keepNewlines && r == '\n'):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether r (decoded from size bytes) must not reach a terminal as is.
func unsafeRune(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size <= 1: // a byte that is not UTF-8
		return true
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f: // C0, DEL, C1 (CSI is U+009B)
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	case r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi controls
		return true
	}
	return false
}

// termWriter escapes everything written through it with termLines: for streams (the text
// log format) whose lines are built elsewhere from messages that may carry any text.
type termWriter struct{ w io.Writer }

func (t termWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, termLines(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// safeArgs escapes the text among fmt arguments (strings, errors, Stringers) with
// termText; a styled value passes as it is, since it is the report's own colouring.
func safeArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case styled:
			out[i] = string(v)
		case string:
			out[i] = termText(v)
		case error:
			out[i] = termText(v.Error())
		case fmt.Stringer:
			out[i] = termText(v.String())
		default:
			if rv := reflect.ValueOf(a); rv.Kind() == reflect.String { // a named string type
				out[i] = termText(rv.String())
			} else {
				out[i] = a
			}
		}
	}
	return out
}

// styled is text kgrun itself decorated for the terminal (a coloured status word).
type styled string
