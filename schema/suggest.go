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
	for _, c := range candidates {
		if diff := len(name) - len(c); diff > limit || -diff > limit {
			continue
		}
		d := editDistance(name, c)
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

// editDistance is the Levenshtein distance between a and b, counting an adjacent
// transposition as one edit (the commonest typo).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
