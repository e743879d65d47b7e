package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/kgrun/kgrun/engine"
)

// nodeAttrs are one node's attributes, built once: the span attributes every visit and
// attempt carries, the spans' names, and the metrics' options by outcome. A node inside
// a map's body, a parallel branch or a called workflow has its own, keyed by its path
// ("regions/collect"), which its metrics carry as kgrun.node so that they stay apart from
// a node of the same name elsewhere without one series per item.
type nodeAttrs struct {
	span           []attribute.KeyValue
	visit, attempt string // the spans' names
	ok             []metric.RecordOption
	failed         map[engine.Kind][]metric.RecordOption
	retries        map[engine.Kind][]metric.AddOption
	workflow, node string // node is the name the engine's events give
	metricNode     string // the node's path
}

func newNodeAttrs(workflow, node, path, typ string) *nodeAttrs {
	return &nodeAttrs{
		span:     []attribute.KeyValue{AttrWorkflow.String(workflow), AttrNode.String(node), AttrNodeType.String(typ)},
		visit:    "visit " + node,
		attempt:  "attempt " + node,
		ok:       []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(AttrWorkflow.String(workflow), AttrNode.String(path), attribute.String("kgrun.outcome", "ok")))},
		failed:   map[engine.Kind][]metric.RecordOption{},
		retries:  map[engine.Kind][]metric.AddOption{},
		workflow: workflow, node: node, metricNode: path,
	}
}

// outcome is the attempt-latency options for an attempt that ended with kind ("" for
// success).
func (n *nodeAttrs) outcome(kind engine.Kind) []metric.RecordOption {
	if kind == "" {
		return n.ok
	}
	o, ok := n.failed[kind]
	if !ok {
		o = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(AttrWorkflow.String(n.workflow), AttrNode.String(n.metricNode),
			attribute.String("kgrun.outcome", "error"), AttrErrorKind.String(string(kind))))}
		n.failed[kind] = o
	}
	return o
}

// retry is the retries counter's options for a retry after an error of kind.
func (n *nodeAttrs) retry(kind engine.Kind) []metric.AddOption {
	o, ok := n.retries[kind]
	if !ok {
		o = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(AttrWorkflow.String(n.workflow), AttrNode.String(n.metricNode),
			AttrErrorKind.String(string(kind))))}
		n.retries[kind] = o
	}
	return o
}
