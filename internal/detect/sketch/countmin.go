// Package sketch holds the small probabilistic summaries the network
// detectors keep per entity or per sensor: a count-min sketch with
// conservative update and a top-k list for heavy hitters, and a sliding
// HyperLogLog for distinct counts over a sliding window of event time.
// None is safe for concurrent use.
package sketch

import (
	"math"
)

// CountMin estimates per-key counts in fixed memory (Cormode and
// Muthukrishnan 2005). With width w = ⌈e/ε⌉ and depth d = ⌈ln 1/δ⌉, an
// estimate is never below the true count and exceeds it by more than ε·N
// (N = the total added) with probability at most δ. Updates are
// conservative (only the counters at the current minimum grow), which
// keeps the bound and makes the error much smaller in practice.
//
// Keys are 64-bit hashes (the caller hashes, e.g. with maphash); the d
// row indexes are derived by double hashing (Kirsch and Mitzenmacher).
type CountMin struct {
	w, d  uint64
	c     []uint64
	total uint64
	eps   float64
	delta float64
}

// NewCountMin returns a sketch with error ε (relative to the total) and
// failure probability δ. Memory is 8·⌈e/ε⌉·⌈ln 1/δ⌉ bytes (ε = 0.001,
// δ = 0.01: 109 KB).
func NewCountMin(eps, delta float64) *CountMin {
	if eps <= 0 || eps >= 1 || delta <= 0 || delta >= 1 {
		panic("BUG: sketch.NewCountMin: eps and delta must be in (0, 1)")
	}
	w := uint64(math.Ceil(math.E / eps))
	d := uint64(math.Ceil(math.Log(1 / delta)))
	return &CountMin{w: w, d: d, c: make([]uint64, w*d), eps: eps, delta: delta}
}

func (s *CountMin) index(h uint64, i uint64) uint64 {
	h2 := h>>32 | h<<32 | 1
	return i*s.w + (h+i*h2)%s.w
}

// Add adds n to key h and returns its new estimate.
func (s *CountMin) Add(h, n uint64) uint64 {
	s.total += n
	est := uint64(math.MaxUint64)
	for i := uint64(0); i < s.d; i++ {
		est = min(est, s.c[s.index(h, i)])
	}
	target := est + n
	for i := uint64(0); i < s.d; i++ {
		j := s.index(h, i)
		if s.c[j] < target {
			s.c[j] = target
		}
	}
	return target
}

// Estimate returns key h's estimate (≥ its true count).
func (s *CountMin) Estimate(h uint64) uint64 {
	est := uint64(math.MaxUint64)
	for i := uint64(0); i < s.d; i++ {
		est = min(est, s.c[s.index(h, i)])
	}
	return est
}

// Total is the sum of everything added (N).
func (s *CountMin) Total() uint64 { return s.total }

// Bound returns the additive error bound ε·N and the probability δ that an
// estimate exceeds the true count by more than it.
func (s *CountMin) Bound() (float64, float64) { return s.eps * float64(s.total), s.delta }

// Reset clears the sketch.
func (s *CountMin) Reset() {
	clear(s.c)
	s.total = 0
}

// TopK keeps the k keys with the largest estimates seen by Offer. Keys are
// strings the caller supplies with their hash.
type TopK struct {
	k     int
	items []Item
}

// Item is one key of a TopK.
type Item struct {
	Key   string
	Hash  uint64
	Count uint64
}

// NewTopK returns an empty top-k list.
func NewTopK(k int) *TopK { return &TopK{k: k, items: make([]Item, 0, k)} }

// Min is the smallest count that enters a full list (0 while not full).
func (t *TopK) Min() uint64 {
	if len(t.items) < t.k {
		return 0
	}
	m := t.items[0].Count
	for _, it := range t.items[1:] {
		m = min(m, it.Count)
	}
	return m
}

// Offer records key's current estimate. key is called only when the key
// enters the list (so a caller can format it lazily).
func (t *TopK) Offer(h, count uint64, key func() string) {
	mi := -1
	for i := range t.items {
		if t.items[i].Hash == h {
			t.items[i].Count = max(t.items[i].Count, count)
			return
		}
		if mi < 0 || t.items[i].Count < t.items[mi].Count {
			mi = i
		}
	}
	if len(t.items) < t.k {
		t.items = append(t.items, Item{Key: key(), Hash: h, Count: count})
		return
	}
	if count > t.items[mi].Count {
		t.items[mi] = Item{Key: key(), Hash: h, Count: count}
	}
}

// Items returns the list, largest first.
func (t *TopK) Items() []Item {
	out := append([]Item(nil), t.items...)
	for i := 1; i < len(out); i++ { // insertion sort: k is small
		for j := i; j > 0 && out[j].Count > out[j-1].Count; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Reset empties the list.
func (t *TopK) Reset() { t.items = t.items[:0] }
