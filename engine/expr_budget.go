package engine

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm"

	"github.com/kgrun/kgrun/schema"
)

// ExprLimits bound every evaluation of a guard, when, assert or set expression: Steps
// counts closure iterations (the bodies of all, map, filter, reduce...) and elements that
// builtins such as sum, sort or "in" walk; Bytes counts the strings, lists and maps the
// evaluation builds. Exceeding either ends the evaluation with an error of kind Limit.
type ExprLimits struct {
	Steps int64
	Bytes int64
}

// DefaultExprLimits are the limits of a workflow that declares none.
var DefaultExprLimits = ExprLimits{Steps: schema.DefaultExprSteps, Bytes: schema.DefaultExprBytes}

// LimitError is an expression evaluation that reached one of its limits.
type LimitError struct {
	// Limit names the workflow key that sets it: expr_steps or expr_bytes.
	Limit string
	Max   int64
}

func (e *LimitError) Error() string {
	unit := "steps"
	if e.Limit == "expr_bytes" {
		unit = "bytes"
	}
	return fmt.Sprintf("over the limit of %d %s (limits.%s); simplify the expression or raise limits.%s", e.Max, unit, e.Limit, e.Limit)
}

// ctxCheckEvery is how many steps pass between two looks at the run's context, so that a
// long evaluation stops soon after cancellation without paying for a check per step.
const ctxCheckEvery = 4096

// exprBudget is the per-evaluation account the bounded program's hidden calls charge.
// It reaches them through the environment under budgetName.
type exprBudget struct {
	steps, maxSteps int64
	bytes, maxBytes int64
	nextCheck       int64
	ctx             context.Context
}

func (b *exprBudget) reset() {
	b.steps, b.bytes, b.nextCheck = 0, 0, ctxCheckEvery
}

// step charges n steps, and looks at the context every ctxCheckEvery steps.
func (b *exprBudget) step(n int64) error {
	b.steps += n
	if b.steps > b.maxSteps {
		return &LimitError{Limit: "expr_steps", Max: b.maxSteps}
	}
	if b.steps >= b.nextCheck {
		b.nextCheck = b.steps + ctxCheckEvery
		if b.ctx != nil {
			if err := b.ctx.Err(); err != nil {
				return context.Cause(b.ctx)
			}
		}
	}
	return nil
}

// grow charges n bytes.
func (b *exprBudget) grow(n int64) error {
	if n < 0 || b.bytes+n > b.maxBytes || b.bytes+n < b.bytes {
		return b.exceeded()
	}
	b.bytes += n
	return nil
}

// exceeded reports the byte limit reached.
func (b *exprBudget) exceeded() error {
	b.bytes = b.maxBytes + 1
	return &LimitError{Limit: "expr_bytes", Max: b.maxBytes}
}

// Sizes charged per value, close to what Go allocates for them.
const (
	wordSize   = 8
	stringSize = 16
	sliceSize  = 24
	mapSize    = 48
	entrySize  = 16
	maxWalk    = 1000 // nesting deeper than this is charged as flat
)

// shallowSize is the memory a freshly built value holds itself, not counting values it
// shares with others: the bytes of a string, the slots of a list or map.
func shallowSize(v any) int64 {
	switch x := v.(type) {
	case string:
		return stringSize + int64(len(x))
	case []any:
		return sliceSize + stringSize*int64(len(x))
	case map[string]any:
		return mapSize + (entrySize+stringSize+stringSize)*int64(len(x))
	case nil, bool, int, int64, float64:
		return 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		return stringSize + int64(rv.Len())
	case reflect.Slice, reflect.Array:
		return sliceSize + int64(rv.Len())*int64(rv.Type().Elem().Size())
	case reflect.Map:
		return mapSize + int64(rv.Len())*int64(entrySize+rv.Type().Key().Size()+rv.Type().Elem().Size())
	}
	return 0
}

