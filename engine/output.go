package engine

import (
	"context"
	"fmt"

	"github.com/expr-lang/expr/types"

	"github.com/kgrun/kgrun/schema"
)

// A run's input and output. The input is checked against the workflow's declaration
// before the run starts (schema.Workflow.CheckInput), is visible to every expression as
// "input", and rides on the run's first checkpoint so that a resumed or redriven run
// reads the same input. The output is computed from the run's state when it ends.

// outputValue is one compiled entry of the workflow's output.
type outputValue struct {
	name string
	prog *program
}

// outputEnv is what output expressions see: the run's input, shared store and params,
// and the failure that ended the run as error (kind "" when none). There is no node,
// attempt or result: the run has ended.
func outputEnv(names checkNames) types.Map {
	env := checkEnv(nil, names).(types.Map)
	delete(env, "result")
	delete(env, "node")
	delete(env, "attempt")
	return env
}

// compileOutput compiles the workflow's output expressions, reporting each problem at
// its position in the file.
func compileOutput(out []*schema.Assignment, names checkNames, ds *schema.Diagnostics) []*outputValue {
	if len(out) == 0 {
		return nil
	}
	env := outputEnv(names)
	var values []*outputValue
	for _, a := range out {
		if p := compileExprResult(a.Value, env, nil, false, "output."+a.Key, ds); p != nil {
			values = append(values, &outputValue{name: a.Key, prog: p})
		}
	}
	return values
}

// checkOutputCosts reports output expressions whose evident cost is over the limits.
func (g *Graph) checkOutputCosts(ds *schema.Diagnostics) {
	for _, o := range g.output {
		o.prog.checkCost(g.exprLimits, "output."+o.name, ds)
	}
}

// computeOutput evaluates the workflow's output as the run ends. An output that cannot
// be computed fails a run that would otherwise succeed: its caller would read a
// missing value. On a run that already failed, what can be computed is kept and each
// value that cannot is a failure of phase output, the run's status and error unchanged.
// The returned status and error are the run's, so changed.
func (r *run) computeOutput(s Status, err error) (Status, error) {
	if len(r.g.output) == 0 {
		return s, err
	}
	env := r.exprEnv()
	env["result"], env["node"], env["attempt"] = nil, "", 0
	info := env["error"].(*ErrorInfo)
	*info = ErrorInfo{}
	if ne, ok := err.(*NodeError); ok && ne != nil {
		*info = ErrorInfo{Kind: string(ne.Kind), Message: ne.Err.Error(), Node: ne.Node, Action: failureAction(ne), Attempts: ne.Attempts}
	}
	// A canceled run still computes what it can, within the limits but not the context.
	r.vm.begin(context.Background(), r.g.exprLimits)
	out := make(map[string]any, len(r.g.output))
	for _, o := range r.g.output {
		v, eerr := o.prog.eval(&r.vm, env)
		if eerr != nil {
			nerr := &NodeError{Node: "output", Kind: KindOf(eerr), Phase: "output", Err: fmt.Errorf("output.%s: %w", o.name, eerr)}
			r.addFailure(nerr)
			if s == StatusSuccess || s == StatusDegraded {
				// The reason for the status; a run that already failed keeps its own.
				r.res.Degradations = append(r.res.Degradations, "output: "+ShortMessage(nerr.Err))
				s, err = StatusFailed, nerr
			}
			continue
		}
		out[o.name] = v
	}
	r.res.Output = out
	return s, err
}

// inputOf returns the input a run was given: the options' input checked against the
// workflow's declaration, or, for a resumed run given none, the input journaled with
// its first visit.
func (g *Graph) inputOf(opts RunOptions) (map[string]any, error) {
	in := opts.Input
	if in == nil && opts.Resume != nil {
		in = opts.Resume.Input()
	}
	return g.spec.CheckInput(in)
}
