package schema

import "strings"

// Names of nodes, breakers, scenarios and actions, and the paths that name a node inside
// a body.

// isName reports whether s is a name: it matches ^[A-Za-z_][A-Za-z0-9_.-]*$.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// isPath reports whether s is a node's path: names joined by "/" (fan/fetch,
// both/left/call), as a scenario names a node inside a body.
func isPath(s string) bool {
	for part := range strings.SplitSeq(s, "/") {
		if !isName(part) {
			return false
		}
	}
	return true
}

// pathProbe is a path that only isPath accepts, to tell which check an entry uses.
const pathProbe = "a/b"
