// Package stattest holds the hypothesis tests winnow runs per micro-batch
// (e.g. ten minutes of one entity's events against the history of that
// entity): the chi-square goodness-of-fit test of a categorical
// distribution (HTTP status mix, DNS query types, login outcomes), the
// two-sample Kolmogorov–Smirnov test with the Kolmogorov asymptotic
// p-value, and a simple outlier-count (binomial) test. p-values come from
// gonum's stat/distuv; every result carries the numbers a finding shows
// (the observed vs. expected table).
package stattest

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// Cell is one row of an observed vs. expected table.
type Cell struct {
	Category string  `json:"category"`
	Observed float64 `json:"observed"`
	Expected float64 `json:"expected"`
	// Contribution is (O−E)²/E, this cell's part of the statistic.
	Contribution float64 `json:"contribution"`
}

// String renders a cell for text reports: "404: 130 observed vs 16.0 expected".
func (c Cell) String() string {
	return fmt.Sprintf("%s: %g observed vs %.1f expected", c.Category, c.Observed, c.Expected)
}

// ChiSquare is a goodness-of-fit result.
type ChiSquare struct {
	Stat  float64 // Σ (O−E)²/E over the (pooled) cells
	DF    int     // cells − 1
	P     float64 // P(χ²_DF ≥ Stat)
	N     float64 // observations in the batch
	Table []Cell  // cells as tested, largest contribution first
}

// MinExpected is the smallest expected count a cell may have; smaller
// cells are pooled into "other" (Cochran's rule of thumb).
const MinExpected = 5

// ErrTooFew is returned when a test has too little data to say anything.
var ErrTooFew = fmt.Errorf("stattest: too few observations")

// ChiSquareGOF tests observed counts per category against the proportions
// of a reference (history) distribution. Categories absent from the
// reference get a pseudo-count (add-½ smoothing) so that a category never
// seen before is very unexpected, not impossible. Cells with expected
// counts under MinExpected are pooled into "other". At least two cells
// and one observation are needed.
func ChiSquareGOF(observed, reference map[string]float64) (ChiSquare, error) {
	var res ChiSquare
	cats := make(map[string]bool, len(observed)+len(reference))
	for c := range observed {
		cats[c] = true
	}
	for c := range reference {
		cats[c] = true
	}
	// Sums in category order: a map's order changes from run to run, and
	// so would the last bits of a float sum (and a finding at the edge).
	names := make([]string, 0, len(cats))
	for c := range cats {
		names = append(names, c)
	}
	sort.Strings(names)
	var refTotal float64
	for _, c := range names {
		n, ok := observed[c]
		if ok && (n < 0 || math.IsNaN(n)) {
			return res, fmt.Errorf("stattest: negative or NaN count for %q", c)
		}
		res.N += n
		r, ok := reference[c]
		if ok && (r < 0 || math.IsNaN(r)) {
			return res, fmt.Errorf("stattest: negative or NaN reference count for %q", c)
		}
		refTotal += r
	}
	if res.N <= 0 || refTotal <= 0 || len(cats) < 2 {
		return res, ErrTooFew
	}
	const pseudo = 0.5
	smoothed := refTotal + pseudo*float64(len(cats))
	cells := make([]Cell, 0, len(cats))
	for _, c := range names {
		p := (reference[c] + pseudo) / smoothed
		cells = append(cells, Cell{Category: c, Observed: observed[c], Expected: p * res.N})
	}
	sort.Slice(cells, func(i, j int) bool {
		if cells[i].Expected != cells[j].Expected {
			return cells[i].Expected > cells[j].Expected
		}
		return cells[i].Category < cells[j].Category
	})
	// Pool small cells, unless pooling would leave fewer than two.
	var kept []Cell
	other := Cell{Category: "other"}
	for _, c := range cells {
		if c.Expected >= MinExpected {
			kept = append(kept, c)
		} else {
			other.Observed += c.Observed
			other.Expected += c.Expected
		}
	}
	if other.Expected > 0 {
		kept = append(kept, other)
	}
	if len(kept) < 2 {
		kept = cells
	}
	for i := range kept {
		c := &kept[i]
		d := c.Observed - c.Expected
		c.Contribution = d * d / c.Expected
		res.Stat += c.Contribution
	}
	res.DF = len(kept) - 1
	res.P = distuv.ChiSquared{K: float64(res.DF)}.Survival(res.Stat)
	sort.SliceStable(kept, func(i, j int) bool { return kept[i].Contribution > kept[j].Contribution })
	res.Table = kept
	return res, nil
}

// KS is a two-sample Kolmogorov–Smirnov result.
type KS struct {
	D    float64 // sup |F1 − F2|
	P    float64 // Kolmogorov asymptotic p-value
	N, M int
}

// KolmogorovSmirnov tests whether two samples come from one distribution.
// The samples are copied and sorted; the p-value is the Kolmogorov
// asymptotic one with Stephens' small-sample correction (see KolmogorovP).
func KolmogorovSmirnov(a, b []float64) (KS, error) {
	if len(a) == 0 || len(b) == 0 {
		return KS{}, ErrTooFew
	}
	x := append([]float64(nil), a...)
	y := append([]float64(nil), b...)
	sort.Float64s(x)
	sort.Float64s(y)
	d := KSStatSorted(x, y)
	return KS{D: d, P: KolmogorovP(d, len(x), len(y)), N: len(x), M: len(y)}, nil
}

