package engine

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// boundedSeeds exercise every construct the bounding rewrite touches, and some it leaves.
var boundedSeeds = []string{
	"result.value > 1", "len(shared) > 0", "node == 'a' || attempt > 2",
	"all(shared.list, {# >= 0})", "any(shared.list, # == 3)", "none(shared.list, # > 100)", "one(shared.list, # == 1)",
	"filter(shared.list, # % 2 == 0)", "map(shared.list, # * 2)", "map(shared.list, {string(#) + '!'})",
	"count(shared.list, # > 2)", "count(shared.flags)", "sum(shared.list)", "sum(shared.list, # * 2)",
	"reduce(shared.list, #acc + #, 0)", "reduce(shared.words, #acc + #, '')", "reduce(1..5, #acc * #, 1)",
	"find(shared.list, # > 3)", "findIndex(shared.list, # > 3)", "findLast(shared.list, # < 3)", "findLastIndex(shared.list, # < 3)",
	"groupBy(shared.list, # % 2)", "sortBy(shared.list, -#)", "sort(shared.list)", "uniq(shared.list)", "reverse(shared.list)",
	"max(shared.list)", "min(shared.list)", "mean(shared.list)", "median(shared.list)", "max(1, 2, 3)",
	"sort(keys(shared.map))", "len(values(shared.map))", "len(toPairs(shared.map))", "fromPairs([['a', 1]])", "concat(shared.list, shared.list)",
	"take(shared.list, 2)", "flatten([shared.list, [shared.list]])", "3 in shared.list", "'a' in shared.map", "4 in 1..9",
	"'x' + 'y'", "shared.name + '-' + node", "1 + 2", "1.5 + attempt", "repeat('ab', 3)", "join(shared.words, ', ')", "join(shared.words)",
	"replace('aaa', 'a', 'bb')", "replace('abc', '', '-')", "toJSON(shared.map)", "string(shared.list)", "fromJSON('[1, 2]')",
	"upper(shared.name)", "lower('AB') + trim(' x ')", "split('a,b,c', ',')", "splitAfter('a,b', ',')", "toBase64('hi')",
	"fromBase64('aGk=')", "trimPrefix('xab', 'x') + trimSuffix('abx', 'x')", "let x = shared.list; map(x, {len(x) + #})",
	"map(shared.list, {map(shared.list, {# + 1})})", "all(shared.list, {all(shared.list, {true})})",
	"sortBy(shared.words, len(#))", "map(groupBy(shared.words, len(#)), {len(#)})", "shared.missing ?? 'none'",
	"error.kind == '' ? 'ok' : 'bad'", "params.threshold + 1", "len(repeat('x', 100000))", "repeat('x', -1)",
	"reduce(1..31, #acc + #acc, 'a')", "join(map(1..100, 'x'), repeat('-', 1000))", "toJSON(shared.deep)",
	"sum(1..100)", "map(1..3, {# + 'a'})", "1 + 'a'", "concat([1], [2], [3])", "flatten(shared.deep)",
}

// exprEnv is the environment differential evaluations see.
func exprEnv() map[string]any {
	deep := any([]any{1})
	for range 16 {
		deep = []any{deep, deep}
	}
	return map[string]any{
		"result": echoResult{Value: 5, Attempt: 1},
		"shared": map[string]any{
			"list": []any{1, 2, 3, 4, 5}, "words": []any{"one", "two", "three"}, "map": map[string]any{"a": 1, "b": "x"},
			"name": "kg", "flags": []any{true, false, true}, "deep": deep,
		},
		"params":  map[string]any{"threshold": 3},
		"error":   &ErrorInfo{},
		"node":    "a",
		"attempt": 1,
	}
}

// evalBoth evaluates src as written and in its bounded form (under small limits). ok is
// false when src does not compile, or the bounded form reached a limit; a bounded form
// that cannot be compiled, or that fails differently, fails the test.
func evalBoth(t testing.TB, src string) (bounded, written any, ok bool) {
	env := exprEnv()
	check := checkEnv(echoResult{}, checkNames{})
	plain, err := expr.Compile(src, expr.Env(check))
	if err != nil {
		return nil, nil, false
	}
	bp := &boundPatcher{}
	prog, err := expr.Compile(src, append([]expr.Option{expr.Env(boundEnv(check))}, boundOptions(bp)...)...)
	if err != nil {
		t.Fatalf("%q compiles but its bounded form does not: %v", src, err)
	}
	var m exprVM
	m.begin(context.Background(), ExprLimits{Steps: 20_000, Bytes: 1 << 20})
	env[budgetName] = &m.budget
	m.budget.reset()
	bounded, berr := m.vm.Run(prog, env)
	var le *LimitError
	if errors.As(berr, &le) || (berr != nil && strings.Contains(berr.Error(), "memory budget exceeded")) {
		return nil, nil, false
	}
	written, werr := vm.Run(plain, env)
	if berr == nil && werr != nil && strings.Contains(werr.Error(), "memory budget exceeded") {
		// expr's own caps (a million copies in repeat, its default memory budget) stand in
		// for limits the bounded form enforces itself, in bytes: under those it may succeed.
		return nil, nil, false
	}
	if (berr == nil) != (werr == nil) {
		t.Fatalf("%q: bounded error %v, as written error %v", src, berr, werr)
	}
	if berr != nil || strings.Contains(src, "now") || strings.Contains(src, "date") {
		return nil, nil, false
	}
	// Walking a map (keys, toPairs...) gives its elements in a random order: an
	// expression whose written form changes from one evaluation to the next is not
	// compared; one that seldom does is compared with a value of the same order.
	if again, _ := vm.Run(plain, env); !sameResult(again, written) {
		return nil, nil, false
	}
	for range 20 {
		if sameResult(bounded, written) {
			break
		}
		written, _ = vm.Run(plain, env)
	}
	return bounded, written, true
}

// sameResult compares two expression results; printing is the fallback for NaN, which is not equal
// to itself (DeepEqual is cheap on shared sublists, printing is not).
func sameResult(a, b any) bool {
	return reflect.DeepEqual(a, b) || fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b)
}

// FuzzExprBounded compiles arbitrary expressions as written and bounded: every expression
// that compiles has a bounded form, that form never panics and ends within its limits,
// and where it ends without reaching them it gives the value the expression as written
// gives.
func FuzzExprBounded(f *testing.F) {
	for _, s := range boundedSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		bounded, written, ok := evalBoth(t, src)
		if ok && !sameResult(bounded, written) {
			t.Fatalf("%q: bounded %#v, as written %#v", src, bounded, written)
		}
	})
}
