package ionodes

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/kgrun/kgrun/engine"
)

// MaxFileRead bounds the files a file node reads.
const MaxFileRead = 64 << 20

// FileResult is what a file node's Exec returns and its Post stores under the node's name
// in the shared store.
type FileResult struct {
	Op   string `json:"op" expr:"op"`
	Path string `json:"path" expr:"path"`
	// Bytes counts the bytes read or written.
	Bytes int `json:"bytes" expr:"bytes"`
	// Content is what was read: a decoded value (json), the text (text) or a list of
	// lines (lines). Empty for writes.
	Content any `json:"content,omitempty" expr:"content"`
}

var fileParams = []engine.Param{
	{Name: "op", Type: engine.ParamString, Default: "read", Allowed: []any{"read", "write", "append"}, Doc: "read the file, replace it atomically, or append to it"},
	{Name: "root", Type: engine.ParamString, Required: true, Doc: "the directory the path must stay inside (no .., no symlink out of it)"},
	{Name: "path", Type: engine.ParamString, Required: true, Doc: "the file, relative to root"},
	{Name: "format", Type: engine.ParamString, Default: "text", Allowed: []any{"json", "text", "lines"}, Doc: "how content is decoded or encoded"},
	{Name: "data", Type: engine.ParamAny, Doc: "what write and append write"},
	{Name: "from", Type: engine.ParamString, Doc: "write the shared value at this dotted path instead of data (fetch.body)"},
}

func fileType() engine.NodeType {
	return engine.NodeType{
		Name:    "file",
		Doc:     "reads, atomically writes or appends a file inside a declared root",
		Actions: []string{"success"},
		Result:  FileResult{},
		Input:   (*fileCall)(nil),
		Params:  fileParams,
		New:     func(engine.NodeSpec) (engine.Node, error) { return fileNode{}, nil },
	}
}

type fileNode struct{}

type fileCall struct {
	op, root, path, format string
	data                   []byte // encoded, for write and append
}

func (fileNode) Prep(v *engine.Visit) (any, error) {
	c, err := prepFile(v.Param)
	if err != nil || c.op == "read" {
		return c, err
	}
	val, _ := v.Param("data")
	from, err := str(v.Param, "from", "")
	if err != nil {
		return nil, err
	}
	if from != "" {
		if val, err = lookupShared(v.Shared(), from); err != nil {
			return nil, err
		}
	}
	if c.data, err = encode(c.format, val); err != nil {
		return nil, err
	}
	return c, nil
}

func prepFile(get getter) (*fileCall, error) {
	c := &fileCall{}
	var err error
	if c.op, err = str(get, "op", "read"); err != nil {
		return nil, err
	}
	if c.op != "read" && c.op != "write" && c.op != "append" {
		return nil, paramErr("param op must be read, write or append, not %q", c.op)
	}
	if c.format, err = str(get, "format", "text"); err != nil {
		return nil, err
	}
	if c.format != "json" && c.format != "text" && c.format != "lines" {
		return nil, paramErr("param format must be json, text or lines, not %q", c.format)
	}
	if c.root, err = str(get, "root", ""); err != nil {
		return nil, err
	}
	if c.path, err = str(get, "path", ""); err != nil {
		return nil, err
	}
	if c.root == "" || c.path == "" {
		return nil, paramErr("params root and path are required")
	}
	if !filepath.IsLocal(c.path) {
		return nil, paramErr("path %q must stay inside root %q: a relative path without ..", c.path, c.root)
	}
	return c, nil
}

// lookupShared follows a dotted path through the shared store: "fetch.body.items".
// Go values (a node's result struct) are walked through their JSON form.
func lookupShared(shared map[string]any, dotted string) (any, error) {
	keys := strings.Split(dotted, ".")
	cur, ok := shared[keys[0]]
	if !ok {
		return nil, paramErr("param from: the shared store has no %q", keys[0])
	}
	for i, k := range keys[1:] {
		m, isMap := cur.(map[string]any)
		if !isMap {
			raw, err := json.Marshal(cur)
			if err == nil {
				err = json.Unmarshal(raw, &m)
			}
			if err != nil {
				return nil, paramErr("param from: %s is not a mapping", strings.Join(keys[:i+1], "."))
			}
		}
		if cur, ok = m[k]; !ok {
			return nil, paramErr("param from: %s has no %q", strings.Join(keys[:i+1], "."), k)
		}
	}
	return cur, nil
}

