// Package when reads the points in time and ages people give to filter runs: the same
// forms on the command line (kgrun runs --since) and in the web UI's filters.
package when

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Parse reads a point in time: RFC 3339, a local-less "2006-01-02T15:04" (as an HTML
// datetime field sends it, read as UTC), or an age before now such as 90m or 7d. An
// empty v is the zero time.
func Parse(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02T15:04", v); err == nil {
		return t, nil
	}
	d, err := ParseAge(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time such as 2026-01-02T15:04:05Z or an age such as 2h or 7d, not %q", v)
	}
	return now.Add(-d), nil
}

// ParseAge reads a duration as Go writes them, with d for days as well.
func ParseAge(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || !(n >= 0 && n*24*float64(time.Hour) < math.MaxInt64) {
			return 0, fmt.Errorf("bad age %q", v)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad age %q", v)
	}
	return d, nil
}
