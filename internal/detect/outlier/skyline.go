package outlier

import (
	"math"
	"time"

	"winnow/internal/state/codec"
)

// This file: the Skyline detectors as Skyline's sources define them,
// beside the variants the ensemble uses (detectors.go). They are not in
// the default ensemble (Specs); name them to select them (Lookup, the
// series commands' --detectors, the series.* parameters).
//
//	stddev_from_moving_average   |mean of the last three points − EWMA(com 50)| > 3 · EW std (com 50)
//	least_squares_tail           |mean of the last three residuals from the window's least-squares line| > 3 · residual std
//	histogram_bins_tail          the mean of the last three points falls in a bin of the window's 15-bin
//	                             histogram holding ≤ 20 values (or outside the histogram)
//	mean_subtraction_cumulation_skyline
//	                             |x − mean of the points before it| > 3 · their std (the definition; its
//	                             "cumulation" is an EWMA Skyline computes and never uses)
//
// Each is O(1) per point (the histogram is recounted every Stride points,
// shared with histogram_bins).

// ExtraSpecs are the selectable detectors that are not in the default
// ensemble.
func ExtraSpecs() []Spec {
	return []Spec{
		{"stddev_from_moving_average", "Skyline: mean of the last three points vs. an EWMA with centre of mass 50 and its deviation", 3, newStddevMA},
		{"least_squares_tail", "Skyline: mean of the last three residuals from the window's least-squares line vs. the residuals' deviation", 3, newLSQTail},
		{"histogram_bins_tail", "Skyline: the mean of the last three points falls in a bin holding at most 20 of the window's points (15 bins)", 3, func(Config) Detector { return histTail{} }},
		{"mean_subtraction_cumulation_skyline", "Skyline: the point minus the mean of the points before it vs. their deviation (the definition, not a CUSUM)", 3, func(Config) Detector { return meanSub{} }},
	}
}

// stateful is a detector with its own state that snapshots itself.
type stateful interface {
	cloner
	codec.Marshaler
	codec.Unmarshaler
}

// ---- stddev_from_moving_average ----

// stddevMA keeps Skyline's pandas ewma/ewmstd with com = 50 (α = 1/51),
// bias-corrected as pandas does (adjust=True): weights normalised by
// their sum.
type stddevMA struct {
	N     int
	Mean  float64 // weighted mean
	Var   float64 // weighted (biased) variance
	W, W2 float64 // sum of weights and of squared weights
}

const skylineCom = 50

func newStddevMA(Config) Detector { return &stddevMA{} }

func (d *stddevMA) clone() Detector { return &stddevMA{} }
func (d *stddevMA) reset()          { *d = stddevMA{} }

// std is the bias-corrected exponentially weighted deviation.
func (d *stddevMA) std() float64 {
	den := d.W*d.W - d.W2
	if den <= 0 {
		return 0
	}
	return math.Sqrt(max(d.Var*d.W*d.W/den, 0))
}

func (d *stddevMA) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if d.N < minRef {
		return 0, false
	}
	return s.zOf(s.Tail(x), d.Mean, d.std()), true
}

func (d *stddevMA) Observe(_ *State, _ time.Time, x float64) {
	// Newest weight 1, older ones decay by (1 − α).
	const a = 1.0 / (1 + skylineCom)
	decay := 1 - a
	w := d.W*decay + 1
	w2 := d.W2*decay*decay + 1
	// Weighted mean and second central moment:
	// M' = (decay·W·M + x)/W', V' = (decay·W·(V + (M − M')²) + (x − M')²)/W'.
	mean := (d.W*decay*d.Mean + x) / w
	v := (d.W*decay*(d.Var+(d.Mean-mean)*(d.Mean-mean)) + (x-mean)*(x-mean)) / w
	d.N++
	d.Mean, d.Var, d.W, d.W2 = mean, v, w, w2
}

// MarshalState writes the detector's state (codec.Marshaler).
func (d *stddevMA) MarshalState(e *codec.Enc) {
	e.Varint(int64(d.N))
	for _, f := range []float64{d.Mean, d.Var, d.W, d.W2} {
		e.Float64(f)
	}
}

// UnmarshalState reads it back (codec.Unmarshaler).
func (d *stddevMA) UnmarshalState(dec *codec.Dec) error {
	n := dec.Varint()
	m, v, w, w2 := dec.Float64(), dec.Float64(), dec.Float64(), dec.Float64()
	if err := dec.Err(); err != nil {
		return err
	}
	if n < 0 || v < 0 || w < 0 || w2 < 0 {
		dec.Fail("stddev_from_moving_average: bad state")
		return dec.Err()
	}
	*d = stddevMA{N: int(n), Mean: m, Var: v, W: w, W2: w2}
	return nil
}

// ---- least_squares_tail ----

// lsqTail keeps the residuals of the last two points from the line fitted
// to the window before each.
type lsqTail struct {
	R    [2]float64
	Have int
}

func newLSQTail(Config) Detector { return &lsqTail{} }

func (d *lsqTail) clone() Detector { return &lsqTail{} }
func (d *lsqTail) reset()          { *d = lsqTail{} }

func (d *lsqTail) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.WinLen() < minRef {
		return 0, false
	}
	next, resid, ok := s.LinearFit()
	if !ok {
		return 0, false
	}
	sum, n := x-next, 1.0
	for i := range min(d.Have, 2) {
		sum += d.R[i]
		n++
	}
	return s.zOf(sum/n, 0, s.scale(resid, next)), true
}

func (d *lsqTail) Observe(s *State, _ time.Time, x float64) {
	next, _, ok := s.LinearFit()
	if !ok {
		return
	}
	d.R[1], d.R[0] = d.R[0], x-next
	d.Have = min(d.Have+1, 2)
}

// MarshalState writes the residuals (codec.Marshaler).
func (d *lsqTail) MarshalState(e *codec.Enc) {
	e.Varint(int64(d.Have))
	e.Float64(d.R[0])
	e.Float64(d.R[1])
}

// UnmarshalState reads them back (codec.Unmarshaler).
func (d *lsqTail) UnmarshalState(dec *codec.Dec) error {
	h := dec.Varint()
	r0, r1 := dec.Float64(), dec.Float64()
	if err := dec.Err(); err != nil {
		return err
	}
	if h < 0 || h > 2 {
		dec.Fail("least_squares_tail: bad state")
		return dec.Err()
	}
	*d = lsqTail{Have: int(h), R: [2]float64{r0, r1}}
	return nil
}

// ---- histogram_bins_tail ----

// skylineBinMax is Skyline's "bin with less than 20 other datapoints".
const skylineBinMax = 20

type histTail struct{}

// Score maps the bin's count to a surprise that reaches the critical 3
// at 20 values and grows as the bin empties: 3·21/(count+1).
func (histTail) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.RefLen() < minRef {
		return 0, false
	}
	count, _ := s.HistCount(s.Tail(x))
	return min(3*float64(skylineBinMax+1)/float64(count+1), s.cfg.ZCap), true
}
func (histTail) Observe(*State, time.Time, float64) {}

// ---- mean_subtraction_cumulation_skyline ----

type meanSub struct{}

func (meanSub) Score(s *State, _ time.Time, x float64) (float64, bool) {
	if s.WinLen() < minRef {
		return 0, false
	}
	m, sd := s.WinMeanStd()
	return s.zOf(x, m, sd), true
}
func (meanSub) Observe(*State, time.Time, float64) {}
