package sketch

import (
	"math"
	"math/bits"
)

// SlidingHLL estimates how many distinct items were inserted during the
// last Window of event time. It is a HyperLogLog (Flajolet et al. 2007)
// whose registers are kept per bucket of Window/B: the estimate for the
// window takes, per register, the maximum over the buckets still inside
// it — the bucketed form of the sliding HyperLogLog (Chabchoub and
// Hébrail 2010), exact in which items count and coarse only in time (an
// item leaves the window within one bucket of its age reaching Window).
//
// m = 2^p registers of one byte per bucket: memory is B·m bytes. With
// p = 6 (64 registers) the standard error is 1.04/√m ≈ 13% for large
// counts, and small counts (up to ≈ 2.5m = 160) use linear counting,
// which is far tighter (a few percent): that is the range where scan
// thresholds sit, and it keeps per-source state to a few hundred bytes,
// which matters when every source of a flood gets one.
type SlidingHLL struct {
	p      uint8
	m      int
	width  int64   // bucket width, ns
	epochs []int64 // bucket i holds epoch epochs[i] (time/width), -1 = empty
	regs   []uint8 // B·m registers
	tmp    []uint8 // m registers: the window's maxima (scratch)
}

// NewSlidingHLL returns a sketch with 2^p registers (4 ≤ p ≤ 16) over
// window split into buckets.
func NewSlidingHLL(p uint8, buckets int, window int64) *SlidingHLL {
	if p < 4 || p > 16 || buckets < 1 || window < int64(buckets) {
		panic("BUG: sketch.NewSlidingHLL: bad parameters")
	}
	s := &SlidingHLL{p: p, m: 1 << p, width: window / int64(buckets)}
	s.epochs = make([]int64, buckets)
	for i := range s.epochs {
		s.epochs[i] = -1
	}
	s.regs = make([]uint8, buckets*s.m)
	s.tmp = make([]uint8, s.m)
	return s
}

// Bytes is the sketch's memory in bytes (approximately).
func (s *SlidingHLL) Bytes() int { return len(s.regs) + len(s.tmp) + 8*len(s.epochs) + 72 }

// Insert adds an item, given as a 64-bit hash, at event time t (unix ns).
func (s *SlidingHLL) Insert(h uint64, t int64) {
	e := t / s.width
	b := int(e % int64(len(s.epochs)))
	if b < 0 {
		b += len(s.epochs)
	}
	if s.epochs[b] != e {
		if s.epochs[b] > e {
			return // older than the window kept
		}
		s.epochs[b] = e
		clear(s.regs[b*s.m : (b+1)*s.m])
	}
	j := h >> (64 - s.p)
	w := h<<s.p | 1<<(s.p-1)
	r := uint8(bits.LeadingZeros64(w)) + 1
	if i := b*s.m + int(j); s.regs[i] < r {
		s.regs[i] = r
	}
}

// Estimate returns the number of distinct items inserted in the window
// ending at t.
func (s *SlidingHLL) Estimate(t int64) float64 {
	e := t / s.width
	oldest := e - int64(len(s.epochs)) + 1
	w := s.tmp
	live := 0
	for b, be := range s.epochs {
		if be < oldest || be > e {
			continue
		}
		r := s.regs[b*s.m : (b+1)*s.m]
		if live == 0 {
			copy(w, r)
		} else {
			for j, v := range r {
				w[j] = max(w[j], v)
			}
		}
		live++
	}
	if live == 0 {
		return 0
	}
	var sum float64
	zeros := 0
	for _, r := range w {
		if r == 0 {
			zeros++
		}
		sum += math.Float64frombits(uint64(1023-int(r)) << 52) // 2^-r
	}
	m := float64(s.m)
	est := alpha(s.m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		return m * math.Log(m/float64(zeros))
	}
	return est
}

func alpha(m int) float64 {
	switch m {
	case 16:
		return 0.673
	case 32:
		return 0.697
	case 64:
		return 0.709
	}
	return 0.7213 / (1 + 1.079/float64(m))
}

// Reset empties the sketch.
func (s *SlidingHLL) Reset() {
	for i := range s.epochs {
		s.epochs[i] = -1
	}
	clear(s.regs)
}
