package engine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

const envWorkflow = `
version: 1
name: env
start: a
env:
  - API_TOKEN
  - {name: REGION, default: eu, secret: false}
output:
  region: env.REGION
nodes:
  a:
    type: params
    params:
      label: "Bearer ${{ env.API_TOKEN }}"
      value: "${{ env.REGION }}"
      cfg: "${{ len(env) }}"
      plain: "${{ node }}"
    hooks:
      after_exec: [{when: 'env.REGION == "us"', set: {us: 'true'}}]
    on:
      success: [{to: b, when: 'env.API_TOKEN != ""'}]
  b: {type: params, params: {label: b}}
`

func envLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestEnvAllowlist: listed variables reach templates, guards, hooks and output; defaults
// fill in; an unset variable without a default stops the run before it starts; values from secret variables are redacted in the params events.
func TestEnvAllowlist(t *testing.T) {
	g, ds := Load("t.yaml", []byte(strings.TrimLeft(envWorkflow, "\n")), paramsRegistry(t))
	if g == nil {
		t.Fatal(ds)
	}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		region string
		us     bool
	}{
		{"default", map[string]string{"API_TOKEN": "tok-123"}, "eu", false},
		{"set", map[string]string{"API_TOKEN": "tok-123", "REGION": "us", "HOME": "/x"}, "us", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &Recorder{}
			res, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch), Tracer: rec, Env: envLookup(tc.env)})
			if err != nil || res.Status != StatusSuccess {
				t.Fatalf("%v %v %v", err, res.Status, res.Err)
			}
			if got := pathString(res); !strings.Contains(got, "b") {
				t.Errorf("path %s: the guard on env.API_TOKEN did not hold", got)
			}
			exec := res.Shared["exec_a"].(map[string]any)
			if exec["label"] != "Bearer tok-123" || exec["value"] != tc.region || exec["cfg"] != 2 {
				t.Errorf("exec saw %v", exec)
			}
			if _, us := res.Shared["us"]; us != tc.us {
				t.Errorf("hook on env.REGION: set us %v, want %v", us, tc.us)
			}
			if res.Output["region"] != tc.region {
				t.Errorf("output %v", res.Output)
			}
			ev := eventsOf(rec.Events(), EventParams)
			want := map[string]any{"label": RedactedValue, "value": tc.region, "cfg": RedactedValue, "plain": "a"}
			if b, w := mustJSON(ev[0].Params), mustJSON(want); b != w {
				t.Errorf("params event %s, want %s", b, w)
			}
			if strings.Contains(mustJSON(rec.Events()), "tok-123") {
				t.Error("the trace shows the token")
			}
		})
	}
	if _, err := g.Run(context.Background(), RunOptions{Clock: NewVirtualClock(Epoch), Env: envLookup(nil)}); err == nil ||
		!strings.Contains(err.Error(), "t.yaml:5:5: API_TOKEN is not set") {
		t.Errorf("unset variable without default: %v", err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestEnvLoadErrors: an unlisted name is a load error where it is used, with a
// suggestion from the listed names; bad env entries are refused where written.
func TestEnvLoadErrors(t *testing.T) {
	for _, c := range []struct{ env, use, want string }{
		{"[API_TOKEN]", `"${{ env.API_TOKN }}"`, "t.yaml:6:42: error: node \"a\": params.x: unknown field API_TOKN\n    did you mean \"API_TOKEN\"?"},
		{"[API_TOKEN]", `"${{ env.HOME }}"`, "unknown field HOME\n    list HOME under the workflow's env: key to read it"},
		{"", `"${{ env.HOME }}"`, "unknown field HOME\n    list HOME under the workflow's env: key"},
		{"[A, B, A]", `x`, "t.yaml:4:13: error: \"A\" is listed twice in env\n    the first is at 4:7"},
		{"[1A]", `x`, "t.yaml:4:7: error: env[0] must be an environment variable name"},
		{"[{name: A, secret: maybe}]", `x`, "env[0].secret must be true or false"},
		{"[{name: A, defualt: x}]", `x`, `did you mean "default"?`},
		{"API_TOKEN", `x`, "t.yaml:4:6: error: env must be a list of variable names"},
	} {
		env := ""
		if c.env != "" {
			env = "env: " + c.env + "\n"
		}
		src := "version: 1\nname: t\nstart: a\n" + env + "nodes:\n  a: {type: params, params: {x: " + c.use + "}}\n"
		if c.env == "" {
			src = "version: 1\nname: t\nstart: a\n\nnodes:\n  a: {type: params, params: {x: " + c.use + "}}\n"
		}
		_, ds := Load("t.yaml", []byte(src), paramsRegistry(t))
		if !strings.Contains(ds.Error(), c.want) {
			t.Errorf("env %s, x %s:\n%s\nwant %q", c.env, c.use, ds.Error(), c.want)
		}
	}
}

// TestReadsSecretEnv: which template expressions count as reading a secret variable.
func TestReadsSecretEnv(t *testing.T) {
	secret := map[string]bool{"TOKEN": true, "REGION": false}
	for src, want := range map[string]bool{
		`env.TOKEN`:                     true,
		`env["TOKEN"]`:                  true,
		`env.REGION`:                    false,
		`env.REGION + node`:             false,
		`env[node]`:                     true,
		`toJSON(env)`:                   true,
		`shared.env`:                    false,
		`"env.TOKEN"`:                   false,
		`upper(env.REGION) + env.TOKEN`: true,
	} {
		if got := readsSecretEnv(src, secret); got != want {
			t.Errorf("%s: %v, want %v", src, got, want)
		}
	}
	if readsSecretEnv(`env.REGION`, nil) {
		t.Error("no variables: nothing is secret")
	}
}

// FuzzReadsSecretEnv: any expression text gives an answer, never a panic, and a text that
// names a secret variable through env. is always counted as reading it.
func FuzzReadsSecretEnv(f *testing.F) {
	for _, s := range []string{`env.TOKEN`, `env["TOKEN"]`, `env.REGION`, `toJSON(env)`, `env[node]`, `let env = 1; env`, `env.`, `((`} {
		f.Add(s)
	}
	secret := map[string]bool{"TOKEN": true, "REGION": false}
	f.Fuzz(func(t *testing.T, src string) {
		got := readsSecretEnv(src, secret)
		if strings.TrimSpace(src) == "env.TOKEN" && !got {
			t.Errorf("%q reads TOKEN", src)
		}
	})
}
