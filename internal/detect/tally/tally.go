// Package tally holds the small counting structures the detector families
// share: a bounded set of keys with a count each, and ranked lists of
// counts for evidence.
package tally

// Counted is a set of keys with a count each, cheap for the common case
// of a few keys (kept inline, no allocation) and bounded for the
// attacker's case (a map up to a cap; keys beyond it are counted in the
// distinct total but not kept). The zero value is an empty set.
type Counted[K comparable] struct {
	few  [4]K
	fewN [4]int32
	n    uint8
	more map[K]int32
	over int32
}

// Add counts k (by is added to its count) and reports whether k is new.
// At most max distinct keys are kept.
func (c *Counted[K]) Add(k K, by int32, max int) bool {
	for i := 0; i < int(c.n); i++ {
		if c.few[i] == k {
			c.fewN[i] += by
			return false
		}
	}
	if c.n < uint8(len(c.few)) {
		c.few[c.n], c.fewN[c.n] = k, by
		c.n++
		return true
	}
	if _, ok := c.more[k]; ok {
		c.more[k] += by
		return false
	}
	if len(c.more)+len(c.few) >= max {
		c.over++
		return true
	}
	if c.more == nil {
		c.more = make(map[K]int32, 8)
	}
	c.more[k] = by
	return true
}

// Reset sets k's count to zero if k is kept.
func (c *Counted[K]) Reset(k K) {
	for i := 0; i < int(c.n); i++ {
		if c.few[i] == k {
			c.fewN[i] = 0
			return
		}
	}
	if _, ok := c.more[k]; ok {
		c.more[k] = 0
	}
}

// Get returns k's count.
func (c *Counted[K]) Get(k K) int32 {
	for i := 0; i < int(c.n); i++ {
		if c.few[i] == k {
			return c.fewN[i]
		}
	}
	return c.more[k]
}

// Distinct is how many distinct keys were added (including those beyond
// the cap).
func (c *Counted[K]) Distinct() int { return int(c.n) + len(c.more) + int(c.over) }

// Each visits the kept keys (inline ones first, then the map in no order).
func (c *Counted[K]) Each(fn func(k K, n int32)) {
	for i := 0; i < int(c.n); i++ {
		fn(c.few[i], c.fewN[i])
	}
	for k, n := range c.more {
		fn(k, n)
	}
}

// KV is a key with its count, for ranked evidence lists.
type KV struct {
	Key   string `json:"name"`
	Count int32  `json:"count"`
}

// Top returns the n keys with the highest counts (ties by key), rendered
// with str. It keeps only the best n while it scans, so a large set costs
// one pass and n renderings, not a sort of every key.
func Top[K comparable](c *Counted[K], n int, str func(K) string) []KV {
	type cand struct {
		k K
		s string
		n int32
	}
	if n <= 0 {
		return nil
	}
	best := make([]cand, 0, min(n, c.Distinct()))
	c.Each(func(k K, v int32) {
		if len(best) == n && v < best[n-1].n {
			return // the common case under a flood: no rendering at all
		}
		ks := str(k)
		// Insertion position: after every entry that ranks above (k, v).
		i := len(best)
		for i > 0 && (best[i-1].n < v || (best[i-1].n == v && best[i-1].s > ks)) {
			i--
		}
		if i == n {
			return
		}
		if len(best) < n {
			best = append(best, cand{})
		}
		copy(best[i+1:], best[i:len(best)-1])
		best[i] = cand{k, ks, v}
	})
	out := make([]KV, len(best))
	for i, b := range best {
		out[i] = KV{b.s, b.n}
	}
	return out
}

// TopFunc is Top with ties broken by cmp on the keys themselves, so that
// only the n keys returned are rendered (for keys whose rendering costs,
// such as addresses).
func TopFunc[K comparable](c *Counted[K], n int, cmp func(a, b K) int, str func(K) string) []KV {
	type cand struct {
		k K
		n int32
	}
	if n <= 0 {
		return nil
	}
	best := make([]cand, 0, min(n, c.Distinct()))
	c.Each(func(k K, v int32) {
		if len(best) == n && v < best[n-1].n {
			return
		}
		i := len(best)
		for i > 0 && (best[i-1].n < v || (best[i-1].n == v && cmp(best[i-1].k, k) > 0)) {
			i--
		}
		if i == n {
			return
		}
		if len(best) < n {
			best = append(best, cand{})
		}
		copy(best[i+1:], best[i:len(best)-1])
		best[i] = cand{k, v}
	})
	out := make([]KV, len(best))
	for i, b := range best {
		out[i] = KV{str(b.k), b.n}
	}
	return out
}

// Names returns the keys of l.
func Names(l []KV) []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.Key
	}
	return out
}
