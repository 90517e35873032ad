package linkage

import (
	"math"
	"math/bits"
)

// dayHLL counts distinct values per day over the last `days` days: one
// small HyperLogLog (2^p one-byte registers) per day in a ring; the count
// over the last k days takes, per register, the maximum over those days.
// With p = 7 (128 registers) the standard error is ≈ 9 % for large counts
// and small counts use linear counting (a few percent); memory is
// days × 128 bytes (3.8 KB for 30 days) — used only for entities whose
// values outgrow the exact set.
type dayHLL struct {
	day  []int32 // ring: the day each slot holds (-1 = empty)
	regs []uint8
	tmp  [hllM]uint8
}

const (
	hllP = 7
	hllM = 1 << hllP
)

func newDayHLL(days int) *dayHLL {
	h := &dayHLL{day: make([]int32, days), regs: make([]uint8, days*hllM)}
	for i := range h.day {
		h.day[i] = -1
	}
	return h
}

func (h *dayHLL) insert(x uint64, day int32) {
	n := int32(len(h.day))
	b := int(day % n)
	if b < 0 {
		b += int(n)
	}
	if h.day[b] != day {
		if h.day[b] > day {
			return // older than the ring
		}
		h.day[b] = day
		clear(h.regs[b*hllM : (b+1)*hllM])
	}
	j := x >> (64 - hllP)
	w := x<<hllP | 1<<(hllP-1)
	r := uint8(bits.LeadingZeros64(w)) + 1
	if i := b*hllM + int(j); h.regs[i] < r {
		h.regs[i] = r
	}
}

// estimate counts the distinct values of days (today−k, today].
func (h *dayHLL) estimate(today int32, k int) float64 {
	w := h.tmp[:]
	clear(w)
	live := false
	for b, d := range h.day {
		if d < 0 || d > today || d <= today-int32(k) {
			continue
		}
		for j, v := range h.regs[b*hllM : (b+1)*hllM] {
			w[j] = max(w[j], v)
		}
		live = true
	}
	if !live {
		return 0
	}
	sum, zeros := 0.0, 0
	for _, r := range w {
		if r == 0 {
			zeros++
		}
		sum += math.Ldexp(1, -int(r))
	}
	m := float64(hllM)
	est := 0.7213 / (1 + 1.079/m) * m * m / sum
	if est <= 2.5*m && zeros > 0 {
		return m * math.Log(m/float64(zeros))
	}
	return est
}
