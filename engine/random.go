package engine

import (
	"hash/fnv"
	"math/rand/v2"
)

// Random streams are derived from (seed, node, visit, attempt, purpose), so a node's draws
// do not shift when another node changes or draws more, and a fault decision never
// consumes numbers that the node's own exec would have seen.
const (
	streamExec uint64 = iota + 1
	streamFault
	streamJitter
	streamVisit
	streamRunFault
)

// stream is a reusable random source: reseeding it costs no allocation.
type stream struct {
	pcg rand.PCG
	r   rand.Rand
}

func newStream() *stream {
	s := &stream{}
	s.init()
	return s
}

// init points the stream's generator at its own source. A stream inside another struct
// is initialised in place, so a run's streams cost no allocation of their own; it must
// not be copied afterwards.
func (s *stream) init() { s.r = *rand.New(&s.pcg) }

// at reseeds the stream for one (node, visit, attempt, purpose) and returns it.
func (s *stream) at(seed int64, nodeHash uint64, visit, attempt int, purpose uint64) *rand.Rand {
	a := mix(uint64(seed) ^ mix(nodeHash))
	b := mix(a ^ uint64(visit)<<32 ^ uint64(attempt)<<8 ^ purpose)
	s.pcg.Seed(a, b)
	return &s.r
}

// hashName gives each node name a stable 64-bit identity for stream derivation.
func hashName(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// mix is the splitmix64 finaliser: it spreads nearby inputs across the whole range.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
