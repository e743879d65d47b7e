package schema

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

func (d *decoder) workflow(root *yaml.Node) *Workflow {
	o := d.mapping(root, "workflow", "the workflow", "version", "name", "start", "nodes")
	if o == nil {
		return nil
	}
	w := &Workflow{File: d.file, Pos: d.pos(o.node), MaxSteps: DefaultMaxSteps, Limits: DefaultExprLimits}
	if v := o.get("version"); v != nil {
		if n, ok := d.integer(v, "version", 0); ok && n != 1 {
			d.diags.Errorf(d.pos(v), "this kgrun reads version 1", "unsupported version %d", n)
		}
		w.Version = 1
	}
	if v := o.get("name"); v != nil {
		w.Name, _ = d.str(v, "name")
	}
	if v := o.get("description"); v != nil {
		w.Description, _ = d.str(v, "description")
	}
	if v := o.get("start"); v != nil {
		w.Start = d.ident(v, "start")
	}
	if v := o.get("params"); v != nil {
		w.Params, w.ParamSpecs = d.workflowParams(v)
		d.declared = w.ParamSpecs
	}
	if v := o.get("input"); v != nil {
		w.Input = d.input(v)
		d.inputDecl = w.Input
	}
	if v := o.get("output"); v != nil {
		w.Output = d.output(v)
	}
	if v := o.get("env"); v != nil {
		w.Env = d.envVars(v)
	}
	if v := o.get("error_handler"); v != nil {
		w.ErrorHandler = d.ident(v, "error_handler")
	}
	if v := o.get("max_steps"); v != nil {
		w.MaxSteps, _ = d.integer(v, "max_steps", 1)
	}
	if v := o.get("limits"); v != nil {
		w.Limits = d.exprLimits(v)
	}
	if v := o.get("breakers"); v != nil {
		for _, e := range d.entries(v, "breakers") {
			if b := d.breaker(e[0], e[1]); b != nil {
				w.Breakers = append(w.Breakers, b)
			}
		}
	}
	if v := o.get("nodes"); v != nil {
		entries := d.entries(v, "nodes")
		if len(entries) > d.limits.MaxNodes {
			d.diags.Errorf(d.pos(v), "split the workflow", "%d nodes, more than the limit of %d", len(entries), d.limits.MaxNodes)
			return w
		}
		if len(entries) == 0 && d.resolve(v) != nil {
			d.diags.Errorf(d.pos(v), "declare at least the start node", "nodes is empty")
		}
		for _, e := range entries {
			if !d.countNode(e[0]) {
				break
			}
			if n := d.node(e[0], e[1]); n != nil {
				w.Nodes = append(w.Nodes, n)
			}
		}
	}
	if v := o.get("scenarios"); v != nil {
		for _, e := range d.entries(v, "scenarios") {
			if s := d.scenario(e[0], e[1]); s != nil {
				w.Scenarios = append(w.Scenarios, s)
			}
		}
	}
	if v := o.get("tests"); v != nil {
		w.Tests = d.tests(v)
	}
	return w
}

func (d *decoder) breaker(k, v *yaml.Node) *Breaker {
	what := fmt.Sprintf("breaker %q", k.Value)
	o := d.mapping(v, "breaker", what, "failure_threshold", "open_timeout")
	if o == nil {
		return nil
	}
	b := &Breaker{Name: k.Value, Pos: d.pos(k), HalfOpenMaxCalls: 1}
	if x := o.get("failure_threshold"); x != nil {
		b.FailureThreshold, _ = d.integer(x, what+": failure_threshold", 1)
	}
	if x := o.get("open_timeout"); x != nil {
		b.OpenTimeout, _ = d.duration(x, what+": open_timeout")
	}
	if x := o.get("half_open_max_calls"); x != nil {
		b.HalfOpenMaxCalls, _ = d.integer(x, what+": half_open_max_calls", 1)
	}
	if x := o.get("count"); x != nil {
		b.Count = d.kinds(x, what+": count")
	}
	return b
}

// kinds decodes a list of error kinds, checking each name.
func (d *decoder) kinds(n *yaml.Node, what string) []Ident {
	ids := d.identList(n, what)
	out := ids[:0]
	for _, id := range ids {
		if d.checkKind(id, what) {
			out = append(out, id)
		}
	}
	return out
}

func (d *decoder) checkKind(id Ident, what string) bool {
	if contains(ErrorKinds, id.Name) {
		return true
	}
	detail := DidYouMean(id.Name, ErrorKinds)
	if detail == "" {
		detail = "error kinds: " + strings.Join(ErrorKinds, ", ")
	}
	d.diags.Errorf(id.Pos, detail, "%s: unknown error kind %q", what, id.Name)
	return false
}

