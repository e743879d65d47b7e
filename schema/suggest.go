package schema

import "fmt"

// Suggest returns the candidate closest to name by edit distance, or "" when none is
// close enough to be a plausible typo (at most a third of the name's length, and at
// least one edit).
func Suggest(name string, candidates []string) string {
	if len(name) > maxSuggestLen {
		return "" // no typo is that long, and edit distance is quadratic in length
	}
	best, bestDist := "", -1
	limit := max(1, len(name)/3)
	var ed editor
	a := runes(ed.ra[:0], name)
	for _, c := range candidates {
		if diff := len(name) - len(c); diff > limit || -diff > limit {
			continue
		}
		// A candidate farther than the best so far cannot win, so its distance is
		// only needed up to there.
		bound := limit
		if bestDist >= 0 {
			bound = min(bound, bestDist)
		}
		d := ed.to(a, c, bound)
		if d > limit {
			continue
		}
		if bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	return best
}

// maxSuggestLen bounds the names Suggest considers.
const maxSuggestLen = 64

// DidYouMean formats a suggestion for a diagnostic's detail, or returns "" when there is
// no plausible candidate.
func DidYouMean(name string, candidates []string) string {
	if s := Suggest(name, candidates); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return ""
}

// editor computes edit distances (Levenshtein's, counting an adjacent transposition as
// one edit, the commonest typo) in buffers of its own, so that comparing a name with
// many candidates allocates nothing for names of ordinary length.
type editor struct {
	ra, rb           [editorLen]rune
	prev2, prev, cur [editorLen + 1]int
}

const editorLen = 2 * maxSuggestLen

// distance is the edit distance between a and b when that is at most bound, and some
// number above bound otherwise.
func (ed *editor) distance(a, b string, bound int) int {
	return ed.to(runes(ed.ra[:0], a), b, bound)
}

// to is distance from a name already in runes.
func (ed *editor) to(ra []rune, b string, bound int) int {
	rb := runes(ed.rb[:0], b)
	n := len(rb) + 1
	prev2, prev, cur := ed.prev2[:], ed.prev[:], ed.cur[:]
	if n > len(cur) {
		prev2, prev, cur = make([]int, n), make([]int, n), make([]int, n)
	}
	prev2, prev, cur = prev2[:n], prev[:n], cur[:n]
	for j := range prev {
		prev[j] = j
	}
	prevMin := 0 // the smallest value of the row before prev, or 0 for none
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		// A row's values are at least the smaller of the row above's smallest and the
		// smallest two rows up plus one (a transposition): once both are past bound,
		// so is every later row, the result included.
		if rowMin > bound && prevMin >= bound {
			return bound + 1
		}
		prevMin = rowMin
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// runes appends s's runes to buf.
func runes(buf []rune, s string) []rune {
	for _, r := range s {
		buf = append(buf, r)
	}
	return buf
}
