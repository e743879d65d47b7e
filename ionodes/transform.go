package ionodes

import (
	"context"
	"maps"

	"github.com/kgrun/kgrun/engine"
)

// The transform type computes values from the run with ${{ }} expressions and does
// nothing else: no I/O, no clock, no randomness. Its params are evaluated per visit
// like every node's, so by the time it runs they hold the computed values:
//
//	shape:
//	  type: transform
//	  params:
//	    values:
//	      ids: "${{ map(shared.fetch.body.items, {#.id}) }}"
//	      count: "${{ len(shared.fetch.body.items) }}"
//	    set:
//	      batch_size: "${{ len(shared.fetch.body.items) }}"
//
// values becomes the node's result (stored under the node's name, read by guards and
// after_exec hooks as result.ids); set writes each key into the shared store. Since
// the same state gives the same values, a transform is never retried: declaring retry
// on one is a load error. An expression that fails fails the visit (kind data, or
// limit when it is over the workflow's limits), routed like any other failure.

var transformParams = []engine.Param{
	{Name: "values", Type: engine.ParamMap, Doc: "the values to compute, by name: the node's result"},
	{Name: "set", Type: engine.ParamMap, Doc: "values to write into the shared store, by key"},
}

func transformType() engine.NodeType {
	return engine.NodeType{
		Name:    "transform",
		Doc:     "computes values from expressions into its result and, with set, into the shared store",
		Actions: []string{"success"},
		Result:  map[string]any{},
		Input:   (*transformCall)(nil),
		Params:  transformParams,
		NoRetry: true,
		New:     func(engine.NodeSpec) (engine.Node, error) { return transformNode{}, nil },
	}
}

type transformNode struct{}

// transformCall is exported field by field so a backend can carry it as JSON.
type transformCall struct {
	Values map[string]any `json:"values"`
	Set    map[string]any `json:"set"`
}

func (transformNode) Prep(v *engine.Visit) (any, error) {
	c := &transformCall{}
	var err error
	if c.Values, err = mapParam(v.Param, "values"); err != nil {
		return nil, err
	}
	if c.Set, err = mapParam(v.Param, "set"); err != nil {
		return nil, err
	}
	return c, nil
}

// mapParam reads a map param (a whole ${{ }} may give one at run time).
func mapParam(get getter, key string) (map[string]any, error) {
	raw, ok := get(key)
	if !ok || raw == nil {
		return map[string]any{}, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, paramErr("param %s must be a mapping of names to values, not %T", key, raw)
	}
	return m, nil
}

// Exec returns the computed values; it has nothing to wait for and nothing to undo.
func (transformNode) Exec(_ context.Context, _ *engine.Attempt, in any) (any, error) {
	return in.(*transformCall).Values, nil
}

func (transformNode) Post(v *engine.Visit, in, out any) (string, error) {
	v.Set(v.Node(), maps.Clone(out.(map[string]any)))
	for k, val := range in.(*transformCall).Set {
		v.Set(k, val)
	}
	return "success", nil
}
