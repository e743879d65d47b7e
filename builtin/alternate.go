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
// no file name (from params or templating) can write outside it.
type alternateDelivery struct{}

// DefaultAlternateDir is where alternate_delivery writes when neither the node's dir
// param nor the run's alternate_dir param says otherwise.
var DefaultAlternateDir = filepath.Join(os.TempDir(), "kgrun-alternate")

func alternateType() engine.NodeType {
	return engine.NodeType{
		Name:    "alternate_delivery",
		Doc:     "writes the records as a JSON file into a directory, never outside it",
		Actions: []string{"alternate_delivery"},
		Result:  AlternateResult{},
		Params:  alternateParams,
		New:     func(engine.NodeSpec) (engine.Node, error) { return alternateDelivery{}, nil },
	}
}

type alternateInput struct {
	dir, file string
	payload   alternatePayload
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
		dir, err = stringParam(v.Param, "alternate_dir", DefaultAlternateDir)
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
	return alternateInput{dir: dir, file: name, payload: alternatePayload{Workflow: wfName, Seed: v.Seed(), Records: recs}}, nil
}

func (alternateDelivery) Exec(_ context.Context, _ *engine.Attempt, in any) (any, error) {
	p := in.(alternateInput)
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate directory: %w", err))
	}
	root, err := os.OpenRoot(p.dir)
	if err != nil {
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate directory: %w", err))
	}
	defer root.Close()
	data, err := json.MarshalIndent(p.payload, "", "  ")
	if err != nil {
		return nil, engine.WithKind(engine.Internal, err)
	}
	// Write to a temporary name and rename, so a reader never sees half a file.
	tmp := p.file + ".tmp"
	f, err := root.Create(tmp)
	if err != nil {
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate delivery: %w", err))
	}
	_, werr := f.Write(append(data, '\n'))
	cerr := f.Close()
	if werr != nil || cerr != nil {
		_ = root.Remove(tmp)
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate delivery: write %s: %w", p.file, errors.Join(werr, cerr)))
	}
	if err := root.Rename(tmp, p.file); err != nil {
		_ = root.Remove(tmp)
		return nil, engine.WithKind(engine.Resource, fmt.Errorf("alternate delivery: %w", err))
	}
	return AlternateResult{Dir: p.dir, File: p.file, Records: len(p.payload.Records)}, nil
}

func (alternateDelivery) Post(v *engine.Visit, _, out any) (string, error) {
	r := out.(AlternateResult)
	v.Set("alternate_delivery", r)
	v.Degrade("delivered " + itoa(r.Records) + " records to the alternate channel (" + r.File + ")")
	return "alternate_delivery", nil
}
