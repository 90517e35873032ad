package outlier

import (
	"math"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// minRef is how many reference points the window detectors need.
const minRef = 32

// scale floors a scale estimate: the configured absolute floor, and a
// relative one (1e-6 of the level) so a constant series does not divide
// by zero.
func (s *State) scale(sd, level float64) float64 {
	f := max(s.cfg.MinScale, 1e-6*math.Abs(level)+1e-12)
	return max(sd, f)
}

// zOf is |x − center| / scale, bounded by ZCap.
func (s *State) zOf(x, center, sd float64) float64 {
	return min(math.Abs(x-center)/s.scale(sd, center), s.cfg.ZCap)
}

// zFromP is the Gaussian-equivalent surprise of a tail probability p
// (two-sided: p = erfc(z/√2)).
func zFromP(p float64) float64 {
	if p >= 1 {
		return 0
	}
	if p <= 1e-300 {
		return 37
	}
	return math.Sqrt2 * math.Erfcinv(p)
}

// ---- mad ----

type mad struct{}

func (mad) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.RefLen() < minRef {
		return 0, false
	}
	med, d := s.MedianMAD()
	return s.zOf(x, med, 1.4826*d), true
}
func (mad) Observe(*State, time.Time, float64) {}

// ---- first_hour_average ----

// firstHour compares the mean of the last three points with the hour that
// starts 24 hours ago (the first hour of Skyline's 24-hour window): the
// same hour of day yesterday, so a daily pattern does not alarm it.
type firstHour struct{}

func (firstHour) Score(s *State, t time.Time, x float64) (float64, bool) {
	m, sd, n := s.YesterdayHour(t)
	if n < 3 {
		return 0, false
	}
	return s.zOf(s.Tail(x), m, sd), true
}
func (firstHour) Observe(*State, time.Time, float64) {}

// ---- stddev_from_average ----

type stddevAvg struct{}

func (stddevAvg) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.WinLen() < minRef {
		return 0, false
	}
	m, sd := s.WinMeanStd()
	return s.zOf(s.Tail(x), m, sd), true
}
func (stddevAvg) Observe(*State, time.Time, float64) {}

// ---- stddev_from_ewma ----

type stddevEWMA struct{}

func (stddevEWMA) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.N() < minRef {
		return 0, false
	}
	m, sd := s.EWMeanStd()
	return s.zOf(x, m, sd), true
}
func (stddevEWMA) Observe(*State, time.Time, float64) {}

// ---- mean_subtraction_cumulation (CUSUM) ----

// cusum accumulates mean-subtracted, standardised points (Page's two-sided
// CUSUM with slack k, signalling at h; z is scaled so that h maps to the
// critical 3) and restarts after a signal. The mean subtracted is the same
// hour yesterday once a day has been seen (a daily pattern then cancels
// out), the window's mean before; the scale is the window's deviation.
type cusum struct {
	hi, lo float64
	k, h   float64
}

func newCusum(Config) Detector { return &cusum{k: 0.5, h: 8} }

func (c *cusum) clone() Detector { return &cusum{k: c.k, h: c.h} }
func (c *cusum) reset()          { c.hi, c.lo = 0, 0 }

func (c *cusum) step(s *State, t time.Time, x float64) (hi, lo float64, ok bool) {
	if s.WinLen() < minRef {
		return 0, 0, false
	}
	m, sd := s.WinMeanStd()
	if ym, _, n := s.YesterdayHour(t); n >= 3 {
		m = ym
	}
	u := max(-c.h, min(c.h, (x-m)/s.scale(sd, m)))
	return max(0, c.hi+u-c.k), max(0, c.lo-u-c.k), true
}

func (c *cusum) Score(s *State, t time.Time, x float64) (float64, bool) {
	hi, lo, ok := c.step(s, t, x)
	if !ok {
		return 0, false
	}
	return min(3*max(hi, lo)/c.h, s.cfg.ZCap), true
}