func (d *decoder) node(k, v *yaml.Node) *Node {
	what := fmt.Sprintf("node %q", d.scope+k.Value)
	o := d.mapping(v, "node", what, "type")
	if o == nil {
		return nil
	}
	n := &Node{Name: k.Value, Pos: d.pos(k)}
	if x := o.get("type"); x != nil {
		n.Type = d.ident(x, what+": type")
	}
	if x := o.get("description"); x != nil {
		n.Description, _ = d.str(x, what+": description")
	}
	if x := o.get("params"); x != nil {
		n.Params, n.ParamsPos = d.paramsAt(x, what+": params")
		n.Templates = d.paramTemplates(x, what+": params")
	}
	if x := o.get("retry"); x != nil {
		n.Retry = d.retry(x, what+": retry")
	}
	if x := o.get("breaker"); x != nil {
		n.Breaker = d.ident(x, what+": breaker")
	}
	if x := o.get("timeout"); x != nil {
		n.Timeout, _ = d.duration(x, what+": timeout")
	}
	if x := o.get("bulkhead"); x != nil {
		n.Bulkhead = d.bulkhead(x, what+": bulkhead")
	}
	if x := o.get("fallback"); x != nil {
		n.Fallback = d.ident(x, what+": fallback")
	}
	if x := o.get("hooks"); x != nil {
		n.Hooks = d.hooks(x, what+": hooks")
	}
	if x := o.get("on"); x != nil {
		n.Edges = d.edges(x, what)
	}
	d.compose(n, o, what)
	return n
}

func (d *decoder) retry(n *yaml.Node, what string) *Retry {
	o := d.mapping(n, "retry", what, "attempts")
	if o == nil {
		return nil
	}
	r := &Retry{Pos: d.pos(o.node), Attempts: 1, Backoff: "fixed", Jitter: "none"}
	if x := o.get("attempts"); x != nil {
		attempts := what + ".attempts"
		if s := d.scalar(x, attempts, "a whole number"); s != nil {
			if v, err := strconv.Atoi(s.Value); err == nil && s.Tag == "!!int" && v < 1 {
				d.diags.Errorf(d.pos(s), "attempts counts every attempt, the first included: 1 means no retry, 3 means up to two retries",
					"%s.attempts must be at least 1, not %d", what, v)
			} else {
				r.Attempts, _ = d.integer(s, attempts, 1)
			}
		}
	}
	if x := o.get("delay"); x != nil {
		r.Delay, _ = d.duration(x, what+".delay")
	}
	if x := o.get("backoff"); x != nil {
		r.Backoff, r.BackoffPos = d.enum(x, what+".backoff", "fixed", "exponential")
	}
	if x := o.get("multiplier"); x != nil {
		r.Multiplier, _ = d.number(x, what+".multiplier", 1, 1000)
		if r.Backoff == "fixed" && o.get("backoff") != nil {
			d.diags.Warnf(d.pos(x), "set backoff: exponential, or remove the multiplier", "%s.multiplier has no effect with fixed backoff", what)
		} else if o.get("backoff") == nil {
			r.Backoff = "exponential"
		}
	}
	if x := o.get("max_delay"); x != nil {
		r.MaxDelay, _ = d.duration(x, what+".max_delay")
	}
	if x := o.get("jitter"); x != nil {
		r.Jitter, r.JitterPos = d.enum(x, what+".jitter", "none", "full")
	}
	if x := o.get("max_duration"); x != nil {
		r.MaxDuration, _ = d.duration(x, what+".max_duration")
	}
	if x := o.get("on"); x != nil {
		r.On = d.kinds(x, what+".on")
		for _, k := range r.On {
			if k.Name == "circuit_open" {
				d.diags.Errorf(k.Pos, "a retry never hammers an open breaker; route circuit_open to a fallback instead",
					"%s.on: circuit_open cannot be retried", what)
			}
		}
	}
	if r.Backoff == "exponential" && r.Multiplier == 0 {
		r.Multiplier = 2
	}
	if r.Backoff == "fixed" {
		r.Multiplier = 1
	}
	return r
}

func (d *decoder) enum(n *yaml.Node, what string, allowed ...string) (string, Pos) {
	s := d.scalar(n, what, "one of "+strings.Join(allowed, ", "))
	if s == nil {
		return allowed[0], Pos{}
	}
	if !contains(allowed, s.Value) {
		detail := DidYouMean(s.Value, allowed)
		if detail == "" {
			detail = "use one of " + strings.Join(allowed, ", ")
		}
		d.diags.Errorf(d.pos(s), detail, "%s: unknown value %q", what, s.Value)
		return allowed[0], d.pos(s)
	}
	return s.Value, d.pos(s)
}

