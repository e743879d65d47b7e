package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"

	"github.com/kgrun/kgrun/schema"
)

// A Bundle is a workflow file with every file it calls, in memory: what another process
// needs to compile exactly the same graph (a worker of another backend), whatever its
// own disk holds.
type Bundle struct {
	// File is the workflow's file name, a key of Files.
	File string `json:"file"`
	// Files holds each file's content by its path as the loader names it: the main
	// file's name, and a called file's path joined to its caller's directory.
	Files map[string][]byte `json:"files"`
}

// Hash identifies the bundle's content: the same files with the same bytes always give
// the same hash.
func (b *Bundle) Hash() string {
	h := sha256.New()
	names := make([]string, 0, len(b.Files))
	for name := range b.Files {
		names = append(names, name)
	}
	slices.Sort(names)
	h.Write([]byte(b.File))
	h.Write([]byte{0})
	for _, name := range names {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write(b.Files[name])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Bundle returns the graph's bundle: its file and the files it calls, as they were read
// when it was loaded. It is empty for a graph compiled from a decoded workflow alone
// (Compile) rather than loaded from bytes (Load, LoadFile, LoadBundle).
func (g *Graph) Bundle() Bundle {
	return g.bundle
}

// LoadBundle decodes and compiles a bundle's workflow, reading the files it calls from
// the bundle only.
func LoadBundle(b Bundle, reg *Registry) (*Graph, schema.Diagnostics) {
	data, ok := b.Files[b.File]
	if !ok {
		var ds schema.Diagnostics
		ds.Errorf(schema.Pos{File: b.File}, "", "%s is not in the workflow's bundle of files", b.File)
		return nil, ds
	}
	w, ds := schema.Decode(b.File, data)
	if w == nil {
		return nil, ds
	}
	l := newLoader("")
	l.bundle = &b
	l.stack = []string{filepath.ToSlash(filepath.Clean(b.File))}
	g, cds := compile(w, reg, compileContext{loader: l})
	ds = append(ds, cds...).Sort()
	if ds.HasErrors() {
		return nil, ds
	}
	g.warnings = ds
	g.bundle = b
	return g, ds
}