func encode(format string, v any) ([]byte, error) {
	switch format {
	case "json":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return nil, paramErr("the data cannot be written as JSON: %v", err)
		}
		return append(b, '\n'), nil
	case "lines":
		list, ok := v.([]any)
		if !ok {
			return nil, paramErr("format lines writes a list, not %T", v)
		}
		var b bytes.Buffer
		for _, x := range list {
			fmt.Fprintln(&b, x)
		}
		return b.Bytes(), nil
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(x), nil
	default:
		return nil, paramErr("format text writes a string, not %T (use format json)", v)
	}
}

func decode(format string, data []byte) (any, error) {
	switch format {
	case "json":
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		return v, nil
	case "lines":
		text := strings.TrimSuffix(string(data), "\n")
		lines := []any{}
		if text != "" {
			for _, l := range strings.Split(text, "\n") {
				lines = append(lines, strings.TrimSuffix(l, "\r"))
			}
		}
		return lines, nil
	}
	return string(data), nil
}

func (fileNode) Exec(ctx context.Context, _ *engine.Attempt, in any) (any, error) {
	c := in.(*fileCall)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.op != "read" {
		if err := os.MkdirAll(c.root, 0o755); err != nil {
			return nil, fileErr(c, "create the root", err)
		}
	}
	root, err := os.OpenRoot(c.root)
	if err != nil {
		return nil, fileErr(c, "open root", err)
	}
	defer root.Close()
	switch c.op {
	case "read":
		return readFile(root, c)
	case "append":
		return appendFile(root, c)
	}
	return writeFile(root, c)
}

func readFile(root *os.Root, c *fileCall) (*FileResult, error) {
	f, err := root.Open(c.path)
	if err != nil {
		return nil, fileErr(c, "open", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileRead+1))
	if err != nil {
		return nil, fileErr(c, "read", err)
	}
	if len(data) > MaxFileRead {
		return nil, engine.Errorf(engine.Data, "read %s: longer than %d bytes", c.path, MaxFileRead)
	}
	v, err := decode(c.format, data)
	if err != nil {
		return nil, engine.Errorf(engine.Data, "read %s as %s: %v", c.path, c.format, err)
	}
	return &FileResult{Op: c.op, Path: c.path, Bytes: len(data), Content: v}, nil
}

// writeFile replaces the file atomically: a temporary file beside it is written and
// synced, then renamed over it, and the directory is synced so the rename lasts.
func writeFile(root *os.Root, c *fileCall) (*FileResult, error) {
	dir := path.Dir(filepath.ToSlash(c.path))
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return nil, fileErr(c, "create the directory", err)
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	tmp := path.Join(dir, "."+path.Base(filepath.ToSlash(c.path))+".tmp-"+hex.EncodeToString(suffix[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fileErr(c, "create a temporary file", err)
	}
	_, err = f.Write(c.data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, c.path)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return nil, fileErr(c, "write", err)
	}
	if d, err := root.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return &FileResult{Op: c.op, Path: c.path, Bytes: len(c.data)}, nil
}

func appendFile(root *os.Root, c *fileCall) (*FileResult, error) {
	if dir := path.Dir(filepath.ToSlash(c.path)); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return nil, fileErr(c, "create the directory", err)
		}
	}
	f, err := root.OpenFile(c.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fileErr(c, "open", err)
	}
	_, err = f.Write(c.data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fileErr(c, "append", err)
	}
	return &FileResult{Op: c.op, Path: c.path, Bytes: len(c.data)}, nil
}

// fileErr classifies a file system error: a path that escapes the root, a missing file
// or a permission problem is data (retrying cannot help); anything else is resource.
func fileErr(c *fileCall, what string, err error) error {
	kind := engine.Resource
	switch {
	case strings.Contains(err.Error(), "escapes from parent"), errors.Is(err, fs.ErrNotExist),
		errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrExist):
		kind = engine.Data
	}
	return engine.WithKind(kind, fmt.Errorf("%s %s in %s: %w", what, c.path, c.root, err))
}

func (fileNode) Post(v *engine.Visit, _, out any) (string, error) {
	v.Set(v.Node(), out)
	return "success", nil
}