func (d *decoder) bulkhead(n *yaml.Node, what string) *Bulkhead {
	o := d.mapping(n, "bulkhead", what, "max_concurrent")
	if o == nil {
		return nil
	}
	b := &Bulkhead{Pos: d.pos(o.node)}
	if x := o.get("max_concurrent"); x != nil {
		b.MaxConcurrent, _ = d.integer(x, what+".max_concurrent", 1)
	}
	if x := o.get("max_wait"); x != nil {
		b.MaxWait, _ = d.duration(x, what+".max_wait")
	}
	return b
}

func (d *decoder) hooks(n *yaml.Node, what string) Hooks {
	var h Hooks
	o := d.mapping(n, "hooks", what)
	if o == nil {
		return h
	}
	h.BeforePrep = d.hookList(o.get("before_prep"), what+".before_prep", false)
	h.AfterExec = d.hookList(o.get("after_exec"), what+".after_exec", false)
	h.OnError = d.hookList(o.get("on_error"), what+".on_error", true)
	return h
}

func (d *decoder) hookList(n *yaml.Node, what string, onError bool) []*Hook {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []*Hook
	for i, item := range items {
		w := fmt.Sprintf("%s[%d]", what, i)
		o := d.mapping(item, "hook", w)
		if o == nil {
			continue
		}
		h := &Hook{Pos: d.pos(o.node)}
		if x := o.get("when"); x != nil {
			h.When = d.expr(x, w+".when")
		}
		if x := o.get("assert"); x != nil {
			h.Assert = d.expr(x, w+".assert")
		}
		if x := o.get("message"); x != nil {
			h.Message, _ = d.str(x, w+".message")
		}
		if x := o.get("set"); x != nil {
			h.Set = d.assignments(x, w+".set")
		}
		if x := o.get("action"); x != nil {
			h.Action = d.ident(x, w+".action")
			if !onError && h.Action.Name != "" {
				d.diags.Errorf(h.Action.Pos, "only on_error hooks choose an action; the node's own result chooses it otherwise",
					"%s: action is only allowed in on_error hooks", w)
			}
		}
		if h.Assert == nil && h.Set == nil && h.Action.Name == "" && o.get("assert") == nil && o.get("set") == nil && o.get("action") == nil {
			d.diags.Errorf(h.Pos, "give it an assert, a set or (in on_error) an action", "%s does nothing", w)
		}
		out = append(out, h)
	}
	return out
}

func (d *decoder) assignments(n *yaml.Node, what string) []*Assignment {
	r := d.resolve(n)
	if r == nil {
		return nil
	}
	if r.Kind != yaml.MappingNode {
		d.diags.Errorf(d.pos(r), "write it as key: expression", "%s must be a mapping of shared keys to expressions, not %s", what, kindName(r))
		return nil
	}
	var out []*Assignment
	for _, e := range d.entries(r, what) {
		if x := d.expr(e[1], fmt.Sprintf("%s.%s", what, e[0].Value)); x != nil {
			out = append(out, &Assignment{Key: e[0].Value, Pos: d.pos(e[0]), Value: x})
		}
	}
	return out
}

// edges decodes a node's "on" mapping. Each action maps to a node name, one edge
// {to, when}, or a list of such edges tried in order.
func (d *decoder) edges(n *yaml.Node, nodeWhat string) []*Edge {
	entries := d.entries(n, nodeWhat+": on")
	size := 0 // a capacity hint: one edge per action, or one per item of its list
	for _, e := range entries {
		if e[1].Kind == yaml.SequenceNode {
			size += len(e[1].Content)
		} else {
			size++
		}
	}
	out := make([]*Edge, 0, size)
	for _, e := range entries {
		action, v := e[0], d.resolve(e[1])
		if v == nil {
			continue
		}
		what := nodeWhat + ": on." + action.Value
		add := func(item *yaml.Node) {
			item = d.resolve(item)
			if item == nil {
				return
			}
			edge := &Edge{Action: action.Value, ActionPos: d.pos(action)}
			if item.Kind == yaml.ScalarNode {
				edge.To = d.ident(item, what)
			} else {
				o := d.mapping(item, "edge", what, "to")
				if o == nil {
					return
				}
				if x := o.get("to"); x != nil {
					edge.To = d.ident(x, what+".to")
				}
				if x := o.get("when"); x != nil {
					edge.When = d.expr(x, what+".when")
				}
			}
			if edge.To.Name != "" {
				out = append(out, edge)
			}
		}
		if v.Kind == yaml.SequenceNode {
			if len(v.Content) == 0 {
				d.diags.Errorf(d.pos(v), "list at least one edge, or remove the action", "%s is empty", what)
			}
			for _, item := range v.Content {
				add(item)
			}
		} else {
			add(v)
		}
	}
	if len(out) == 0 {
		return nil // as when the node has no edges at all
	}
	return out
}
