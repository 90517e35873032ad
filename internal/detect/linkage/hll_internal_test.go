package linkage

import (
	"math/rand/v2"
	"net/netip"
	"testing"

	"winnow/internal/stablehash"
)

func TestDayHLLAccuracy(t *testing.T) {
	for _, n := range []int{10, 100, 1000, 3000, 20000} {
		var worst float64
		for seed := range 20 {
			h := newDayHLL(30)
			r := rand.New(rand.NewPCG(uint64(seed), 1))
			for i := range n {
				_ = i
				h.insert(r.Uint64(), int32(5+i%3))
			}
			e := h.estimate(7, 3)
			worst = max(worst, abs(e-float64(n))/float64(n))
		}
		h := newDayHLL(30)
		for i := range n {
			a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			h.insert(stablehash.Sum64(0x11a6e, a.String()), 5)
		}
		t.Logf("n=%d worst relative error over 20 seeds %.3f; IP strings %.0f", n, worst, h.estimate(5, 1))
		if worst > 0.35 {
			t.Errorf("n=%d: worst relative error %.3f over 20 seeds, want ≤ 0.35 (4σ of 9 %%)", n, worst)
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
