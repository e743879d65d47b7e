package ionodes

import (
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kgrun/kgrun/engine"
)

// FuzzPrep reads arbitrary params (as YAML) into each I/O type's call: bad params must be
// errors of kind data, never panics. (Load checks the declared types first; this covers
// values that reach a node from the run's params, which load cannot see.)
func FuzzPrep(f *testing.F) {
	for _, s := range []string{
		`{url: "http://h/x", method: post, query: {a: 1}, headers: {A: b}, body: {x: [1]}, expect_status: ["2xx", 404, "abc"], max_response_bytes: -1}`,
		`{url: "ftp://x", expect_status: 3.5}`, `{argv: [sh, -c, "exit 1"], exit_codes: {1: data, 300: x, a: b}, kill_grace: "-1s", output: yaml}`,
		`{argv: [], env: {A: [1]}}`, `{op: write, root: /tmp, path: ../x, format: csv}`, `{op: 3}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var params map[string]any
		if yaml.Unmarshal([]byte(src), &params) != nil {
			return
		}
		get := func(k string) (any, bool) { v, ok := params[k]; return v, ok }
		_, e1 := prepHTTP(get)
		_, e2 := prepCommand(get)
		_, e3 := prepFile(get)
		for _, err := range []error{e1, e2, e3} {
			if err != nil && engine.KindOf(err) != engine.Data {
				t.Fatalf("%v: kind %s, want data", err, engine.KindOf(err))
			}
		}
	})
}
