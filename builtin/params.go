package builtin

import (
	"fmt"
	"math"
)

// getter reads a parameter (engine.Visit.Param and engine.Attempt.Param both fit).
type getter func(key string) (any, bool)

func intParam(get getter, key string, def, min, max int) (int, error) {
	v, ok := get(key)
	if !ok || v == nil {
		return def, nil
	}
	var n int
	switch x := v.(type) {
	case int:
		n = x
	case int64:
		n = int(x)
	case float64:
		if x != math.Trunc(x) {
			return 0, fmt.Errorf("param %s must be a whole number, not %v", key, x)
		}
		n = int(x)
	default:
		return 0, fmt.Errorf("param %s must be a whole number, not %v (%T)", key, v, v)
	}
	if n < min || n > max {
		return 0, fmt.Errorf("param %s must be between %d and %d, not %d", key, min, max, n)
	}
	return n, nil
}

func floatParam(get getter, key string, def, min, max float64) (float64, error) {
	v, ok := get(key)
	if !ok || v == nil {
		return def, nil
	}
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case float64:
		f = x
	default:
		return 0, fmt.Errorf("param %s must be a number, not %v (%T)", key, v, v)
	}
	if f < min || f > max || math.IsNaN(f) {
		return 0, fmt.Errorf("param %s must be between %g and %g, not %g", key, min, max, f)
	}
	return f, nil
}

func stringParam(get getter, key, def string) (string, error) {
	v, ok := get(key)
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("param %s must be a string, not %v (%T)", key, v, v)
	}
	return s, nil
}

// mapGetter reads from a node's own params at construction time.
func mapGetter(m map[string]any) getter {
	return func(key string) (any, bool) {
		v, ok := m[key]
		return v, ok
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
