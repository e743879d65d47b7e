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
	// bundle, when set, is where called files are read from instead of the disk, by
	// their path joined to the caller's directory; read collects what was read.
	bundle *Bundle
	read   map[string][]byte
}

func newLoader(file string) *loader {
	l := &loader{graphs: map[string]*Graph{}, read: map[string][]byte{}}
	if file != "" {
		if abs, err := filepath.Abs(file); err == nil {
			l.stack = []string{abs}
		}
	}
	return l
}

// key is how the loader names a file: its absolute path on disk, its cleaned path in a
// bundle (so that a bundle means the same on any machine).
func (l *loader) key(path string) (string, error) {
	if l.bundle != nil {
		return filepath.ToSlash(filepath.Clean(path)), nil
	}
	return filepath.Abs(path)
}

// readFile reads a called file, from the bundle when there is one.
func (l *loader) readFile(path, key string) ([]byte, schema.Diagnostics) {
	if l.bundle == nil {
		data, ds := schema.ReadFile(path, schema.DefaultLimits)
		if !ds.HasErrors() {
			l.read[filepath.ToSlash(filepath.Clean(path))] = data
		}
		return data, ds
	}
	data, ok := l.bundle.Files[key]
	if !ok {
		var ds schema.Diagnostics
		ds.Errorf(schema.Pos{File: path}, "", "%s is not in the workflow's bundle of files", path)
		return nil, ds
	}
	return data, nil
}

// load compiles the file call names, relative to the file from, reporting problems at
// the call and, for errors inside the called file, at their own file:line:col.
func (l *loader) load(from string, call *schema.Call, what string, reg *Registry, ds *schema.Diagnostics) *Graph {
	path := call.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(from), path)
	}
	abs, err := l.key(path)
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
	data, rds := l.readFile(path, abs)
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