func (c *cusum) Observe(s *State, t time.Time, x float64) {
	hi, lo, ok := c.step(s, t, x)
	if !ok {
		return
	}
	if hi >= c.h || lo >= c.h {
		hi, lo = 0, 0
	}
	c.hi, c.lo = hi, lo
}

// ---- least_squares ----

type leastSquares struct{}

func (leastSquares) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.WinLen() < minRef {
		return 0, false
	}
	next, resid, ok := s.LinearFit()
	if !ok {
		return 0, false
	}
	return s.zOf(x, next, resid), true
}
func (leastSquares) Observe(*State, time.Time, float64) {}

// ---- histogram_bins ----

const histBins = 15

type histogram struct{}

func (histogram) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.RefLen() < minRef {
		return 0, false
	}
	count, n := s.HistCount(x)
	p := (float64(count) + 0.5) / float64(n+1)
	if p > 0.05 {
		// Common bin: no vote possible; skip the inverse error function.
		return 0, true
	}
	return min(zFromP(p), s.cfg.ZCap), true
}
func (histogram) Observe(*State, time.Time, float64) {}

// ---- grubbs ----

type grubbs struct{ crit float64 }

// newGrubbs precomputes the two-sided critical value for a full window at
// α = 0.05: G = (n−1)/√n · √(t²/(n−2+t²)), t the 1−α/(2n) quantile of
// Student's t with n−2 degrees of freedom.
func newGrubbs(c Config) Detector {
	n := float64(c.Window)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 2}.Quantile(1 - 0.05/(2*n))
	return grubbs{crit: (n - 1) / math.Sqrt(n) * math.Sqrt(t*t/(n-2+t*t))}
}

func (g grubbs) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.WinLen() < s.cfg.Window {
		return 0, false
	}
	m, sd := s.WinMeanStd()
	return min(3*s.zOf(x, m, sd)/g.crit, s.cfg.ZCap), true
}
func (grubbs) Observe(*State, time.Time, float64) {}

// ---- ks_test ----

type ks struct{}

// Score: the recent window differs from the reference (p-value) and by a
// large effect (D ≥ 0.5, Skyline's condition); small effects found by the
// test's power alone do not count.
func (ks) Score(s *State, _ time.Time, _ float64) (float64, bool) {
	d, p, ok := s.KS()
	if !ok {
		return 0, false
	}
	if d < 0.5 {
		return min(zFromP(p), 2.9), true
	}
	return min(zFromP(p), s.cfg.ZCap), true
}
func (ks) Observe(*State, time.Time, float64) {}

// ---- arma ----

const arOrder = 3

// arma forecasts the next point with an AR(3) model refitted every Stride
// points by Levinson–Durbin on the window's autocovariances, corrected by
// an MA(1) term on the last residual; z is the residual over an
// exponentially weighted residual deviation (updated with winsorised
// residuals so one outlier does not mask the next).
type arma struct {
	phi    [arOrder]float64
	theta  float64
	mean   float64
	fitAt  int
	fitted bool
	lastE  float64
	ev     float64 // EW residual variance
	ec     float64 // EW lag-1 residual covariance
	nres   int
	alpha  float64
	predAt int
	pred   float64
}

func newARMA(Config) Detector { return &arma{fitAt: -1, predAt: -1, alpha: 0.02} }

func (a *arma) clone() Detector { return newARMA(Config{}) }
func (a *arma) reset()          { *a = arma{fitAt: -1, predAt: -1, alpha: a.alpha} }

func (a *arma) predict(s *State) (float64, bool) {
	if s.WinLen() < minRef*2 {
		return 0, false
	}
	if a.predAt == s.N() {
		return a.pred, true
	}
	if !a.fitted || s.N()-a.fitAt >= s.cfg.Stride*4 {
		a.fit(s)
	}
	p := a.mean
	for k := 0; k < arOrder; k++ {
		p += a.phi[k] * (s.at(k) - a.mean)
	}
	a.pred, a.predAt = p+a.theta*a.lastE, s.N()
	return a.pred, true
}

