package engine

import (
	"strings"
	"testing"
)

func TestFingerprint(t *testing.T) {
	base := `
version: 1
name: fp
start: a
nodes:
  a:
    type: echo
    retry: {attempts: 2}
    params: {value: 1}
    on:
      success:
        - {to: b, when: "result.value > 0"}
        - {to: c}
  b: {type: echo, on: {success: c}}
  c: {type: echo}
`
	fp := mustLoad(t, base).Fingerprint()
	cases := []struct {
		name, from, to, diff string
	}{
		{"params and policies keep it", "retry: {attempts: 2}\n    params: {value: 1}", "retry: {attempts: 5}\n    params: {value: 9}", ""},
		{"node order keeps it", "  b: {type: echo, on: {success: c}}\n  c: {type: echo}", "  c: {type: echo}\n  b: {type: echo, on: {success: c}}", ""},
		{"a changed guard", "result.value > 0", "result.value > 1", `no longer has: node a: on success when "result.value > 0" → b`},
		{"a changed target", "- {to: c}", "- {to: b}", "no longer has: node a: on success → c"},
		{"guard order", "        - {to: b, when: \"result.value > 0\"}\n        - {to: c}", "        - {to: c}\n        - {to: b, when: \"result.value > 0\"}", "the order of guarded edges or hooks changed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(base, c.from, c.to, 1)
			if src == base {
				t.Fatal("the edit changed nothing")
			}
			other := mustLoad(t, src).Fingerprint()
			if got := fp.Diff(other); got != c.diff {
				t.Fatalf("diff %q, want %q", got, c.diff)
			}
			if (other.Hash == fp.Hash) != (c.diff == "") {
				t.Fatalf("hash equal %v, diff %q", other.Hash == fp.Hash, c.diff)
			}
		})
	}
}
