package outlier

import (
	"math"
	"time"

	"winnow/internal/detect/stattest"
)

// State is what the ensemble knows about one series before the current
// point: rings of recent values and incrementally maintained statistics
// that several detectors share, so each statistic is computed once per
// point. Detectors read it in Score and never modify it; the ensemble
// pushes each point after every detector has scored it.
//
// Windows (n = points seen so far, all counts in points):
//
//	ref:    the Window points before the Recent most recent ones (kept sorted)
//	recent: the Recent most recent points
//	win:    the Window most recent points (ref's newest Window−Recent and recent)
//
// Memory: (Window+Recent+Window+Recent)·8 bytes for the ring and the two
// sorted windows, plus two days of hourly sums (≈ 1 KB); the rest is O(1).
type State struct {
	cfg Config
	n   int // points pushed

	ring []float64 // last Window+Recent values, ring[(head-1)%len] newest
	head int

	ref     []float64 // sorted values of the reference window
	recentS []float64 // sorted values of the recent window (for KS)

	// Sliding sums over win (the last Window values), offset by base to
	// limit cancellation; Sxy weighs each value by its position 0..len-1
	// (oldest 0).
	base                  float64
	sy, syy, sxy          float64
	lag                   [arOrder + 1]float64 // lag[k] = Σ y_t·y_{t−k} over pairs in win (k ≥ 1)
	sinceRecalc           int
	tail                  [3]float64 // last three values, tail[0] newest
	lastT                 time.Time
	medianCache           float64
	madCache              float64
	madAt                 int // n at which the cache was computed (−1: never)
	ksD, ksP              float64
	hours                 [2]dayHours // this day's and the previous day's hourly sums
	hist                  [histBins]int32
	histLo, histHi, histW float64
	histAt                int
	ksAt                  int
	minSeen               float64
	maxSeen               float64
	ewMean, ewVar         float64 // fast exponentially weighted mean and variance
}

func newState(c Config) *State {
	s := &State{cfg: c, madAt: -1, ksAt: -1, histAt: -1}
	s.ring = make([]float64, c.Window+c.Recent)
	s.ref = make([]float64, 0, c.Window)
	s.recentS = make([]float64, 0, c.Recent)
	return s
}

// Reset forgets every point but keeps the buffers.
func (s *State) Reset() {
	c := s.cfg
	ring, ref, rec := s.ring, s.ref[:0], s.recentS[:0]
	clear(ring)
	*s = State{cfg: c, ring: ring, ref: ref, recentS: rec, madAt: -1, ksAt: -1, histAt: -1}
}

// N is the number of points seen before the current one.
func (s *State) N() int { return s.n }

// Config returns the configuration.
func (s *State) Config() Config { return s.cfg }

// at returns the value k points back (k = 0 is the newest pushed value).
// k must be < min(n, len(ring)).
func (s *State) at(k int) float64 {
	i := s.head - 1 - k
	if i < 0 {
		i += len(s.ring)
	}
	return s.ring[i]
}

// WinLen is how many values win holds.
func (s *State) WinLen() int { return min(s.n, s.cfg.Window) }

// RefLen is how many values the sorted reference holds.
func (s *State) RefLen() int { return len(s.ref) }

// WinMeanStd returns the mean and (population) standard deviation of win.
func (s *State) WinMeanStd() (mean, std float64) {
	n := float64(s.WinLen())
	if n == 0 {
		return 0, 0
	}
	m := s.sy / n
	v := s.syy/n - m*m
	if v < 0 {
		v = 0
	}
	return m + s.base, math.Sqrt(v)
}

// Autocov returns the lag-k autocovariance of win (k ≤ 3) from sliding
// sums, in O(k).
func (s *State) Autocov(k int) float64 {
	nw := s.WinLen()
	n := float64(nw)
	if nw <= k {
		return 0
	}
	m := s.sy / n
	if k == 0 {
		return s.syy/n - m*m
	}
	// Σ (y_j − m)(y_{j−k} − m) = lag − m·(A + B) + (n−k)·m², with A the sum
	// of all but the oldest k values and B of all but the newest k.
	a, b := s.sy, s.sy
	for j := 0; j < k; j++ {
		b -= s.at(j) - s.base
		a -= s.at(nw-1-j) - s.base
	}
	return (s.lag[k] - m*(a+b) + (n-float64(k))*m*m) / n
}

