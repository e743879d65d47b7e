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

// fileCall is exported field by field so a backend can carry it as JSON.
type fileCall struct {
	Op     string `json:"op"`
	Root   string `json:"root"`
	Path   string `json:"path"`
	Format string `json:"format"`
	// Data is what write and append write, already encoded.
	Data []byte `json:"data"`
}

func (fileNode) Prep(v *engine.Visit) (any, error) {
	c, err := prepFile(v.Param)
	if err != nil || c.Op == "read" {
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
	if c.Data, err = encode(c.Format, val); err != nil {
		return nil, err
	}
	return c, nil
}

func prepFile(get getter) (*fileCall, error) {
	c := &fileCall{}
	var err error
	if c.Op, err = str(get, "op", "read"); err != nil {
		return nil, err
	}
	if c.Op != "read" && c.Op != "write" && c.Op != "append" {
		return nil, paramErr("param op must be read, write or append, not %q", c.Op)
	}
	if c.Format, err = str(get, "format", "text"); err != nil {
		return nil, err
	}
	if c.Format != "json" && c.Format != "text" && c.Format != "lines" {
		return nil, paramErr("param format must be json, text or lines, not %q", c.Format)
	}
	if c.Root, err = str(get, "root", ""); err != nil {
		return nil, err
	}
	if c.Path, err = str(get, "path", ""); err != nil {
		return nil, err
	}
	if c.Root == "" || c.Path == "" {
		return nil, paramErr("params root and path are required")
	}
	if !filepath.IsLocal(c.Path) {
		return nil, paramErr("path %q must stay inside root %q: a relative path without ..", c.Path, c.Root)
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

// Exec returns a FileResult, the declared Result, so a backend decodes the same type.
func (fileNode) Exec(ctx context.Context, _ *engine.Attempt, in any) (any, error) {
	res, err := execFile(ctx, in.(*fileCall))
	if err != nil {
		return nil, err
	}
	return *res, nil
}

func execFile(ctx context.Context, c *fileCall) (*FileResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.Op != "read" {
		if err := os.MkdirAll(c.Root, 0o755); err != nil {
			return nil, fileErr(c, "create the root", err)
		}
	}
	root, err := os.OpenRoot(c.Root)
	if err != nil {
		return nil, fileErr(c, "open root", err)
	}
	defer root.Close()
	switch c.Op {
	case "read":
		return readFile(root, c)
	case "append":
		return appendFile(root, c)
	}
	return writeFile(root, c)
}

func readFile(root *os.Root, c *fileCall) (*FileResult, error) {
	f, err := root.Open(c.Path)
	if err != nil {
		return nil, fileErr(c, "open", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileRead+1))
	if err != nil {
		return nil, fileErr(c, "read", err)
	}
	if len(data) > MaxFileRead {
		return nil, engine.Errorf(engine.Data, "read %s: longer than %d bytes", c.Path, MaxFileRead)
	}
	v, err := decode(c.Format, data)
	if err != nil {
		return nil, engine.Errorf(engine.Data, "read %s as %s: %v", c.Path, c.Format, err)
	}
	return &FileResult{Op: c.Op, Path: c.Path, Bytes: len(data), Content: v}, nil
}

// writeFile replaces the file atomically: a temporary file beside it is written and
// synced, then renamed over it, and the directory is synced so the rename lasts.
func writeFile(root *os.Root, c *fileCall) (*FileResult, error) {
	dir := path.Dir(filepath.ToSlash(c.Path))
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return nil, fileErr(c, "create the directory", err)
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	tmp := path.Join(dir, "."+path.Base(filepath.ToSlash(c.Path))+".tmp-"+hex.EncodeToString(suffix[:]))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fileErr(c, "create a temporary file", err)
	}
	_, err = f.Write(c.Data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, c.Path)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return nil, fileErr(c, "write", err)
	}
	if d, err := root.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return &FileResult{Op: c.Op, Path: c.Path, Bytes: len(c.Data)}, nil
}

func appendFile(root *os.Root, c *fileCall) (*FileResult, error) {
	if dir := path.Dir(filepath.ToSlash(c.Path)); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return nil, fileErr(c, "create the directory", err)
		}
	}
	f, err := root.OpenFile(c.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fileErr(c, "open", err)
	}
	_, err = f.Write(c.Data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fileErr(c, "append", err)
	}
	return &FileResult{Op: c.Op, Path: c.Path, Bytes: len(c.Data)}, nil
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
	return engine.WithKind(kind, fmt.Errorf("%s %s in %s: %w", what, c.Path, c.Root, err))
}

// Post stores a *FileResult, as the shared store has always held.
func (fileNode) Post(v *engine.Visit, _, out any) (string, error) {
	res := out.(FileResult)
	v.Set(v.Node(), &res)
	return "success", nil
}
