package schema

import (
	"fmt"
	"math"
	"regexp"
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
	what := fmt.Sprintf("node %q", k.Value)
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
	return n
}

func (d *decoder) retry(n *yaml.Node, what string) *Retry {
	o := d.mapping(n, "retry", what, "attempts")
	if o == nil {
		return nil
	}
	r := &Retry{Pos: d.pos(o.node), Attempts: 1, Backoff: "fixed", Jitter: "none"}
	if x := o.get("attempts"); x != nil {
		if s := d.scalar(x, what+".attempts", "a whole number"); s != nil {
			if v, err := strconv.Atoi(s.Value); err == nil && s.Tag == "!!int" && v < 1 {
				d.diags.Errorf(d.pos(s), "attempts counts every attempt, the first included: 1 means no retry, 3 means up to two retries",
					"%s.attempts must be at least 1, not %d", what, v)
			} else {
				r.Attempts, _ = d.integer(s, what+".attempts", 1)
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
	var out []*Edge
	for _, e := range d.entries(n, nodeWhat+": on") {
		action, v := e[0], d.resolve(e[1])
		if v == nil {
			continue
		}
		what := fmt.Sprintf("%s: on.%s", nodeWhat, action.Value)
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
	return out
}

func (d *decoder) scenario(k, v *yaml.Node) *Scenario {
	what := fmt.Sprintf("scenario %q", k.Value)
	o := d.mapping(v, "scenario", what)
	if o == nil {
		return nil
	}
	s := &Scenario{Name: k.Value, Pos: d.pos(k)}
	if x := o.get("description"); x != nil {
		s.Description, _ = d.str(x, what+": description")
	}
	if x := o.get("params"); x != nil {
		s.Params, s.ParamsPos = d.paramsAt(x, what+": params")
		d.checkParamValues(x, s.Params, what)
	}
	if x := o.get("faults"); x != nil {
		for _, e := range d.entries(x, what+": faults") {
			if f := d.fault(e[0], e[1], what); f != nil {
				s.Faults = append(s.Faults, f)
			}
		}
	}
	return s
}

func (d *decoder) fault(k, v *yaml.Node, scenarioWhat string) *Fault {
	what := fmt.Sprintf("%s: faults.%s", scenarioWhat, k.Value)
	o := d.mapping(v, "fault", what)
	if o == nil {
		return nil
	}
	f := &Fault{Node: Ident{Name: k.Value, Pos: d.pos(k)}, Pos: d.pos(o.node), Kind: Ident{Name: "failed"}}
	if x := o.get("rate"); x != nil {
		f.Rate, f.RateMax = d.rate(x, what+".rate")
	}
	if x := o.get("kind"); x != nil {
		if id := d.ident(x, what+".kind"); id.Name != "" && d.checkKind(id, what+".kind") {
			f.Kind = id
		}
	}
	if x := o.get("message"); x != nil {
		f.Message, _ = d.str(x, what+".message")
	}
	if x := o.get("latency"); x != nil {
		f.Latency, _ = d.duration(x, what+".latency")
		f.LatencyRate = 1
	}
	if x := o.get("latency_rate"); x != nil {
		f.LatencyRate, _ = d.number(x, what+".latency_rate", 0, 1)
		if o.get("latency") == nil {
			d.diags.Errorf(d.pos(x), "add latency: with a duration", "%s.latency_rate has no latency to apply", what)
		}
	}
	if x := o.get("script"); x != nil {
		f.Script = d.script(x, what+".script")
	}
	if o.get("rate") == nil && o.get("latency") == nil && o.get("script") == nil {
		d.diags.Errorf(f.Pos, "give it a rate, a latency or a script", "%s injects nothing", what)
	}
	return f
}

// rate accepts a probability or a two-element range [min, max] drawn once per run.
func (d *decoder) rate(n *yaml.Node, what string) (float64, float64) {
	r := d.resolve(n)
	if r == nil {
		return 0, 0
	}
	if r.Kind == yaml.SequenceNode {
		if len(r.Content) != 2 {
			d.diags.Errorf(d.pos(r), "write a probability such as 0.4, or a range such as [0.2, 0.4]",
				"%s range must have exactly two numbers, not %d", what, len(r.Content))
			return 0, 0
		}
		lo, ok1 := d.number(r.Content[0], what+"[0]", 0, 1)
		hi, ok2 := d.number(r.Content[1], what+"[1]", 0, 1)
		if ok1 && ok2 && hi < lo {
			d.diags.Errorf(d.pos(r), "write the smaller bound first", "%s range [%g, %g] is reversed", what, lo, hi)
			return 0, 0
		}
		return lo, hi
	}
	v, _ := d.number(r, what, 0, 1)
	return v, v
}

var callsPattern = regexp.MustCompile(`^\s*(\d+)\s*(?:(-)\s*(\d+)?)?\s*$`)

func (d *decoder) script(n *yaml.Node, what string) []*FaultStep {
	r := d.resolve(n)
	if r == nil {
		return nil
	}
	if r.Kind != yaml.SequenceNode {
		d.diags.Errorf(d.pos(r), "", "%s must be a list of steps, not %s", what, kindName(r))
		return nil
	}
	var out []*FaultStep
	for i, item := range r.Content {
		w := fmt.Sprintf("%s[%d]", what, i)
		o := d.mapping(item, "faultStep", w, "calls")
		if o == nil {
			continue
		}
		st := &FaultStep{Pos: d.pos(o.node)}
		if x := o.get("calls"); x != nil {
			if s := d.scalar(x, w+".calls", "a call number or range"); s != nil {
				m := callsPattern.FindStringSubmatch(s.Value)
				first, _ := strconv.Atoi(safeGroup(m, 1))
				last := first
				if m != nil && m[2] != "" {
					last, _ = strconv.Atoi(m[3]) // "3-" leaves last at 0: an open range
				}
				switch {
				case m == nil || first < 1 || first > math.MaxInt32 || last > math.MaxInt32:
					d.diags.Errorf(d.pos(s), `calls are counted from 1: write "2", "1-3" or "4-" (from the 4th call on)`,
						"%s.calls: invalid call range %q", w, s.Value)
				case last != 0 && last < first:
					d.diags.Errorf(d.pos(s), "write the smaller call number first", "%s.calls: range %q is reversed", w, s.Value)
				default:
					st.FirstCall, st.LastCall = first, last
				}
			}
		}
		if x := o.get("fail"); x != nil {
			if id := d.ident(x, w+".fail"); id.Name != "" && d.checkKind(id, w+".fail") {
				st.Fail = id
			}
		}
		if x := o.get("latency"); x != nil {
			st.Latency, _ = d.duration(x, w+".latency")
		}
		if x := o.get("message"); x != nil {
			st.Message, _ = d.str(x, w+".message")
		}
		out = append(out, st)
	}
	return out
}

func safeGroup(m []string, i int) string {
	if m == nil || i >= len(m) {
		return ""
	}
	return m[i]
}

func (d *decoder) tests(n *yaml.Node) []*Test {
	r := d.resolve(n)
	if r == nil {
		return nil
	}
	if r.Kind != yaml.SequenceNode {
		d.diags.Errorf(d.pos(r), "", "tests must be a list of test cases, not %s", kindName(r))
		return nil
	}
	var out []*Test
	names := map[string]Pos{}
	for i, item := range r.Content {
		what := fmt.Sprintf("tests[%d]", i)
		o := d.mapping(item, "test", what, "name", "expect")
		if o == nil {
			continue
		}
		t := &Test{Pos: d.pos(o.node)}
		if x := o.get("name"); x != nil {
			t.Name, _ = d.str(x, what+".name")
			if p, dup := names[t.Name]; dup && t.Name != "" {
				d.diags.Errorf(d.pos(x), fmt.Sprintf("the first is at %d:%d", p.Line, p.Col), "test name %q is used twice", t.Name)
			}
			names[t.Name] = d.pos(x)
		}
		if x := o.get("scenario"); x != nil {
			t.Scenario = d.ident(x, what+".scenario")
		}
		if x := o.get("seed"); x != nil {
			t.Seed, _ = d.int64(x, what+".seed")
		}
		if x := o.get("params"); x != nil {
			t.Params, t.ParamsPos = d.paramsAt(x, what+".params")
			d.checkParamValues(x, t.Params, fmt.Sprintf("test %q", t.Name))
		}
		if x := o.get("input"); x != nil {
			t.Input, t.InputPos = d.testInput(x, what+".input")
		}
		if x := o.get("expect"); x != nil {
			t.Expect = d.expect(x, what+".expect")
		}
		out = append(out, t)
	}
	return out
}

func (d *decoder) expect(n *yaml.Node, what string) Expect {
	var e Expect
	o := d.mapping(n, "expect", what)
	if o == nil {
		return e
	}
	e.Pos = d.pos(o.node)
	if x := o.get("status"); x != nil {
		e.Status, e.StatusPos = d.enum(x, what+".status", Statuses...)
	}
	if x := o.get("path"); x != nil {
		e.Path = d.identList(x, what+".path")
	}
	if x := o.get("visited"); x != nil {
		e.Visited = d.identList(x, what+".visited")
	}
	if x := o.get("not_visited"); x != nil {
		e.NotVisited = d.identList(x, what+".not_visited")
	}
	if x := o.get("output"); x != nil {
		e.Output, e.OutputPos = d.paramsAt(x, what+".output")
		if e.Output == nil {
			e.Output = map[string]any{}
		}
	}
	if x := o.get("shared"); x != nil {
		e.Shared, e.SharedPos = d.paramsAt(x, what+".shared")
		if e.Shared == nil {
			e.Shared = map[string]any{}
		}
	}
	if len(o.values) == 0 {
		d.diags.Errorf(e.Pos, "state at least a status or a path", "%s checks nothing", what)
	}
	return e
}
