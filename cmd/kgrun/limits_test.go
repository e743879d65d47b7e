package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileFilesAreRefused feeds files past each decoder limit to validate, run and test
// and expects a diagnostic naming the file and the limit, with exit code 2.
func TestHostileFilesAreRefused(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	header := "version: 1\nname: hostile\nstart: a\n"

	var nested strings.Builder
	nested.WriteString(header + "params:\n  deep: ")
	nested.WriteString(strings.Repeat("[", 200) + strings.Repeat("]", 200))
	nested.WriteString("\nnodes:\n  a: {type: completion}\n")

	var many strings.Builder
	many.WriteString(header + "nodes:\n")
	for i := range 50_001 {
		name := "a"
		if i > 0 {
			name = fmt.Sprintf("n%d", i)
		}
		fmt.Fprintf(&many, "  %s: {type: completion}\n", name)
	}

	guard := "result.total > 0" + strings.Repeat(" && result.total > 0", 300)

	cases := []struct {
		name, path, want string
	}{
		{"size", write("big.yaml", header+strings.Repeat("# padding\n", 900_000)), "more than the limit of 8388608 bytes"},
		{"device", "/dev/zero", "more than the limit of 8388608 bytes"},
		{"aliases", "testdata/invalid/yaml_bomb.yaml", "alias expansions"},
		{"depth", write("deep.yaml", nested.String()), "nesting is deeper than the limit of 64 levels"},
		{"nodes", write("many.yaml", many.String()), "50001 nodes, more than the limit of 50000"},
		{"guard", write("guard.yaml", header+"nodes:\n  a:\n    type: data_collector\n    on:\n      success:\n        - to: b\n          when: "+guard+"\n  b: {type: completion}\n"),
			"more than the limit of 4096"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, cmd := range [][]string{{"validate", c.path}, {c.path, "--virtual-time"}, {"test", c.path}} {
				stdout, stderr, code := kgrun(t, cmd...)
				stderr += stdout // validate prints its findings on stdout
				if code != exitUsage || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, c.path) {
					t.Errorf("kgrun %v: exit %d, stderr %.300q; want exit 2 naming the file and %q", cmd, code, stderr, c.want)
				}
			}
		})
	}
}
