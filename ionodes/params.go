package ionodes

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/kgrun/kgrun/engine"
)

// getter reads a param: the node's own, then the run's (engine.Visit.Param).
type getter func(key string) (any, bool)

// paramErr is a param that cannot be used: bad input, never retried.
func paramErr(format string, args ...any) error {
	return engine.WithKind(engine.Data, fmt.Errorf(format, args...))
}

func str(get getter, key, def string) (string, error) {
	v, ok := get(key)
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", paramErr("param %s must be a string, not %v (%T)", key, v, v)
	}
	return s, nil
}

func integer(get getter, key string, def, lo, hi int64) (int64, error) {
	v, ok := get(key)
	if !ok || v == nil {
		return def, nil
	}
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, paramErr("param %s must be a whole number, not %v", key, x)
		}
		n = int64(x)
	default:
		return 0, paramErr("param %s must be a whole number, not %v (%T)", key, v, v)
	}
	if n < lo || n > hi {
		return 0, paramErr("param %s must be between %d and %d, not %d", key, lo, hi, n)
	}
	return n, nil
}

func duration(get getter, key string, def time.Duration) (time.Duration, error) {
	s, err := str(get, key, "")
	if err != nil || s == "" {
		return def, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, paramErr("param %s must be a duration with a unit (500ms, 5s), not %q", key, s)
	}
	return d, nil
}

func stringList(get getter, key string) ([]string, error) {
	v, ok := get(key)
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, paramErr("param %s must be a list of strings", key)
	}
	out := make([]string, len(list))
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, paramErr("param %s: element %d must be a string, not %v (%T)", key, i, x, x)
		}
		out[i] = s
	}
	return out, nil
}

// stringMap reads a mapping of names to scalars, rendered as text, in sorted key order.
func stringMap(get getter, key string) ([][2]string, error) {
	v, ok := get(key)
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, paramErr("param %s must be a mapping of names to values", key)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(m))
	for _, k := range keys {
		switch x := m[k].(type) {
		case string, int, int64, float64, bool:
			out = append(out, [2]string{k, fmt.Sprint(x)})
		default:
			return nil, paramErr("param %s: %s must be a string or a number, not %T", key, k, m[k])
		}
	}
	return out, nil
}
