package engine

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Loads on many goroutines share the pooled expr configurations; each must still get
// its own diagnostics and working guards (run under -race).
func TestExprConfigsAreSharedSafely(t *testing.T) {
	good := generated(50)
	bad := []byte("version: 1\nname: bad\nstart: a\nnodes:\n  a:\n    type: count\n    on: {next: {to: b, when: 'result.nope > 0'}}\n  b: {type: noop}\n")
	reg := benchRegistry(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%2 == 0 {
				if g, ds := Load("gen.yaml", good, reg); g == nil {
					t.Errorf("good workflow refused: %v", ds)
				}
				return
			}
			if g, ds := Load("bad.yaml", bad, reg); g != nil || !ds.HasErrors() {
				t.Errorf("bad guard accepted: %v", ds)
			} else if !strings.Contains(ds.Error(), "nope") {
				t.Errorf("diagnostic does not name the field: %v", ds)
			}
		}(i)
	}
	wg.Wait()
}

// TestExprConfigsKeepEachWorkflowsEnv: workflows whose env allowlists differ never share
// a checked configuration, so each sees its own names whatever loaded before it (a
// shared one made env.B_TOKEN "unknown" after a workflow listing A_TOKEN).
func TestExprConfigsKeepEachWorkflowsEnv(t *testing.T) {
	reg := benchRegistry(t)
	for _, name := range []string{"A_TOKEN", "B_TOKEN", "A_TOKEN"} {
		for _, where := range []string{
			"on: {next: {to: b, when: \"env.%s != ''\"}}",
			"hooks: {before_prep: [{assert: \"env.%s != ''\"}]}\n    on: {next: b}",
		} {
			src := fmt.Sprintf("version: 1\nname: env\nstart: a\nenv: [%s]\nnodes:\n  a:\n    type: count\n    %s\n  b: {type: noop}\n",
				name, fmt.Sprintf(where, name))
			if g, ds := Load("env.yaml", []byte(src), reg); g == nil {
				t.Errorf("env [%s] refused its own name:\n%s\n%v", name, src, ds)
			}
			other := map[string]string{"A_TOKEN": "B_TOKEN", "B_TOKEN": "A_TOKEN"}[name]
			src = strings.Replace(src, "env."+name, "env."+other, 1)
			if g, ds := Load("env.yaml", []byte(src), reg); g != nil || !strings.Contains(ds.Error(), other) {
				t.Errorf("env [%s] accepted env.%s: %v", name, other, ds)
			}
		}
	}
}
