package sketch

import (
	"hash/maphash"
	"math"
	"testing"
	"time"
)

func TestCountMinBound(t *testing.T) {
	seed := maphash.MakeSeed()
	cm := NewCountMin(0.001, 0.01)
	truth := map[uint64]uint64{}
	// Zipf-like: key i gets 10000/(i+1) units.
	for i := 0; i < 5000; i++ {
		h := maphash.Comparable(seed, i)
		n := uint64(10000 / (i + 1))
		if n == 0 {
			n = 1
		}
		cm.Add(h, n)
		truth[h] += n
	}
	bound, _ := cm.Bound()
	over := 0
	for h, n := range truth {
		e := cm.Estimate(h)
		if e < n {
			t.Fatalf("estimate %d below truth %d", e, n)
		}
		if float64(e-n) > bound {
			over++
		}
	}
	if over > len(truth)/100 {
		t.Errorf("%d of %d estimates beyond ε·N = %.0f (δ = 1%%)", over, len(truth), bound)
	}
}

func TestTopK(t *testing.T) {
	tk := NewTopK(3)
	for i, c := range []uint64{5, 1, 9, 3, 7, 2} {
		k := string(rune('a' + i))
		tk.Offer(uint64(i), c, func() string { return k })
	}
	got := tk.Items()
	if len(got) != 3 || got[0].Key != "c" || got[1].Key != "e" || got[2].Key != "a" {
		t.Fatalf("%+v", got)
	}
}

// mix is splitmix64: a deterministic hash so the estimates are too.
func mix(i int) uint64 {
	z := uint64(i) + 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func TestSlidingHLL(t *testing.T) {
	win := int64(time.Minute)
	s := NewSlidingHLL(7, 6, win)
	t0 := int64(1_700_000_000) * 1e9
	f := func(n int, at int64, wantLo, wantHi float64) {
		t.Helper()
		if e := s.Estimate(at); e < wantLo || e > wantHi {
			t.Errorf("after %d: estimate %.1f, want [%.0f, %.0f]", n, e, wantLo, wantHi)
		}
	}
	for i := 0; i < 30; i++ {
		s.Insert(mix(i), t0+int64(i)*int64(time.Second))
	}
	f(30, t0+30e9, 26, 34)
	for i := 0; i < 30; i++ { // duplicates do not count
		s.Insert(mix(i), t0+30e9)
	}
	f(30, t0+30e9, 26, 34)
	// Two minutes later the window is empty.
	f(0, t0+150e9, 0, 0)
	// A large set: within 3 standard errors.
	for i := 0; i < 5000; i++ {
		s.Insert(mix(i+1000), t0+200e9)
	}
	se := 1.04 / math.Sqrt(128)
	f(5000, t0+200e9, 5000*(1-3*se), 5000*(1+3*se))

	// Items one a second: half a minute later the older half has left.
	s.Reset()
	for i := 0; i < 60; i++ {
		s.Insert(mix(i+9000), t0+int64(i)*1e9)
	}
	f(60, t0+59e9, 50, 70)
	f(30, t0+89e9, 20, 40)
}

func BenchmarkCountMinAdd(b *testing.B) {
	cm := NewCountMin(0.001, 0.01)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		cm.Add(uint64(i)*0x9e3779b97f4a7c15, 1)
	}
}

func BenchmarkSlidingHLL(b *testing.B) {
	s := NewSlidingHLL(6, 6, int64(time.Minute))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Insert(uint64(i)*0x9e3779b97f4a7c15, int64(i)*1e6)
		_ = s.Estimate(int64(i) * 1e6)
	}
}
