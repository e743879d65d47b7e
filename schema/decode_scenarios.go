package schema

// Decoding of the fault-injection scenarios and the tests a workflow declares.

import (
	"fmt"
	"math"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

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
		for _, e := range d.namedEntries(x, what+": faults", isPath) {
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
	if len(o.fields) == 0 {
		d.diags.Errorf(e.Pos, "state at least a status or a path", "%s checks nothing", what)
	}
	return e
}