func (a *arma) fit(s *State) {
	mean, _ := s.WinMeanStd()
	var r [arOrder + 1]float64
	for lag := 0; lag <= arOrder; lag++ {
		r[lag] = s.Autocov(lag)
	}
	a.mean, a.fitAt, a.fitted = mean, s.N(), true
	a.phi = [arOrder]float64{}
	if r[0] <= 0 {
		return
	}
	// Levinson–Durbin.
	var phi, prev [arOrder]float64
	e := r[0]
	for m := 0; m < arOrder; m++ {
		acc := r[m+1]
		for j := 0; j < m; j++ {
			acc -= prev[j] * r[m-j]
		}
		k := acc / e
		if math.Abs(k) >= 1 {
			break
		}
		phi[m] = k
		for j := 0; j < m; j++ {
			phi[j] = prev[j] - k*prev[m-1-j]
		}
		e *= 1 - k*k
		prev = phi
	}
	a.phi = prev
	if a.ev > 0 {
		a.theta = max(-0.9, min(0.9, a.ec/a.ev))
	}
}

func (a *arma) Score(s *State, _ time.Time, x float64) (float64, bool) {
	p, ok := a.predict(s)
	if !ok || a.nres < minRef {
		return 0, false
	}
	return s.zOf(x, p, math.Sqrt(a.ev)), true
}

func (a *arma) Observe(s *State, _ time.Time, x float64) {
	p, ok := a.predict(s)
	if !ok {
		return
	}
	e := x - p
	if a.nres >= minRef {
		lim := 4 * s.scale(math.Sqrt(a.ev), p)
		e = max(-lim, min(lim, e))
	}
	if a.nres == 0 {
		a.ev = e * e
	} else {
		a.ev += a.alpha * (e*e - a.ev)
		a.ec += a.alpha * (e*a.lastE - a.ec)
	}
	a.lastE = e
	a.nres++
}

// ---- seasonal baselines ----

// seasonal keeps an exponentially weighted mean and variance per slot of
// a cycle (hour of day: 24 slots of an hour; hour of week: 168) and rates
// a point against its slot once the slot has been seen in three cycles.
type seasonal struct {
	slots     int
	width     time.Duration
	cycle     time.Duration
	mean, v   []float32 // per slot; float32 halves the memory (baselines need no more precision)
	lastCycle []int32   // cycle index of the slot's latest point
	visits    []int32   // cycles the slot has been seen in (0 = never)
	alpha     float64
	start     int64 // unix seconds of the series' first point
}

func newSeasonal(_ Config, slots int, width, cycle time.Duration) Detector {
	return &seasonal{slots: slots, width: width, cycle: cycle, alpha: 0.05}
}

func (d *seasonal) clone() Detector {
	return &seasonal{slots: d.slots, width: d.width, cycle: d.cycle, alpha: d.alpha}
}

func (d *seasonal) reset() {
	d.start = 0
	if d.mean != nil {
		clear(d.mean)
		clear(d.v)
		clear(d.lastCycle)
		clear(d.visits)
	}
}

// alloc allocates the slots lazily, once the series has lasted a slot's
// width: a short-lived series (most attacker addresses) never pays for
// them, and nothing is lost, since a slot needs three cycles to be ready.
func (d *seasonal) alloc(t time.Time) bool {
	if d.mean != nil {
		return true
	}
	u := t.Unix()
	if d.start == 0 {
		d.start = u | 1
	}
	if u-d.start < int64(d.width/time.Second) {
		return false
	}
	n := d.slots
	d.mean, d.v = make([]float32, n), make([]float32, n)
	d.lastCycle, d.visits = make([]int32, n), make([]int32, n)
	return true
}

func (d *seasonal) slot(t time.Time) (int, int32) {
	u := t.Unix()
	c := int64(d.cycle / time.Second)
	w := int64(d.width / time.Second)
	if d.cycle == 7*24*time.Hour {
		u += 3 * 86400 // weeks start on Monday (the epoch was a Thursday)
	}
	r := ((u % c) + c) % c
	cyc := u / c
	if u < 0 && u%c != 0 {
		cyc--
	}
	return int(r / w), int32(cyc)
}

