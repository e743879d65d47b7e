package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Fingerprint describes the parts of a compiled graph that decide where a run goes:
// the start, the error handler, and each node's name, type, edges, guards, fallback and
// hooks. A run journaled under one fingerprint can be resumed only under the same one.
// Params, policies, breakers, scenarios and tests are left out: changing them (raising
// retry attempts before a redrive, say) keeps a run resumable.
type Fingerprint struct {
	// Hash is a hex SHA-256 of Lines.
	Hash string
	// Lines are the canonical description, one fact per line, so that two fingerprints
	// can be compared line by line to say what changed.
	Lines []string
}

// Fingerprint returns the graph's fingerprint.
func (g *Graph) Fingerprint() Fingerprint {
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	add("start %s", g.start.name)
	if g.errorHandler != nil {
		add("error_handler %s", g.errorHandler.name)
	}
	nodes := slices.Clone(g.nodes)
	slices.SortFunc(nodes, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	for _, n := range nodes {
		add("node %s: type %s", n.name, n.typ.Name)
		actions := make([]string, 0, len(n.routes))
		for a := range n.routes {
			actions = append(actions, a)
		}
		slices.Sort(actions)
		for _, a := range actions {
			for _, e := range n.routes[a] {
				if e.guard != nil {
					add("node %s: on %s when %q → %s", n.name, a, e.guard.src, e.to.name)
				} else {
					add("node %s: on %s → %s", n.name, a, e.to.name)
				}
			}
		}
		if n.fallback != nil {
			add("node %s: fallback → %s", n.name, n.fallback.name)
		}
		for _, hs := range [][]*hook{n.beforePrep, n.afterExec, n.onError} {
			for _, h := range hs {
				add("node %s: hook %s", n.name, h.describe())
			}
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return Fingerprint{Hash: hex.EncodeToString(sum[:]), Lines: lines}
}

func (h *hook) describe() string {
	var b strings.Builder
	b.WriteString(h.label)
	for _, p := range []struct {
		word string
		prog *program
	}{{"when", h.when}, {"assert", h.assert}} {
		if p.prog != nil {
			fmt.Fprintf(&b, " %s %q", p.word, p.prog.src)
		}
	}
	for _, s := range h.set {
		fmt.Fprintf(&b, " set %s = %q", s.key, s.value.src)
	}
	if h.action != "" {
		fmt.Fprintf(&b, " → %s", h.action)
	}
	return b.String()
}

// Diff says how other differs from f: the first line that one has and the other lacks.
// When both hold the same lines in another order, it says so; "" means no difference.
func (f Fingerprint) Diff(other Fingerprint) string {
	have := make(map[string]bool, len(other.Lines))
	for _, l := range other.Lines {
		have[l] = true
	}
	for _, l := range f.Lines {
		if !have[l] {
			return "no longer has: " + l
		}
	}
	old := make(map[string]bool, len(f.Lines))
	for _, l := range f.Lines {
		old[l] = true
	}
	for _, l := range other.Lines {
		if !old[l] {
			return "now has: " + l
		}
	}
	if f.Hash != other.Hash {
		return "the order of guarded edges or hooks changed"
	}
	return ""
}