// Tail returns the mean of the current value and the two before it.
func (s *State) Tail(x float64) float64 {
	switch {
	case s.n >= 2:
		return (x + s.tail[0] + s.tail[1]) / 3
	case s.n == 1:
		return (x + s.tail[0]) / 2
	}
	return x
}

// MedianMAD returns the median and the median absolute deviation of the
// reference window (exact, O(log Window); recomputed every Stride points).
func (s *State) MedianMAD() (median, mad float64) {
	if s.madAt >= 0 && s.n-s.madAt < s.cfg.Stride {
		return s.medianCache, s.madCache
	}
	a := s.ref
	n := len(a)
	if n == 0 {
		return 0, 0
	}
	m := n / 2
	var med float64
	if n%2 == 1 {
		med = a[m]
	} else {
		med = (a[m-1] + a[m]) / 2
	}
	// Deviations: left[i] = med − a[m−1−i] (i < m), right[j] = a[m+j] − med;
	// both ascending.
	var d float64
	if n%2 == 1 {
		d = kthDev(a, m, med, n/2)
	} else {
		d = (kthDev(a, m, med, n/2-1) + kthDev(a, m, med, n/2)) / 2
	}
	s.medianCache, s.madCache, s.madAt = med, d, s.n
	return med, d
}

// kthDev returns the k-th smallest (0-based) absolute deviation from med
// of the sorted values a split at m (a[:m] ≤ med ≤ a[m:]), in O(log n):
// the k-th element of the union of the ascending sequences
// A(i) = med − a[m−1−i] and B(j) = a[m+j] − med.
func kthDev(a []float64, m int, med float64, k int) float64 {
	na, nb := m, len(a)-m
	lo, hi := max(0, k+1-nb), min(k+1, na)
	for lo < hi {
		i := (lo + hi) / 2
		j := k + 1 - i
		if j > 0 && med-a[m-1-i] < a[m+j-1]-med {
			lo = i + 1
		} else {
			hi = i
		}
	}
	i := lo
	j := k + 1 - i
	r := math.Inf(-1)
	if i > 0 {
		r = med - a[m-i]
	}
	if j > 0 {
		r = max(r, a[m+j-1]-med)
	}
	return r
}

// HistCount returns the number of reference values in the one of
// histBins equal-width bins over [min, max] of the reference window that x
// falls in (0 outside the range), and the reference size. The bins are
// recounted every Stride points.
func (s *State) HistCount(x float64) (count, n int) {
	n = len(s.ref)
	if n == 0 {
		return 0, 0
	}
	if s.histAt < 0 || s.n-s.histAt >= s.cfg.Stride {
		s.histAt = s.n
		s.histLo, s.histHi = s.ref[0], s.ref[n-1]
		s.histW = (s.histHi - s.histLo) / histBins
		s.hist = [histBins]int32{}
		if s.histW > 0 {
			for _, v := range s.ref {
				s.hist[min(int((v-s.histLo)/s.histW), histBins-1)]++
			}
		} else {
			s.hist[0] = int32(n)
		}
	}
	if x < s.histLo || x > s.histHi {
		return 0, n
	}
	if s.histW == 0 {
		return int(s.hist[0]), n
	}
	return int(s.hist[min(int((x-s.histLo)/s.histW), histBins-1)]), n
}

// CountBetween returns how many reference values lie in [lo, hi].
func (s *State) CountBetween(lo, hi float64) int {
	return upper(s.ref, hi) - lower(s.ref, lo)
}

// RefMinMax returns the smallest and largest reference values.
func (s *State) RefMinMax() (float64, float64) {
	if len(s.ref) == 0 {
		return 0, 0
	}
	return s.ref[0], s.ref[len(s.ref)-1]
}

// SeenMinMax returns the smallest and largest values ever pushed.
func (s *State) SeenMinMax() (float64, float64) { return s.minSeen, s.maxSeen }

// EWMeanStd returns the fast exponentially weighted mean and deviation.
func (s *State) EWMeanStd() (float64, float64) { return s.ewMean, math.Sqrt(s.ewVar) }

