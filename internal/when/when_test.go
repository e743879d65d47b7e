package when

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"2026-01-02T15:04:05Z", time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), false},
		{"2026-01-02T15:04", time.Date(2026, 1, 2, 15, 4, 0, 0, time.UTC), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"1.5d", now.Add(-36 * time.Hour), false},
		{"-2h", time.Time{}, true},
		{"yesterday", time.Time{}, true},
		{"xd", time.Time{}, true},
	} {
		got, err := Parse(c.in, now)
		if (err != nil) != c.bad || !got.Equal(c.want) {
			t.Errorf("Parse(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "2h", "7d", "2026-01-02T15:04:05Z", "2026-01-02T15:04", "1e300d"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s, now)
		if err == nil && s != "" && got.IsZero() {
			t.Fatalf("Parse(%q) gave the zero time without an error", s)
		}
		if d, err := ParseAge(s); err == nil && d < 0 {
			t.Fatalf("ParseAge(%q) = %v, a negative age", s, d)
		}
	})
}
