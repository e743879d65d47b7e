package schema

import (
	"strings"
	"testing"
)

// TestParseInput: whole numbers come back as int, others as float64; anything but one
// JSON object is refused with a reason.
func TestParseInput(t *testing.T) {
	m, err := ParseInput([]byte(`{"n": 3, "r": 0.5, "l": [1, 2.5], "o": {"k": 7}}`))
	if err != nil {
		t.Fatal(err)
	}
	if m["n"] != 3 || m["r"] != 0.5 || m["l"].([]any)[0] != 1 || m["o"].(map[string]any)["k"] != 7 {
		t.Errorf("values %#v", m)
	}
	for src, want := range map[string]string{
		`[1]`:       "must be a JSON object, not a list",
		`{} {}`:     "more than one JSON value",
		`{"a":`:     "not valid JSON",
		`"text"`:    "must be a JSON object",
		``:          "not valid JSON",
		`{"a": 1}x`: "more than one JSON value",
	} {
		if _, err := ParseInput([]byte(src)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
}

// TestInputCheck: defaults fill in absent values without overriding given ones, and
// every wrong value is named.
func TestInputCheck(t *testing.T) {
	w, ds := Decode("in.yaml", []byte(`version: 1
name: in
start: a
input:
  properties:
    n: {type: integer, default: 5}
    tags: {type: array, items: {type: string}}
  required: [tags]
nodes:
  a: {type: x}
`))
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	got, err := w.CheckInput(map[string]any{"tags": []any{"a"}})
	if err != nil || got["n"] != 5 {
		t.Fatalf("got %v, %v", got, err)
	}
	got, err = w.CheckInput(map[string]any{"tags": []any{}, "n": 9})
	if err != nil || got["n"] != 9 {
		t.Fatalf("got %v, %v", got, err)
	}
	_, err = w.CheckInput(map[string]any{"tags": []any{1}, "n": "x"})
	if err == nil || !strings.Contains(err.Error(), "n: got string, want integer") || !strings.Contains(err.Error(), "tags.0: got number, want string") {
		t.Errorf("error %v", err)
	}
}

// FuzzParseInput: no input text makes ParseInput or a check against a declaration panic.
func FuzzParseInput(f *testing.F) {
	for _, s := range []string{`{"n": 1}`, `{"a": [1, {"b": 2.5}]}`, `[]`, `{"n": 1e400}`, `{"n": -0}`, `null`} {
		f.Add([]byte(s))
	}
	w, ds := Decode("in.yaml", []byte("version: 1\nname: in\nstart: a\ninput:\n  properties:\n    n: {type: integer, minimum: 0}\nnodes:\n  a: {type: x}\n"))
	if ds.HasErrors() {
		f.Fatal(ds)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseInput(data)
		if err != nil {
			return
		}
		_, _ = w.CheckInput(m)
	})
}
