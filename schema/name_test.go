package schema

import (
	"regexp"
	"testing"
)

// isName must accept exactly what the documented pattern accepts.
func TestIsNameMatchesPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	cases := []string{"", "a", "A", "_", "a1", "1a", "a.b-c_d", ".a", "-a", "a b", "a\n", "\na", "é", "aé", "a/b", "a:b", "__", "Z9.-",
		"fetch_user", "n10000", "a\x00", "a$", "a*"}
	for _, s := range cases {
		if got, want := isName(s), pattern.MatchString(s); got != want {
			t.Errorf("isName(%q) = %v, the pattern says %v", s, got, want)
		}
	}
}

func FuzzIsName(f *testing.F) {
	pattern := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	for _, s := range []string{"a", "1", "a.b", "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isName(s), pattern.MatchString(s); got != want {
			t.Errorf("isName(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
