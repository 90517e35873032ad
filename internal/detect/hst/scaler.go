package hst

import "math"

// Scaler maps raw features into [0, 1] for a Forest with ranges learned
// from the stream (running minimum and maximum, as River's MinMaxScaler
// in front of its HalfSpaceTrees). Features marked Log are compressed with
// sign(x)·log1p(|x|) first, so that heavy-tailed counts (bytes, durations)
// do not squash every ordinary value into the bottom bin. A feature that
// has not varied yet maps to 0; NaN maps to 0. Not safe for concurrent use.
type Scaler struct {
	Log      []bool
	min, max []float64
	seen     bool
}

// NewScaler returns a scaler for dims features; log may be nil.
func NewScaler(dims int, log []bool) *Scaler {
	s := &Scaler{Log: make([]bool, dims), min: make([]float64, dims), max: make([]float64, dims)}
	copy(s.Log, log)
	return s
}

func (s *Scaler) raw(i int, v float64) float64 {
	if math.IsNaN(v) {
		return math.NaN()
	}
	if s.Log[i] {
		if v < 0 {
			return -math.Log1p(-v)
		}
		return math.Log1p(v)
	}
	return v
}

// Learn widens the ranges to include x.
func (s *Scaler) Learn(x []float64) {
	for i, v := range x {
		v = s.raw(i, v)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if !s.seen {
			s.min[i], s.max[i] = v, v
			continue
		}
		s.min[i] = math.Min(s.min[i], v)
		s.max[i] = math.Max(s.max[i], v)
	}
	s.seen = true
}

// LearnTransform is Learn then Transform, computing each feature's
// compressed value once.
func (s *Scaler) LearnTransform(dst, x []float64) []float64 {
	dst = dst[:len(x)]
	for i, v := range x {
		v = s.raw(i, v)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			dst[i] = 0
			continue
		}
		if !s.seen {
			s.min[i], s.max[i] = v, v
		} else if v < s.min[i] {
			s.min[i] = v
		} else if v > s.max[i] {
			s.max[i] = v
		}
		if w := s.max[i] - s.min[i]; w > 0 {
			dst[i] = (v - s.min[i]) / w
		} else {
			dst[i] = 0
		}
	}
	s.seen = true
	return dst
}

// Transform writes x scaled into dst (len(x)) and returns it.
func (s *Scaler) Transform(dst, x []float64) []float64 {
	dst = dst[:len(x)]
	for i, v := range x {
		v = s.raw(i, v)
		w := s.max[i] - s.min[i]
		switch {
		case math.IsNaN(v) || !(w > 0):
			dst[i] = 0
		default:
			dst[i] = math.Max(0, math.Min(1, (v-s.min[i])/w))
		}
	}
	return dst
}

// Encoder turns raw rows with numeric and nominal features into [0, 1]
// vectors for a Forest, learning as it goes: numeric features are
// log-compressed and min-max scaled (Scaler), nominal ones (given as
// small integer codes) are replaced by their frequency so far, so that a
// rare category lands near 0 and is isolated by few splits. NaN encodes
// as 0. Encode learns the row first, then transforms it.
type Encoder struct {
	nominal []bool
	scaler  *Scaler
	counts  [][]float64
	total   float64
	buf     []float64
}

// NewEncoder returns an encoder for rows whose features are nominal where
// nominal[i] is set.
func NewEncoder(nominal []bool) *Encoder {
	log := make([]bool, len(nominal))
	for i, n := range nominal {
		log[i] = !n
	}
	return &Encoder{nominal: append([]bool(nil), nominal...), scaler: NewScaler(len(nominal), log),
		counts: make([][]float64, len(nominal)), buf: make([]float64, len(nominal))}
}

// maxCodes caps the nominal codes an Encoder counts per feature.
const maxCodes = 1 << 16

// Encode learns x and returns its encoding (valid until the next call).
func (e *Encoder) Encode(x []float64) []float64 {
	out := e.scaler.LearnTransform(e.buf, x)
	e.total++
	for i, nom := range e.nominal {
		if !nom {
			continue
		}
		v := x[i]
		if math.IsNaN(v) || v < 0 || v >= maxCodes {
			out[i] = 0
			continue
		}
		k := int(v)
		for len(e.counts[i]) <= k {
			e.counts[i] = append(e.counts[i], 0)
		}
		e.counts[i][k]++
		out[i] = e.counts[i][k] / e.total
	}
	return out
}