// LinearFit returns the least-squares line through win (value against
// position, the newest at position len−1), evaluated at the next position,
// and the residuals' standard deviation.
func (s *State) LinearFit() (next, resid float64, ok bool) {
	n := float64(s.WinLen())
	if n < 3 {
		return 0, 0, false
	}
	sx := n * (n - 1) / 2
	sxx := (n - 1) * n * (2*n - 1) / 6
	vx := sxx - sx*sx/n
	cxy := s.sxy - sx*s.sy/n
	vy := s.syy - s.sy*s.sy/n
	b := cxy / vx
	a := (s.sy - b*sx) / n
	sse := vy - b*cxy
	if sse < 0 {
		sse = 0
	}
	return a + b*n + s.base, math.Sqrt(sse / (n - 2)), true
}

// KS returns the two-sample Kolmogorov–Smirnov statistic of the recent
// window against the reference window and its asymptotic p-value. It is
// recomputed every Stride points and reused in between.
func (s *State) KS() (d, p float64, ok bool) {
	if len(s.recentS) < s.cfg.Recent || len(s.ref) < s.cfg.Recent*2 {
		return 0, 1, false
	}
	if s.ksAt >= 0 && s.n-s.ksAt < s.cfg.Stride {
		return s.ksD, s.ksP, true
	}
	d = ksStatSorted(s.recentS, s.ref)
	p = stattest.KolmogorovP(d, len(s.recentS), len(s.ref))
	s.ksD, s.ksP, s.ksAt = d, p, s.n
	return d, p, true
}

// dayHours holds per-hour count, sum and sum of squares of one day.
type dayHours struct {
	day int64
	n   [24]int32
	sum [24]float64
	sq  [24]float64
}

// YesterdayHour returns the mean and deviation of the values in the same
// hour of day on the previous day (the first hour of a 24-hour window
// ending now, Skyline's reference) and how many there were.
func (s *State) YesterdayHour(t time.Time) (mean, std float64, n int) {
	day, h := dayHour(t)
	d := &s.hours[(day-1)&1]
	if d.day != day-1 || d.n[h] == 0 {
		return 0, 0, 0
	}
	n = int(d.n[h])
	mean = d.sum[h]/float64(n) + s.base
	v := d.sq[h]/float64(n) - (d.sum[h]/float64(n))*(d.sum[h]/float64(n))
	return mean, math.Sqrt(max(v, 0)), n
}

// push adds x (at time t) as the newest value.
func (s *State) push(t time.Time, x float64) {
	W, R := s.cfg.Window, s.cfg.Recent
	if s.n == 0 {
		s.base = x
		s.minSeen, s.maxSeen = x, x
		s.ewMean = x
	}
	L := len(s.ring)
	// Values leaving windows, read before overwriting the ring.
	var leavingWin, leavingRef, enteringRef float64
	hasLeavingWin := s.n >= W
	if hasLeavingWin {
		leavingWin = s.at(W - 1)
	}
	hasEnteringRef := s.n >= R
	if hasEnteringRef {
		enteringRef = s.at(R - 1)
	}
	hasLeavingRef := s.n >= W+R
	if hasLeavingRef {
		leavingRef = s.at(L - 1)
	}
	// Sorted recent and reference windows.
	if hasEnteringRef {
		s.recentS = removeSorted(s.recentS, enteringRef)
		if hasLeavingRef {
			s.ref = removeSorted(s.ref, leavingRef)
		}
		s.ref = insertSorted(s.ref, enteringRef)
	}
	s.recentS = insertSorted(s.recentS, x)
	// Sliding sums over win.
	y := x - s.base
	if hasLeavingWin {
		o := leavingWin - s.base
		for k := 1; k <= arOrder && k < W; k++ {
			s.lag[k] -= o * (s.at(W-1-k) - s.base)
		}
		// positions shift down by one as the oldest leaves
		s.sxy -= s.sy - o
		s.sy -= o
		s.syy -= o * o
	}
	for k := 1; k <= arOrder && k <= min(s.n, W-1); k++ {
		s.lag[k] += y * (s.at(k-1) - s.base)
	}
	nw := float64(min(s.n, W-1)) // position of the new value
	s.sy += y
	s.syy += y * y
	s.sxy += nw * y
	// ring
	s.ring[s.head] = x
	s.head++
	if s.head == L {
		s.head = 0
	}
	s.tail[2], s.tail[1], s.tail[0] = s.tail[1], s.tail[0], x
	{
		day, h := dayHour(t)
		d := &s.hours[day&1]
		if d.day != day {
			*d = dayHours{day: day}
		}
		y := x - s.base
		d.n[h]++
		d.sum[h] += y
		d.sq[h] += y * y
	}
	s.n++
	s.lastT = t
	if x < s.minSeen {
		s.minSeen = x
	}
	if x > s.maxSeen {
		s.maxSeen = x
	}
	a := s.cfg.EWAlpha
	d := x - s.ewMean
	s.ewMean += a * d
	s.ewVar = (1 - a) * (s.ewVar + a*d*d)
	s.sinceRecalc++
	if s.sinceRecalc >= W {
		s.recalc()
	}
}

