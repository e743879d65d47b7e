package engine

import (
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
