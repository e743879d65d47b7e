package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp asks every command for its help, with each spelling.
func TestEveryCommandHasHelp(t *testing.T) {
	for _, c := range commands() {
		for _, flag := range []string{"--help", "-h", "-help"} {
			stdout, stderr, code := kgrun(t, c.name, flag)
			if code != exitOK || stderr != "" || !strings.Contains(stdout, "Usage:\n  "+c.usage+"\n") {
				t.Errorf("kgrun %s %s: exit %d, stderr %q, stdout:\n%s", c.name, flag, code, stderr, stdout)
			}
		}
	}
	// A file and --help is the run command's help, not a run.
	stdout, _, code := kgrun(t, "workflows/fault_tolerant.yaml", "--help")
	if code != exitOK || !strings.Contains(stdout, "--scenario NAME") || strings.Contains(stdout, "Status:") {
		t.Errorf("kgrun FILE --help: exit %d\n%s", code, stdout)
	}
}

func TestValidateJSONAndStrict(t *testing.T) {
	files := []string{"testdata/invalid/bad_enums.yaml", "testdata/cli/warning.yaml"}
	stdout, stderr, code := kgrun(t, append([]string{"validate", "--format", "json"}, files...)...)
	if code != exitUsage || stderr != "" {
		t.Fatalf("validate --format json: exit %d, stderr %q", code, stderr)
	}
	checkGolden(t, "validate.json", stdout)

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"validate", "testdata/cli/warning.yaml"}, exitOK, "testdata/cli/warning.yaml: ok (1 node, 0 scenarios, 0 tests, 1 warning)\n"},
		{[]string{"validate", "--strict", "testdata/cli/warning.yaml"}, exitUsage, "testdata/cli/warning.yaml: invalid under --strict (0 errors, 1 warning)\n"},
		{[]string{"validate", "testdata/cli/warning.yaml", "--strict", "--format", "json"}, exitUsage, `"ok": false`},
		{[]string{"validate", "--strict", "workflows/fault_tolerant.yaml"}, exitOK, "fault_tolerant.yaml: ok ("},
		{[]string{"validate", "--format", "json", "workflows/fault_tolerant.yaml"}, exitOK, "{\n  \"ok\": true,\n"},
	}
	for _, c := range cases {
		stdout, stderr, code := kgrun(t, c.args...)
		if code != c.code || !strings.Contains(stdout, c.want) {
			t.Errorf("kgrun %v: exit %d (want %d), stderr %q, stdout:\n%s\nwant it to contain %q", c.args, code, c.code, stderr, stdout, c.want)
		}
	}
	if _, stderr, code := kgrun(t, "validate", "--format", "xml", "workflows/fault_tolerant.yaml"); code != exitUsage || !strings.Contains(stderr, "--format takes text or json") {
		t.Errorf("validate --format xml: exit %d, %q", code, stderr)
	}
}

func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/kgrun/kgrun", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-11-01T10:00:00Z"},
			{Key: "vcs.modified", Value: "true"}, {Key: "-buildmode", Value: "exe"}}}
	want := "kgrun v1.4.0\n  module    github.com/kgrun/kgrun\n  revision  0123abcd (modified)\n  time      2026-11-01T10:00:00Z\n  go        go1.26.8\n"
	if got := versionText(bi); got != want {
		t.Errorf("full build info:\n%s\nwant\n%s", got, want)
	}
	bare := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/kgrun/kgrun", Version: "(devel)"}}
	if got := versionText(bare); got != "kgrun (devel)\n  module    github.com/kgrun/kgrun\n  go        go1.26.8\n" {
		t.Errorf("no vcs:\n%s", got)
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		stdout, stderr, code := kgrun(t, args...)
		if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, "kgrun ") || !strings.HasSuffix(stdout, "  go        "+runtime.Version()+"\n") {
			t.Errorf("kgrun %v: exit %d, stderr %q\n%s", args, code, stderr, stdout)
		}
	}
	if _, _, code := kgrun(t, "version", "extra"); code != exitUsage {
		t.Errorf("version extra: exit %d", code)
	}
}
