package schema

import "testing"

// referenceDistance is the edit distance computed plainly: Levenshtein's, with an
// adjacent transposition counting as one edit.
func referenceDistance(a, b string) int {
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

func checkDistance(t *testing.T, a, b string) {
	t.Helper()
	want := referenceDistance(a, b)
	var ed editor
	for bound := 0; bound <= want+2; bound++ {
		got := ed.distance(a, b, bound)
		if want <= bound && got != want || want > bound && got <= bound {
			t.Fatalf("distance(%q, %q, bound %d) = %d, the distance is %d", a, b, bound, got, want)
		}
	}
}

func TestEditorDistance(t *testing.T) {
	pairs := [][2]string{{"", ""}, {"", "abc"}, {"abc", ""}, {"retry", "rerty"}, {"timeout", "timeuot"}, {"fetch", "fetch"},
		{"n123", "m124"}, {"abcdef", "badcfe"}, {"kitten", "sitting"}, {"ca", "abc"}, {"héllo", "hello"}, {"ab", "ba"},
		{"a_very_long_node_name_indeed", "a_vrey_long_nodename_indeed"}, {"xyz", "abcdefgh"}}
	for _, p := range pairs {
		checkDistance(t, p[0], p[1])
		checkDistance(t, p[1], p[0])
	}
	long := string(make([]byte, 300))
	checkDistance(t, long, long[:290]+"abcdefghij")
}

func FuzzEditorDistance(f *testing.F) {
	f.Add("retry", "rerty")
	f.Add("n1", "n12")
	f.Add("héllo", "hlelo")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 200 || len(b) > 200 {
			return
		}
		checkDistance(t, a, b)
	})
}