func (d *seasonal) Score(s *State, t time.Time, x float64) (float64, bool) {
	if d.mean == nil {
		return 0, false
	}
	i, _ := d.slot(t)
	if d.visits[i] < 3 {
		return 0, false
	}
	return s.zOf(x, float64(d.mean[i]), math.Sqrt(float64(d.v[i]))), true
}

func (d *seasonal) Observe(s *State, t time.Time, x float64) {
	if !d.alloc(t) {
		return
	}
	i, cyc := d.slot(t)
	if d.visits[i] == 0 {
		d.mean[i] = float32(x)
		d.lastCycle[i] = cyc
		d.visits[i] = 1
		return
	}
	if cyc != d.lastCycle[i] {
		d.lastCycle[i] = cyc
		d.visits[i]++
	}
	// Winsorise so one outlier does not move the slot's baseline much.
	m, v := float64(d.mean[i]), float64(d.v[i])
	e := x - m
	if d.visits[i] >= 3 {
		lim := 4 * s.scale(math.Sqrt(v), m)
		e = max(-lim, min(lim, e))
	}
	d.mean[i] = float32(m + d.alpha*e)
	d.v[i] = float32((1 - d.alpha) * (v + d.alpha*e*e))
}

// ---- range ----

// rangeDet votes when a point leaves [min, max] of everything seen so far
// by more than 5% of the range (HTM's "spatial anomaly").
type rangeDet struct{}

func (rangeDet) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.N() < minRef {
		return 0, false
	}
	lo, hi := s.SeenMinMax()
	span := s.scale(hi-lo, (hi+lo)/2)
	var out float64
	switch {
	case x > hi:
		out = (x - hi) / span
	case x < lo:
		out = (lo - x) / span
	default:
		return 0, true
	}
	if out <= 0.05 {
		return 2.9 * out / 0.05, true
	}
	return min(3+10*(out-0.05), s.cfg.ZCap), true
}
func (rangeDet) Observe(*State, time.Time, float64) {}

// ---- volatility ----

// volatility compares the recent mean size of point-to-point changes
// |x_t − x_{t−1}| (an EWMA over about 15 points) with its long-run mean
// (an EWMA over about 500): a quiet series turning erratic (or the
// reverse) changes the ratio, while levels and slow seasonal swings
// cancel out. Under a steady series the ratio's relative standard error is
// the coefficient of variation of |Δ| (≈ 0.76 for Gaussian changes) over
// √15, which gives z. O(1) per point.
type volatility struct {
	prev  float64
	short float64
	long  float64
	n     int
	has   bool
}

const (
	volShort = 1.0 / 8
	volLong  = 1.0 / 256
	volSE    = 0.756 / 3.873 // CV of a half-normal over √15
)

func newVolatility(Config) Detector { return &volatility{} }

func (v *volatility) clone() Detector { return &volatility{} }
func (v *volatility) reset()          { *v = volatility{} }

func (v *volatility) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if v.n < minRef*2 {
		return 0, false
	}
	d := abs(x - v.prev)
	sh := v.short + volShort*(d-v.short)
	l := max(v.long, s.scale(0, v.prev)*1e-3, 1e-12)
	r := sh / l
	if r >= 1 {
		return min((r-1)/volSE, s.cfg.ZCap), true
	}
	return min((1/max(r, 1e-9)-1)/volSE/2, s.cfg.ZCap), true // a calming series counts half
}

func (v *volatility) Observe(_ *State, _ time.Time, x float64) {
	if !v.has {
		v.prev, v.has = x, true
		return
	}
	d := abs(x - v.prev)
	v.prev = x
	if v.n == 0 {
		v.short, v.long = d, d
	} else {
		v.short += volShort * (d - v.short)
		v.long += volLong * (d - v.long)
	}
	v.n++
}
