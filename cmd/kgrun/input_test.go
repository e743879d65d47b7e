package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunInput: --input FILE, --input - and --input-json supply the run's input; a wrong
// one stops kgrun before the run with exit 2 and says what is wrong; the report and the
// JSON result carry the output.
func TestRunInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "in.json")
	if err := os.WriteFile(file, []byte(`{"label": "from-file", "mode": "fast"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"testdata/valid/every_key.yaml", "--virtual-time", "--state", "none", "--set", "alternate_dir=" + dir}
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"json", []string{"--input-json", `{"label":"inline"}`}, "", exitOK, "label  \"inline\""},
		{"file", []string{"--input", file}, "", exitOK, "mode   \"fast\""},
		{"stdin", []string{"--input", "-"}, `{"label":"piped"}`, exitOK, "label  \"piped\""},
		{"missing", nil, "", exitUsage, "input: the input: missing property 'label'"},
		{"wrong", []string{"--input-json", `{"label":"Upper","ratio":2}`}, "", exitUsage, "label: 'Upper' does not match pattern '^[a-z-]+$'; ratio: exclusiveMaximum: got 2, want 2; ratio: maximum: got 2, want 1"},
		{"both", []string{"--input", file, "--input-json", "{}"}, "", exitUsage, "not both"},
		{"not json", []string{"--input-json", `{label:`}, "", exitUsage, "--input-json: input is not valid JSON"},
		{"not object", []string{"--input-json", `[1]`}, "", exitUsage, "input must be a JSON object, not a list"},
		{"no file", []string{"--input", filepath.Join(dir, "absent.json")}, "", exitUsage, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin = strings.NewReader(tc.stdin)
			defer func() { stdin = os.Stdin }()
			out, errText, code := kgrun(t, append(append([]string{}, base...), tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, errText)
			}
			if !strings.Contains(out+errText, tc.want) {
				t.Errorf("output does not say %q:\n%s%s", tc.want, out, errText)
			}
		})
	}
	out, _, code := kgrun(t, append(base, "--input-json", `{"label":"x"}`, "--format", "json")...)
	var res struct {
		Output map[string]any `json:"output"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v", code, err)
	}
	if res.Output["label"] != "x" || res.Output["mode"] != "careful" {
		t.Errorf("JSON output %v", res.Output)
	}
	_, errText, code := kgrun(t, "workflows/fault_tolerant.yaml", "--state", "none", "--input-json", `{"a":1}`)
	if code != exitUsage || !strings.Contains(errText, "declares no input") {
		t.Errorf("a workflow without input: exit %d, %s", code, errText)
	}
}

// TestReportOutputGolden: the text report prints the output after the path.
func TestReportOutputGolden(t *testing.T) {
	dir := t.TempDir()
	out, errText, code := kgrun(t, "testdata/valid/every_key.yaml", "--virtual-time", "--state", "none", "--set", "alternate_dir="+dir,
		"--input-json", `{"label":"golden"}`)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errText)
	}
	checkGolden(t, "run_every_key_input.txt", strings.ReplaceAll(out, dir, "$TMP"))
}

// TestTestCaseOutputDiff: a test case whose expected output and shared values differ
// from the run's fails with each difference named.
func TestTestCaseOutputDiff(t *testing.T) {
	src, err := os.ReadFile("../../testdata/valid/every_key.yaml")
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), "output: {label: every-key, mode: careful}", "output: {label: every-key, mode: fast, extra: 1}", 1)
	changed = strings.Replace(changed, "processing_mode: full}", "processing_mode: partial}", 1)
	dir := t.TempDir()
	file := filepath.Join(dir, "every_key.yaml")
	if err := os.WriteFile(file, []byte(strings.Replace(changed, "../../schema", "schema", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	called, err := os.ReadFile("../../testdata/valid/every_key_call.yaml") // its call node's file
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "every_key_call.yaml"), called, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errText, code := kgrun(t, "test", file)
	if code != exitFailed {
		t.Fatalf("exit %d: %s%s", code, out, errText)
	}
	for _, want := range []string{
		`output.extra: missing, want 1 (output has label, mode)`,
		`output.mode: got "careful", want "fast"`,
		`shared.processing_mode: got "full", want "partial"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report does not say %q:\n%s", want, out)
		}
	}
}

// TestShowPrintsOutput: a journaled run's output is kept with the run, so kgrun show
// prints it as the run's own report did, and its JSON carries it.
func TestShowPrintsOutput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	_, errText, code := kgrun(t, "testdata/valid/every_key.yaml", "--virtual-time", "--state", db, "--set", "alternate_dir="+dir,
		"--input-json", `{"label":"kept"}`)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errText)
	}
	out, errText, code := kgrun(t, "show", "1", "--state", db, "--no-trace")
	if code != exitOK || !strings.Contains(out, "Output") || !strings.Contains(out, `label  "kept"`) {
		t.Errorf("kgrun show: exit %d\n%s%s", code, out, errText)
	}
	out, _, _ = kgrun(t, "show", "1", "--state", db, "--format", "json")
	var shown struct {
		Run struct {
			Output map[string]any `json:"output"`
		} `json:"run"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown.Run.Output["label"] != "kept" {
		t.Errorf("kgrun show --format json: %v, output %v", err, shown.Run.Output)
	}
}
