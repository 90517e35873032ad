// Package outlier holds winnow's streaming outlier detectors for numeric
// time series, the ensemble that combines them into one anomaly score in
// [0, 1], and the "series" detector family that runs them per entity in
// the pipeline.
//
// The detectors are the Skyline family (median absolute deviation, first
// hour average, standard deviation from the average and from an
// exponentially weighted moving average, mean subtraction cumulation,
// least squares, histogram bins, Grubbs, Kolmogorov–Smirnov of the recent
// window against a reference window) plus AR/ARMA forecast residuals,
// seasonal baselines (hour of day, hour of week), a volatility ratio and a
// range (new extreme) test. Each scores a point against the points
// before it and returns a Gaussian-equivalent surprise z ≥ 0 (how many
// standard deviations of a normal variable would be as rare); a detector
// votes when z reaches its critical value.
//
// Cost: every detector is O(1) or O(log Window) per point; the sorted
// windows cost one insertion and one deletion (a memmove of at most
// Window values); the KS tests, the MAD, the histogram and the AR refit
// are recomputed every Stride points in O(Window) or less. State is shared
// through State so each statistic is computed once per point. Measured:
// about 1.3M points/s per core for the whole ensemble (BenchmarkEnsemble).
//
// The ensemble (ensemble.go) turns votes into a score: consensus voting
// (Skyline's rule, the baseline) or the calibrated combination (adaptive
// per-detector weights, seasonal explanation, warm-up and alert
// suppression), which is the default and the one configuration used for
// every series.
package outlier

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Config sizes the windows shared by the detectors. The zero value is not
// valid; start from DefaultConfig.
type Config struct {
	Window  int     // reference window in points (MAD, histogram, Grubbs, least squares, KS reference)
	Recent  int     // recent window for the KS test
	Stride  int     // KS test and AR refit every Stride points
	EWAlpha float64 // weight of the newest point in the fast EWMA
	// MinScale is an absolute floor for every scale estimate (standard
	// deviation, MAD, residual deviation), in the series' units. Zero uses
	// only the relative floor. Counts per minute use 1 (one event).
	MinScale float64
	// ZCap bounds every detector's surprise so that one detector cannot
	// dominate a combination.
	ZCap float64
}

// DefaultConfig is the configuration used for every series (NAB and the
// pipeline alike, apart from MinScale for counts).
func DefaultConfig() Config {
	return Config{Window: 256, Recent: 12, Stride: 16, EWAlpha: 2.0 / 51, ZCap: 20}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Window < 16:
		return fmt.Errorf("outlier: window %d: want ≥ 16", c.Window)
	case c.Recent < 4 || c.Recent > c.Window/2:
		return fmt.Errorf("outlier: recent %d: want 4..window/2", c.Recent)
	case c.Stride < 1:
		return fmt.Errorf("outlier: stride %d: want ≥ 1", c.Stride)
	case !(c.EWAlpha > 0 && c.EWAlpha < 1):
		return fmt.Errorf("outlier: ew_alpha %v: want in (0, 1)", c.EWAlpha)
	case c.MinScale < 0 || math.IsNaN(c.MinScale):
		return fmt.Errorf("outlier: min_scale %v: want ≥ 0", c.MinScale)
	case !(c.ZCap > 3):
		return fmt.Errorf("outlier: zcap %v: want > 3", c.ZCap)
	}
	return nil
}

// Detector is one streaming outlier test over one series.
//
// Score rates x (at time t) against the state, which holds only earlier
// points, and returns the surprise z ≥ 0 and whether the detector has
// seen enough to judge (a detector that is not ready does not vote).
// Observe then updates the detector's own state with x (the shared state
// is updated by the caller afterwards). Calls come from one goroutine.
type Detector interface {
	Score(s *State, t time.Time, x float64) (z float64, ready bool)
	Observe(s *State, t time.Time, x float64)
}

// Spec describes a detector.
type Spec struct {
	Name     string
	Summary  string
	Critical float64 // z at which the detector votes
	New      func(c Config) Detector
}

// Specs returns every detector spec, in ensemble order.
func Specs() []Spec {
	return []Spec{
		{"mad", "median absolute deviation: |x − median| / (1.4826·MAD) of the reference window", 4, func(Config) Detector { return mad{} }},
		{"first_hour_average", "mean of the last three points vs. the hour that began 24 hours ago (Skyline's first hour of a day's window)", 3, func(Config) Detector { return firstHour{} }},
		{"stddev_from_average", "mean of the last three points vs. the window's mean and deviation", 3, func(Config) Detector { return stddevAvg{} }},
		{"stddev_from_ewma", "point vs. an exponentially weighted moving average and deviation", 3, func(Config) Detector { return stddevEWMA{} }},
		{"mean_subtraction_cumulation", "two-sided CUSUM of the points minus the mean (of the same hour yesterday once known), standardised (drifts, small shifts)", 3, newCusum},
		{"least_squares", "residual of the point from the window's least-squares line vs. the residuals' deviation", 3, func(Config) Detector { return leastSquares{} }},
		{"histogram_bins", "the point falls in an empty one of 15 equal bins of the reference window (or outside it)", 3, func(Config) Detector { return histogram{} }},
		{"grubbs", "Grubbs' test of the point against the window (critical value from Student's t)", 3, newGrubbs},
		{"ks_test", "two-sample Kolmogorov–Smirnov test of the recent window vs. the reference window", 3, func(Config) Detector { return ks{} }},
		{"arma", "ARMA(3,1) one-step forecast residual (AR by Levinson–Durbin on the window, MA(1) on the residuals)", 3.5, newARMA},
		{"seasonal_hour", "point vs. the baseline of its hour of day (learnt over days)", 3.5, func(c Config) Detector { return newSeasonal(c, 24, time.Hour, 24*time.Hour) }},
		{"seasonal_week", "point vs. the baseline of its hour of the week (learnt over weeks)", 3.5, func(c Config) Detector { return newSeasonal(c, 168, time.Hour, 7*24*time.Hour) }},
		{"volatility", "recent vs. long-run mean size of point-to-point changes (a series turning erratic or calm)", 3, newVolatility},
		{"range", "the point leaves the range seen so far by more than 5% of it (a new extreme)", 3, func(Config) Detector { return rangeDet{} }},
	}
}

// SpecNames lists the detector names in ensemble order.
func SpecNames() []string {
	var out []string
	for _, s := range Specs() {
		out = append(out, s.Name)
	}
	return out
}

// Lookup returns the specs named in names (all when names is empty).
func Lookup(names []string) ([]Spec, error) {
	all := Specs()
	if len(names) == 0 {
		return all, nil
	}
	all = append(all, ExtraSpecs()...) // selectable by name (skyline.go)
	var out []Spec
	for _, n := range names {
		found := false
		for _, s := range all {
			if s.Name == n {
				out = append(out, s)
				found = true
				break
			}
		}
		if !found {
			known := SpecNames()
			for _, x := range ExtraSpecs() {
				known = append(known, x.Name)
			}
			sort.Strings(known)
			return nil, fmt.Errorf("no outlier detector %q (known: %s)", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// Run scores a whole series with one detector and returns each point's
// surprise (0 while the detector is not ready) — for tests and tools.
func Run(spec Spec, c Config, times []time.Time, values []float64) []float64 {
	st := newState(c)
	d := spec.New(c)
	out := make([]float64, len(values))
	for i, x := range values {
		t := times[i]
		if z, ok := d.Score(st, t, x); ok {
			out[i] = min(z, c.ZCap)
		}
		d.Observe(st, t, x)
		st.push(t, x)
	}
	return out
}