// recalc recomputes the sliding sums exactly (bounding rounding drift) and
// re-centres them on the window mean.
func (s *State) recalc() {
	s.sinceRecalc = 0
	n := s.WinLen()
	var sum float64
	for k := 0; k < n; k++ {
		sum += s.at(k)
	}
	old := s.base
	s.base = sum / float64(n)
	// Re-centre the hourly sums on the new base.
	delta := s.base - old
	for k := range s.hours {
		d := &s.hours[k]
		for h := 0; h < 24; h++ {
			c := float64(d.n[h])
			d.sq[h] += -2*delta*d.sum[h] + c*delta*delta
			d.sum[h] -= c * delta
		}
	}
	s.sy, s.syy, s.sxy = 0, 0, 0
	for k := 0; k < n; k++ {
		y := s.at(k) - s.base
		s.sy += y
		s.syy += y * y
		s.sxy += float64(n-1-k) * y
	}
	s.lag = [arOrder + 1]float64{}
	for k := 1; k <= arOrder; k++ {
		for j := 0; j+k < n; j++ {
			s.lag[k] += (s.at(j) - s.base) * (s.at(j+k) - s.base)
		}
	}
}

// lower is the index of the first element ≥ x (branch-free binary
// search: the comparison compiles to a conditional move).
func lower(a []float64, x float64) int {
	base, n := 0, len(a)
	if n == 0 {
		return 0
	}
	for n > 1 {
		half := n / 2
		if a[base+half] < x {
			base += half
		}
		n -= half
	}
	if a[base] < x {
		base++
	}
	return base
}

// upper is the index of the first element > x.
func upper(a []float64, x float64) int {
	base, n := 0, len(a)
	if n == 0 {
		return 0
	}
	for n > 1 {
		half := n / 2
		if a[base+half] <= x {
			base += half
		}
		n -= half
	}
	if a[base] <= x {
		base++
	}
	return base
}

func insertSorted(a []float64, x float64) []float64 {
	i := upper(a, x)
	a = append(a, 0)
	copy(a[i+1:], a[i:])
	a[i] = x
	return a
}

func removeSorted(a []float64, x float64) []float64 {
	i := lower(a, x)
	if i >= len(a) || a[i] != x {
		return a // not present: cannot happen for values we inserted
	}
	copy(a[i:], a[i+1:])
	return a[:len(a)-1]
}

// ksStatSorted is the two-sample KS statistic sup|F1−F2| of sorted
// samples a (small) and b, in O(len(a)·log len(b)): between consecutive
// values of a, F1 is constant and F2 monotone, so the supremum is reached
// just before or at a value of a.
func ksStatSorted(a, b []float64) float64 {
	na, nb := float64(len(a)), float64(len(b))
	d := 0.0
	for i := 0; i < len(a); {
		x := a[i]
		j := i + 1
		for j < len(a) && a[j] == x {
			j++
		}
		before := abs(float64(i)/na - float64(lower(b, x))/nb)
		at := abs(float64(j)/na - float64(upper(b, x))/nb)
		d = max(d, before, at)
		i = j
	}
	return d
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
