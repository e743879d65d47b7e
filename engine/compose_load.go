package engine

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kgrun/kgrun/schema"
)

// loader finds, decodes and compiles the files that workflow nodes call, once each per
// load, and refuses a file that calls itself through any chain of calls.
type loader struct {
	graphs map[string]*Graph // compiled callees by absolute path (nil: had errors)
	// stack holds the files being compiled, outermost first, for cycles.
	stack []string
}

func newLoader(file string) *loader {
	l := &loader{graphs: map[string]*Graph{}}
	if file != "" {
		if abs, err := filepath.Abs(file); err == nil {
			l.stack = []string{abs}
		}
	}
	return l
}

// load compiles the file call names, relative to the file from, reporting problems at
// the call and, for errors inside the called file, at their own file:line:col.
func (l *loader) load(from string, call *schema.Call, what string, reg *Registry, ds *schema.Diagnostics) *Graph {
	path := call.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(from), path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		ds.Errorf(call.PathPos, "", "%s: workflow %q: %v", what, call.Path, err)
		return nil
	}
	if i := slices.Index(l.stack, abs); i >= 0 {
		chain := make([]string, 0, len(l.stack)-i+1)
		for _, f := range l.stack[i:] {
			chain = append(chain, filepath.Base(f))
		}
		chain = append(chain, filepath.Base(abs))
		ds.Errorf(call.PathPos, "a workflow cannot call itself, directly or through others: break the cycle",
			"%s: workflow %q calls back into itself: %s", what, call.Path, strings.Join(chain, " → "))
		return nil
	}
	if g, done := l.graphs[abs]; done {
		if g == nil {
			ds.Errorf(call.PathPos, "fix the errors reported in that file", "%s: the called workflow %s has errors", what, path)
		}
		return g
	}
	data, rds := schema.ReadFile(path, schema.DefaultLimits)
	if rds.HasErrors() {
		// Reported at the call, which has a position; the file's own message has none.
		l.graphs[abs] = nil
		ds.Errorf(call.PathPos, "the path is relative to the file that names it", "%s: %s", what, rds.Errors()[0].Summary)
		return nil
	}
	w, wds := schema.Decode(path, data)
	*ds = append(*ds, wds...)
	if w == nil || wds.HasErrors() {
		l.graphs[abs] = nil
		ds.Errorf(call.PathPos, "fix the errors reported in that file", "%s: the called workflow %s has errors", what, path)
		return nil
	}
	l.stack = append(l.stack, abs)
	g, cds := compile(w, reg, compileContext{loader: l})
	l.stack = l.stack[:len(l.stack)-1]
	*ds = append(*ds, cds...)
	l.graphs[abs] = g
	if g == nil {
		ds.Errorf(call.PathPos, "fix the errors reported in that file", "%s: the called workflow %s has errors", what, path)
		return nil
	}
	if err := checkCallInput(w, call); err != nil {
		ds.Errorf(call.Pos, "give input: the keys the called workflow's input declares", "%s: %v", what, err)
	}
	return g
}

// checkCallInput checks, at load, what it can of a call's input: the keys written out
// against the called workflow's declaration. Values computed by ${{ }} are checked when
// the node runs.
func checkCallInput(w *schema.Workflow, call *schema.Call) error {
	if w.Input == nil {
		if len(call.Input) > 0 {
			return fmt.Errorf("the called workflow %s declares no input, but input: gives %d keys", w.Name, len(call.Input))
		}
		return nil
	}
	if len(call.Templates) > 0 {
		return nil
	}
	_, err := w.CheckInput(call.Input)
	return err
}
