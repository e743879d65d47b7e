package ionodes

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

func fileWorkflow(root, params string) string {
	return fmt.Sprintf(`
version: 1
name: file-one
start: f
nodes:
  f:
    type: file
    params: {root: %s, %s}
`, strconv.Quote(root), params)
}

func runFile(t *testing.T, root, params string) (*engine.Result, *FileResult) {
	t.Helper()
	res, _ := runReal(t, load(t, fileWorkflow(root, params)), engine.RunOptions{})
	fr, _ := res.Shared["f"].(*FileResult)
	return res, fr
}

func TestFileWriteReadAppend(t *testing.T) {
	root := t.TempDir()
	cases := []struct {
		params string
		file   string // the file's content after the op
		read   any    // the content read, for reads
	}{
		{`op: write, path: out/a.json, format: json, data: {b: [1, 2]}`, "{\n  \"b\": [\n    1,\n    2\n  ]\n}\n", nil},
		{`path: out/a.json, format: json`, "", map[string]any{"b": []any{1.0, 2.0}}},
		{`op: write, path: t.txt, data: "one"`, "one", nil},
		{`op: append, path: t.txt, data: " two"`, "one two", nil},
		{`path: t.txt`, "", "one two"},
		{`op: write, path: l.txt, format: lines, data: [a, 2, c]`, "a\n2\nc\n", nil},
		{`op: append, path: l.txt, format: lines, data: [d]`, "a\n2\nc\nd\n", nil},
		{`path: l.txt, format: lines`, "", []any{"a", "2", "c", "d"}},
	}
	for _, c := range cases {
		res, fr := runFile(t, root, c.params)
		if res.Status != engine.StatusSuccess {
			t.Fatalf("%s: %s %v", c.params, res.Status, res.Failures)
		}
		if c.read != nil {
			if !reflect.DeepEqual(fr.Content, c.read) {
				t.Errorf("%s: read %#v, want %#v", c.params, fr.Content, c.read)
			}
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, fr.Path))
		if err != nil || string(b) != c.file || fr.Bytes == 0 {
			t.Errorf("%s: file %q (%v), bytes %d; want %q", c.params, b, err, fr.Bytes, c.file)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(root, "out"))
	if len(entries) != 1 {
		t.Errorf("a temporary file was left behind: %v", entries)
	}
}

func TestFileStaysInsideRoot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "secret.txt"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(root, "up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		`path: ../secret.txt`:                        "must stay inside root",
		`path: /etc/passwd`:                          "must stay inside root",
		`path: up/secret.txt`:                        "escapes",
		`path: link.txt`:                             "escapes",
		`op: write, path: up/planted.txt, data: "x"`: "escapes",
		`path: missing.txt`:                          "no such file",
	}
	for params, want := range cases {
		res, _ := runFile(t, root, params)
		if len(res.Failures) != 1 || res.Failures[0].Kind != engine.Data || !strings.Contains(res.Failures[0].Error(), want) {
			t.Errorf("%s: failures %v, want one of kind data containing %q", params, res.Failures, want)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "planted.txt")); err == nil {
		t.Error("a write escaped the root through a symlink")
	}
}

func TestFileWritesSharedValue(t *testing.T) {
	root := t.TempDir()
	src := fmt.Sprintf(`
version: 1
name: copy
start: read
nodes:
  read:
    type: file
    params: {root: %q, path: in.json, format: json}
    on: {success: write}
  write:
    type: file
    params: {root: %q, op: write, path: out.json, format: json, from: read.content.items}
`, root, root)
	if err := os.WriteFile(filepath.Join(root, "in.json"), []byte(`{"items": [1, "two"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, _ := runReal(t, load(t, src), engine.RunOptions{})
	b, _ := os.ReadFile(filepath.Join(root, "out.json"))
	if res.Status != engine.StatusSuccess || string(b) != "[\n  1,\n  \"two\"\n]\n" {
		t.Errorf("status %s %v, wrote %q", res.Status, res.Failures, b)
	}
}
