package outlier

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// TestStateAgainstBruteForce checks every incrementally maintained
// statistic against a direct computation on the same windows.
func TestStateAgainstBruteForce(t *testing.T) {
	c := DefaultConfig()
	c.Window, c.Recent, c.Stride = 40, 6, 1
	st := newState(c)
	r := rand.New(rand.NewPCG(3, 4))
	var hist []float64
	t0 := time.Unix(0, 0)
	for i := 0; i < 500; i++ {
		x := 1e6 + r.NormFloat64()*10 + float64(i%7)
		if i%50 == 0 {
			x += 500
		}
		if i%3 == 0 && i > 0 {
			x = hist[len(hist)-1] // ties
		}
		st.push(t0.Add(time.Duration(i)*time.Minute), x)
		hist = append(hist, x)
		n := len(hist)
		win := hist[max(0, n-c.Window):]
		ref := append([]float64(nil), hist[max(0, n-c.Window-c.Recent):max(0, n-c.Recent)]...)
		sort.Float64s(ref)
		if len(ref) != len(st.ref) {
			t.Fatalf("i=%d ref len %d want %d", i, len(st.ref), len(ref))
		}
		for k := range ref {
			if ref[k] != st.ref[k] {
				t.Fatalf("i=%d ref differs", i)
			}
		}
		mean, sd := meanStd(win)
		gm, gsd := st.WinMeanStd()
		near(t, i, "mean", gm, mean, 1e-6)
		near(t, i, "sd", gsd, sd, 1e-4)
		if len(ref) > 0 {
			med, mad := st.MedianMAD()
			wm, wmad := medianMAD(ref)
			near(t, i, "median", med, wm, 0)
			near(t, i, "mad", mad, wmad, 1e-9)
		}
		if len(win) >= 3 {
			next, resid, _ := st.LinearFit()
			wn, wr := linfit(win)
			near(t, i, "ls next", next, wn, 1e-4)
			near(t, i, "ls resid", resid, wr, 1e-3)
		}
		for k := 1; k <= arOrder && k < len(win); k++ {
			var want float64
			for j := k; j < len(win); j++ {
				want += (win[j] - mean) * (win[j-k] - mean)
			}
			want /= float64(len(win))
			near(t, i, "autocov", st.Autocov(k), want, 1e-6*sd*sd+1e-3)
		}
	}
}

func near(t *testing.T, i int, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Fatalf("i=%d %s = %v, want %v", i, what, got, want)
	}
}

func meanStd(a []float64) (float64, float64) {
	var s float64
	for _, x := range a {
		s += x
	}
	m := s / float64(len(a))
	var v float64
	for _, x := range a {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(a)))
}

func medianMAD(sorted []float64) (float64, float64) {
	med := median(sorted)
	dev := make([]float64, len(sorted))
	for i, x := range sorted {
		dev[i] = math.Abs(x - med)
	}
	sort.Float64s(dev)
	return med, median(dev)
}

func median(a []float64) float64 {
	n := len(a)
	if n%2 == 1 {
		return a[n/2]
	}
	return (a[n/2-1] + a[n/2]) / 2
}

func linfit(y []float64) (next, resid float64) {
	n := float64(len(y))
	var sx, sy, sxx, sxy float64
	for i, v := range y {
		x := float64(i)
		sx += x
		sy += v
		sxx += x * x
		sxy += x * v
	}
	b := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	a := (sy - b*sx) / n
	var sse float64
	for i, v := range y {
		e := v - (a + b*float64(i))
		sse += e * e
	}
	return a + b*n, math.Sqrt(sse / (n - 2))
}

func TestKSAndKolmogorov(t *testing.T) {
	a := []float64{1, 2, 3, 4}
	b := []float64{1, 2, 3, 4}
	if d := ksStatSorted(a, b); d != 0 {
		t.Fatalf("identical samples: D = %v", d)
	}
	if d := ksStatSorted([]float64{10, 11}, b); d != 1 {
		t.Fatalf("disjoint samples: D = %v", d)
	}
	// Brute force on random samples with ties.
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 200; trial++ {
		x := make([]float64, 1+r.IntN(12))
		y := make([]float64, 1+r.IntN(60))
		for i := range x {
			x[i] = float64(r.IntN(10))
		}
		for i := range y {
			y[i] = float64(r.IntN(12))
		}
		sort.Float64s(x)
		sort.Float64s(y)
		want := 0.0
		for v := -1.0; v <= 12; v += 0.5 {
			fx := float64(upper(x, v)) / float64(len(x))
			fy := float64(upper(y, v)) / float64(len(y))
			want = math.Max(want, math.Abs(fx-fy))
		}
		if got := ksStatSorted(x, y); math.Abs(got-want) > 1e-12 {
			t.Fatalf("D = %v, want %v (x=%v y=%v)", got, want, x, y)
		}
	}
}

func TestYesterdayHour(t *testing.T) {
	c := DefaultConfig()
	c.Window = 32
	st := newState(c)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []float64
	for i := 0; i < 2*288; i++ { // two days at 5 minutes
		ts := t0.Add(time.Duration(i) * 5 * time.Minute)
		x := 1000 + float64(i%288) + float64(i/288)*7
		if ts.Hour() == 3 && i < 288 {
			want = append(want, x)
		}
		st.push(ts, x)
	}
	m, sd, n := st.YesterdayHour(t0.Add(24*time.Hour + 3*time.Hour + 10*time.Minute))
	em, esd := meanStd(want)
	if n != 12 || math.Abs(m-em) > 1e-6 || math.Abs(sd-esd) > 1e-6 {
		t.Fatalf("yesterday hour 3: mean %v sd %v n %d, want %v %v 12", m, sd, n, em, esd)
	}
	if _, _, n := st.YesterdayHour(t0.Add(5 * 24 * time.Hour)); n != 0 {
		t.Fatalf("a day without data: n %d", n)
	}
}