// deepSize adds to the budget the size of v with everything it refers to, counting a
// value shared twice twice: that is what printing or flattening it produces. The walk
// stops as soon as the budget is spent, so it costs at most the budget.
func (b *exprBudget) deepSize(v any, depth int) error {
	if err := b.grow(shallowSize(v)); err != nil {
		return err
	}
	if depth >= maxWalk {
		return nil
	}
	switch x := v.(type) {
	case nil, bool, int, int64, float64, string:
		return nil
	case []any:
		for _, e := range x {
			if err := b.deepSize(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for k, e := range x {
			if err := b.grow(int64(len(k))); err != nil {
				return err
			}
			if err := b.deepSize(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !rv.IsNil() {
			return b.deepSize(rv.Elem().Interface(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		if k := rv.Type().Elem().Kind(); k <= reflect.Complex128 {
			return nil // elements are plain numbers, already counted
		}
		for i := 0; i < rv.Len(); i++ {
			if err := b.deepSize(rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := rv.MapRange()
		for it.Next() {
			if err := b.deepSize(it.Key().Interface(), depth+1); err != nil {
				return err
			}
			if err := b.deepSize(it.Value().Interface(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := 0; i < rv.NumField(); i++ {
			if f := rv.Field(i); f.CanInterface() {
				if err := b.deepSize(f.Interface(), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// length is the number of elements a builtin walks in v: a list's or map's length.
func length(v any) int64 {
	switch x := v.(type) {
	case []any:
		return int64(len(x))
	case map[string]any:
		return int64(len(x))
	case nil, bool, int, int64, float64, string:
		return 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return int64(rv.Len())
	}
	return 0
}

// The hidden functions a bounded program calls. Their names cannot be written in a
// workflow: the unbounded compile, which reports the user's errors, does not know them.
const (
	budgetName = "__kgrun_budget"
	fnTick     = "__kgrun_tick" // tick(B) true: one closure step
	fnIter     = "__kgrun_iter" // iter(B, v) v: charge len(v) steps
	fnOut      = "__kgrun_out"  // out(B, v) v: charge v's own size in bytes
	fnOutStr   = "__kgrun_outs" // the same for a string, keeping its type
	fnCall     = "__kgrun_call" // call(B, name, args...): a builtin whose output may dwarf its input
)

// budgetOf is the first argument of every hidden call.
func budgetOf(params []any) (*exprBudget, error) {
	if len(params) > 0 {
		if b, ok := params[0].(*exprBudget); ok && b != nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("expression evaluated without a budget")
}

func iter(params ...any) (any, error) {
	b, err := budgetOf(params)
	if err != nil || len(params) != 2 {
		return nil, fmt.Errorf("iter: bad call")
	}
	return params[1], b.step(1 + length(params[1]))
}

func out(params ...any) (any, error) {
	b, err := budgetOf(params)
	if err != nil || len(params) != 2 {
		return nil, fmt.Errorf("out: bad call")
	}
	if err := b.step(1); err != nil {
		return nil, err
	}
	return params[1], b.grow(shallowSize(params[1]))
}

// expanding lists the builtins whose output can be far larger than their input's own
// size (printing a list shared a thousand times, repeating a string): call charges what
// they would build before letting them build it.
var expanding = map[string]bool{"repeat": true, "join": true, "replace": true, "toJSON": true, "string": true, "flatten": true}

func call(params ...any) (any, error) {
	b, err := budgetOf(params)
	if err != nil || len(params) < 3 {
		return nil, fmt.Errorf("call: bad call")
	}
	name, _ := params[1].(string)
	args := params[2:]
	if err := b.step(1); err != nil {
		return nil, err
	}
	if err := b.precharge(name, args); err != nil {
		return nil, err
	}
	if name == "repeat" && len(args) == 2 {
		// expr's own repeat refuses more than a million copies whatever their size;
		// the budget, charged above, is the bound here.
		s, ok := args[0].(string)
		n := toInt64(args[1])
		if !ok || n < 0 {
			return nil, fmt.Errorf("invalid argument for repeat (expected a string and a positive integer)")
		}
		return strings.Repeat(s, int(n)), nil
	}
	i, ok := builtin.Index[name]
	if !ok {
		return nil, fmt.Errorf("unknown builtin %s", name)
	}
	fn := builtin.Builtins[i]
	switch {
	case fn.Func != nil:
		return fn.Func(args...)
	case fn.Safe != nil:
		v, _, err := fn.Safe(args...)
		return v, err
	case fn.Fast != nil && len(args) == 1:
		return fn.Fast(args[0]), nil
	}
	return nil, fmt.Errorf("builtin %s cannot be called here", name)
}

// precharge charges, before an expanding builtin runs, the size of what it will build.
func (b *exprBudget) precharge(name string, args []any) error {
	switch name {
	case "repeat":
		if len(args) == 2 {
			s, _ := args[0].(string)
			n := toInt64(args[1])
			if n > 0 && int64(len(s)) > 0 {
				if int64(len(s)) > (b.maxBytes+1)/n {
					return b.exceeded()
				}
				return b.grow(stringSize + int64(len(s))*n)
			}
		}
		return nil
	case "join":
		if len(args) >= 1 {
			sep := int64(0)
			if len(args) == 2 {
				s, _ := args[1].(string)
				sep = int64(len(s))
			}
			n := length(args[0])
			if err := b.step(n); err != nil {
				return err
			}
			if sep > 0 && n > (b.maxBytes+1)/sep {
				return b.exceeded()
			}
			if err := b.grow(sep * n); err != nil {
				return err
			}
			return b.deepSize(args[0], 0)
		}
		return nil
	case "replace":
		if len(args) == 3 {
			s, _ := args[0].(string)
			old, _ := args[1].(string)
			repl, _ := args[2].(string)
			// At most one replacement per byte of s (per rune boundary when old is empty).
			n := int64(len(s)) + 1
			if len(old) > 0 {
				n = int64(len(s)/len(old)) + 1
			}
			if len(repl) > 0 && n > (b.maxBytes+1)/int64(len(repl)) {
				return b.exceeded()
			}
			return b.grow(stringSize + int64(len(s)) + n*int64(len(repl)))
		}
		return nil
	}
	if !expanding[name] {
		return nil
	}
	for _, a := range args {
		if err := b.deepSize(a, 0); err != nil {
			return err
		}
	}
	return nil
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case int32:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

// exprVM is a run's expression machine: expr's VM, and the budget its bounded programs
// charge, tied to the context of the visit being evaluated.
type exprVM struct {
	vm     vm.VM
	budget exprBudget
	ready  bool
}

// begin prepares the machine for a visit: the run's context and (once per run) the
// limits of the graph. The budget's place in the environment is the run's to fill
// (run.exprEnv).
func (m *exprVM) begin(ctx context.Context, limits ExprLimits) {
	m.budget.ctx = ctx
	if !m.ready {
		m.budget.maxSteps, m.budget.maxBytes = limits.Steps, limits.Bytes
		// expr's own counter charges ranges, list and map literals per element.
		m.vm.MemoryBudget = uint(limits.Bytes / wordSize)
		m.ready = true
	}
}
