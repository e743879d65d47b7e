package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kgrun/kgrun/engine"
)

// AlternateResult says where alternate_delivery wrote the records.
type AlternateResult struct {
	Dir     string `json:"dir" expr:"dir"`
	File    string `json:"file" expr:"file"`
	Records int    `json:"records" expr:"records"`
}

// alternateDelivery writes the undelivered records as a JSON file into a configured
// directory, the example's emergency fallback. It opens the directory as an os.Root, so
// no file name (from params or templating) can write outside it, and only after checking
// the directory is this user's own (see openAlternateDir).
type alternateDelivery struct{}

// DefaultAlternateDir is where alternate_delivery writes when neither the node's dir
// param nor the run's alternate_dir param says otherwise: kgrun/alternate under the
// user's state directory ($XDG_STATE_HOME, else ~/.local/state). A private directory,
// unlike a fixed name in the shared temp dir, which anyone could create first or plant
// as a symlink.
func DefaultAlternateDir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(base) { // the XDG rule: a relative value is ignored
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no default alternate directory: %w; set the alternate_dir param", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "kgrun", "alternate"), nil
}

func alternateType() engine.NodeType {
	return engine.NodeType{
		Name:    "alternate_delivery",
		Doc:     "writes the records as a JSON file into a directory, never outside it",
		Actions: []string{"alternate_delivery"},
		Result:  AlternateResult{},
		Input:   alternateInput{},
		Params:  alternateParams,
		New:     func(engine.NodeSpec) (engine.Node, error) { return alternateDelivery{}, nil },
	}
}

// alternateInput is exported field by field so that it survives encoding/json: a
// backend that runs exec in another process sends it there.
type alternateInput struct {
	Dir  string `json:"dir"`
	File string `json:"file"`
	// Private says Dir is the default, which must be closed to other users.
	Private bool             `json:"private"`
	Payload alternatePayload `json:"payload"`
}

type alternatePayload struct {
	Workflow string      `json:"workflow"`
	Seed     int64       `json:"seed"`
	Records  []Processed `json:"records"`
}

func (alternateDelivery) Prep(v *engine.Visit) (any, error) {
	recs, err := processedFrom(v)
	if err != nil {
		return nil, err
	}
	dir, err := stringParam(v.Param, "dir", "")
	if err == nil && dir == "" {
		dir, err = stringParam(v.Param, "alternate_dir", "")
	}
	private := false
	if err == nil && dir == "" {
		dir, err = DefaultAlternateDir()
		private = true
	}
	if err != nil {
		return nil, engine.WithKind(engine.Data, err)
	}
	name, err := stringParam(v.Param, "file", fmt.Sprintf("delivery-seed%d-visit%d.json", v.Seed(), v.Number()))
	if err != nil {
		return nil, engine.WithKind(engine.Data, err)
	}
	if !filepath.IsLocal(name) || strings.ContainsRune(name, os.PathSeparator) {
		return nil, engine.Errorf(engine.Data, "file %q must be a plain file name inside the alternate directory", name)
	}
	wf, _ := v.Param("workflow")
	wfName, _ := wf.(string)
	return alternateInput{Dir: dir, File: name, Private: private, Payload: alternatePayload{Workflow: wfName, Seed: v.Seed(), Records: recs}}, nil
}

func (alternateDelivery) Exec(_ context.Context, _ *engine.Attempt, in any) (any, error) {
	p := in.(alternateInput)
	root, err := openAlternateDir(p.Dir, p.Private)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	data, err := json.MarshalIndent(p.Payload, "", "  ")
	if err != nil {
		return nil, engine.WithKind(engine.Internal, err)
	}
	// Write to a temporary name and rename, so a reader never sees half a file.
	tmp := p.File + ".tmp"
	f, err := root.Create(tmp)
	if err != nil {
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate delivery: %w", err))
	}
	_, werr := f.Write(append(data, '\n'))
	cerr := f.Close()
	if werr != nil || cerr != nil {
		_ = root.Remove(tmp)
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate delivery: write %s: %w", p.File, errors.Join(werr, cerr)))
	}
	if err := root.Rename(tmp, p.File); err != nil {
		_ = root.Remove(tmp)
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate delivery: %w", err))
	}
	return AlternateResult{Dir: p.Dir, File: p.File, Records: len(p.Payload.Records)}, nil
}

func (alternateDelivery) Post(v *engine.Visit, _, out any) (string, error) {
	r := out.(AlternateResult)
	v.Set("alternate_delivery", r)
	v.Degrade("delivered " + itoa(r.Records) + " records to the alternate channel (" + r.File + ")")
	return "alternate_delivery", nil
}

// openAlternateDir creates dir (0700, parents too) when missing and opens it as an
// os.Root, refusing a directory that is a symlink or that another user owns, and, when
// private (the default directory), one that other users may enter. The checks are made
// on the directory actually opened, so swapping it between check and use does not help.
// Refusals are data errors: retrying cannot change them.
func openAlternateDir(dir string, private bool) (*os.Root, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate directory: %w", err))
	}
	refuse := func(format string, args ...any) (*os.Root, error) {
		return nil, engine.Errorf(engine.Data, "alternate directory %s: "+format+"; kgrun writes only into a directory of its own user (set the alternate_dir param to one)", append([]any{dir}, args...)...)
	}
	fi, err := os.Lstat(dir)
	switch {
	case err != nil:
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate directory: %w", err))
	case fi.Mode()&os.ModeSymlink != 0:
		return refuse("is a symbolic link")
	case !fi.IsDir():
		return refuse("is not a directory")
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate directory: %w", err))
	}
	opened, err := root.Stat(".")
	if err != nil || !os.SameFile(fi, opened) {
		root.Close()
		return refuse("changed while it was being opened")
	}
	if uid, mine := ownedByMe(opened); !mine {
		root.Close()
		return refuse("is owned by another user (uid %d)", uid)
	}
	if private && opened.Mode().Perm()&0o077 != 0 {
		root.Close()
		return refuse("is open to other users (mode %04o; chmod 700 it)", opened.Mode().Perm())
	}
	return root, nil
}
