package forest

import (
	"math"
	"slices"
	"sort"
)

// Bins: numeric attributes are cut into at most maxBins ordered bins; bin b
// holds the values v with cuts[b-1] < v ≤ cuts[b]. A nominal value k is
// bin min(k, otherBin). Missing values are bin missingBin.
const (
	maxBins    = 254
	otherBin   = 254
	missingBin = 255
	histBins   = 256
)

// binned is a dataset's attributes as bin indices, column-major.
type binned struct {
	cols    [][]uint8
	cuts    [][]float64 // numeric: upper bound of each bin but the last
	nominal []bool
	nbins   []int // bins in use per attribute (excluding missing)
}

// sampleCap bounds the rows used to find a numeric attribute's cuts.
const sampleCap = 200_000

func binData(d *Dataset) *binned {
	n, w := d.N(), len(d.Attrs)
	b := &binned{cols: make([][]uint8, w), cuts: make([][]float64, w), nominal: make([]bool, w), nbins: make([]int, w)}
	vals := make([]float64, 0, min(n, sampleCap))
	step := max(1, n/sampleCap)
	for a, at := range d.Attrs {
		col := make([]uint8, n)
		b.cols[a] = col
		if at.Nominal {
			b.nominal[a] = true
			top := 0
			for i := range n {
				v := d.X[i*w+a]
				k := nominalBin(v)
				col[i] = k
				if k != missingBin && int(k)+1 > top {
					top = int(k) + 1
				}
			}
			b.nbins[a] = top
			continue
		}
		vals = vals[:0]
		for i := 0; i < n; i += step {
			if v := d.X[i*w+a]; !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		cuts := cutPoints(vals)
		b.cuts[a] = cuts
		b.nbins[a] = len(cuts) + 1
		for i := range n {
			v := d.X[i*w+a]
			if math.IsNaN(v) {
				col[i] = missingBin
				continue
			}
			col[i] = uint8(sort.SearchFloat64s(cuts, v))
		}
	}
	return b
}

// nominalBin maps a nominal value to its bin.
func nominalBin(v float64) uint8 {
	if math.IsNaN(v) || v < 0 {
		return missingBin
	}
	if v >= otherBin {
		return otherBin
	}
	return uint8(v)
}

// cutPoints returns at most maxBins−1 cuts: midpoints between consecutive
// distinct values when there are few, else between quantiles.
func cutPoints(vals []float64) []float64 {
	if len(vals) == 0 {
		return nil
	}
	slices.Sort(vals)
	distinct := vals[:0:0]
	counts := []int{}
	for i, v := range vals {
		if i == 0 || v != vals[i-1] {
			distinct = append(distinct, v)
			counts = append(counts, 0)
		}
		counts[len(counts)-1]++
	}
	var cuts []float64
	if len(distinct) <= maxBins {
		for i := 1; i < len(distinct); i++ {
			cuts = append(cuts, mid(distinct[i-1], distinct[i]))
		}
		return cuts
	}
	// Quantile cuts over the distinct values weighted by count: a cut
	// after the distinct value where the running count passes each
	// quantile; values heavier than a bin get a bin of their own.
	per := float64(len(vals)) / maxBins
	run, next := 0.0, per
	for i := 0; i < len(distinct)-1; i++ {
		run += float64(counts[i])
		if run >= next {
			cuts = append(cuts, mid(distinct[i], distinct[i+1]))
			for next <= run {
				next += per
			}
			if len(cuts) == maxBins-1 {
				break
			}
		}
	}
	return cuts
}

func mid(a, b float64) float64 {
	m := a + (b-a)/2
	if m >= b { // adjacent floats
		return a
	}
	return m
}