// KSStatSorted is the two-sample KS statistic of two sorted samples, by
// a merge walk in O(n+m).
func KSStatSorted(a, b []float64) float64 {
	na, nb := float64(len(a)), float64(len(b))
	i, j := 0, 0
	d := 0.0
	for i < len(a) && j < len(b) {
		x := min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = max(d, math.Abs(float64(i)/na-float64(j)/nb))
	}
	return d
}

// KolmogorovP is the asymptotic p-value of a two-sample KS statistic d
// with sample sizes n and m: Q_KS(λ) with λ = (√N + 0.12 + 0.11/√N)·d and
// N = nm/(n+m) (Stephens' correction, as in Numerical Recipes).
func KolmogorovP(d float64, n, m int) float64 {
	if n <= 0 || m <= 0 {
		return 1
	}
	ne := float64(n) * float64(m) / float64(n+m)
	sq := math.Sqrt(ne)
	return KolmogorovQ((sq + 0.12 + 0.11/sq) * d)
}

// KolmogorovQ is the Kolmogorov distribution's survival function
// Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} (gonum has the KS statistic
// but no p-value).
func KolmogorovQ(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	a2 := -2 * lambda * lambda
	sum, sign, prev := 0.0, 1.0, 0.0
	for k := 1; k <= 100; k++ {
		term := sign * 2 * math.Exp(a2*float64(k*k))
		sum += term
		if math.Abs(term) <= 1e-10*prev || math.Abs(term) <= 1e-12*sum {
			return math.Max(0, math.Min(1, sum))
		}
		sign = -sign
		prev = math.Abs(term)
	}
	return 1
}

// OutlierCount is a binomial outlier-count result: in a batch of N points,
// K exceeded a limit that history exceeds with rate Rate.
type OutlierCount struct {
	N, K     int
	Rate     float64
	Expected float64 // N·Rate
	P        float64 // P(X ≥ K), X ~ Binomial(N, Rate)
}

// OutlierCountTest asks whether k exceedances in n points are more than a
// historical exceedance rate explains (one-sided binomial test).
func OutlierCountTest(n, k int, rate float64) (OutlierCount, error) {
	if n <= 0 || k < 0 || k > n || !(rate > 0 && rate < 1) {
		return OutlierCount{}, fmt.Errorf("stattest: outlier count needs 0 ≤ k ≤ n, n > 0 and 0 < rate < 1 (got n=%d k=%d rate=%v)", n, k, rate)
	}
	r := OutlierCount{N: n, K: k, Rate: rate, Expected: float64(n) * rate, P: 1}
	if k > 0 {
		// P(X ≥ k) = I_rate(k, n−k+1), computed directly (1 − CDF loses the
		// small p-values that matter here).
		r.P = mathext.RegIncBeta(float64(k), float64(n-k+1), rate)
	}
	return r, nil
}

// Mix tracks one entity's categorical distribution (status codes, query
// types, login outcomes): the counts of the open micro-batch and an
// exponentially decayed history of the closed ones. The number of
// categories kept is capped (an attacker controls them); the rest are
// counted as "other".
type Mix struct {
	batch   map[string]float64
	hist    map[string]float64
	Batches int // batches merged into the history
	max     int
	fresh   int   // batch categories not in the history
	Dropped int64 // observations counted as "other" because of the cap
}

// NewMix returns a Mix keeping at most maxCategories categories.
func NewMix(maxCategories int) *Mix {
	return &Mix{batch: map[string]float64{}, hist: map[string]float64{}, max: max(2, maxCategories)}
}

// Add counts n observations of category c in the open batch.
func (m *Mix) Add(c string, n float64) {
	if _, ok := m.batch[c]; !ok {
		if _, inHist := m.hist[c]; !inHist {
			if c != "other" && len(m.hist)+m.fresh >= m.max-1 { // one slot kept for "other"
				c = "other"
				m.Dropped += int64(n)
			}
			if _, ok := m.batch[c]; !ok {
				if _, inHist := m.hist[c]; !inHist {
					m.fresh++
				}
			}
		}
	}
	m.batch[c] += n
}

// BatchSize is the number of observations in the open batch.
func (m *Mix) BatchSize() float64 {
	var n float64
	for _, v := range m.batch {
		n += v
	}
	return n
}

// Close ends the open batch: when the history holds at least minBatches
// batches and the batch at least minN observations, it tests the batch
// against the history (tested reports whether it did); then it merges the
// batch into the history, older batches weighing decay each time.
func (m *Mix) Close(decay float64, minBatches int, minN float64) (res ChiSquare, tested bool) {
	n := m.BatchSize()
	if m.Batches >= minBatches && n >= minN {
		if r, err := ChiSquareGOF(m.batch, m.hist); err == nil {
			res, tested = r, true
		}
	}
	for c, v := range m.hist {
		v *= decay
		if v < 1e-3 {
			delete(m.hist, c)
			continue
		}
		m.hist[c] = v
	}
	for c, v := range m.batch {
		m.hist[c] += v
	}
	clear(m.batch)
	m.fresh = 0
	if n > 0 {
		m.Batches++
	}
	return res, tested
}

// Categories is how many categories the mix holds.
func (m *Mix) Categories() int { return len(m.hist) + m.fresh }
