package ionodes

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kgrun/kgrun/engine"
)

const transformWorkflow = `version: 1
name: shape
start: shape
input:
  properties:
    items: {type: array}
    factor: {type: integer, default: 2}
output:
  ids: shared.shape.ids
  scaled: shared.scaled
nodes:
  shape:
    type: transform
    params:
      values:
        ids: "${{ map(input.items, {#.id}) }}"
        count: "${{ len(input.items) }}"
        label: "batch of ${{ len(input.items) }}"
      set:
        scaled: "${{ map(input.items, {#.n * input.factor}) }}"
    on:
      success:
        - {to: many, when: 'result.count > 2'}
        - {to: few}
  many: {type: transform, params: {values: {size: many}}}
  few: {type: transform, params: {set: {size: few}}}
`

// TestTransform: values become the result, read by guards and stored under the node's
// name; set writes into the shared store; nothing else happens.
func TestTransform(t *testing.T) {
	g := load(t, transformWorkflow)
	for _, tc := range []struct {
		items  string
		path   string
		output string
		size   string
	}{
		{`[{"id":"a","n":1},{"id":"b","n":2}]`, "shape few", `{"ids":["a","b"],"scaled":[2,4]}`, "few"},
		{`[{"id":"a","n":1},{"id":"b","n":2},{"id":"c","n":5}]`, "shape many", `{"ids":["a","b","c"],"scaled":[2,4,10]}`, ""},
	} {
		var items []any
		if err := json.Unmarshal([]byte(tc.items), &items); err != nil {
			t.Fatal(err)
		}
		res, _ := runReal(t, g, engine.RunOptions{Input: map[string]any{"items": items}})
		if res.Status != engine.StatusSuccess {
			t.Fatalf("status %s: %v", res.Status, res.Err)
		}
		if got := strings.Join(res.PathNodes(), " "); got != tc.path {
			t.Errorf("path %q, want %q", got, tc.path)
		}
		if b, _ := json.Marshal(res.Output); string(b) != tc.output {
			t.Errorf("output %s, want %s", b, tc.output)
		}
		if shape, _ := res.Shared["shape"].(map[string]any); shape["label"] != fmt.Sprintf("batch of %d", len(items)) {
			t.Errorf("label %v", shape["label"])
		}
		if size, _ := res.Shared["size"].(string); size != tc.size {
			t.Errorf("shared size %q, want %q", size, tc.size)
		}
		if res.Calls["shape"] != 1 {
			t.Errorf("calls %v", res.Calls)
		}
	}
}

// TestTransformFailure: a value that cannot be computed fails the visit, once, with the
// expression's position; it is not retried.
func TestTransformFailure(t *testing.T) {
	g := load(t, `version: 1
name: fails
start: shape
nodes:
  shape:
    type: transform
    params: {values: {n: "${{ shared.missing.deeper }}"}}
`)
	res, _ := runReal(t, g, engine.RunOptions{})
	if res.Status != engine.StatusFailed || res.Path[0].Attempts > 1 {
		t.Fatalf("status %s, attempts %d", res.Status, res.Path[0].Attempts)
	}
	if msg := res.Err.Error(); !strings.Contains(msg, "test.yaml:7:46") || !strings.Contains(msg, "params.values.n") {
		t.Errorf("error %q does not name the expression", msg)
	}
}

// TestTransformRetryIsLoadError: retry on a transform is refused at load, at its position.
func TestTransformRetryIsLoadError(t *testing.T) {
	ds := loadDiags(t, `version: 1
name: retried
start: shape
nodes:
  shape:
    type: transform
    params: {values: {n: 1}}
    retry: {attempts: 3, delay: 1s}
`)
	if got := ds.Error(); !strings.Contains(got, "test.yaml:8:12: error: node \"shape\": type transform is never retried") {
		t.Errorf("diagnostics %s", got)
	}
}
