package eval

import (
	"fmt"
	"math"
	"sort"
)

// This file: binary-classifier evaluation (ROC curve and AUC, confusion
// matrix, cost-based operating points) for winnow's learners. Convention:
// "positive" is bad (attack, anomaly), a higher score means more likely
// bad, and an item is called bad when score ≥ threshold.

// Confusion is a confusion matrix with bad as the positive class.
type Confusion struct {
	TP int // bad called bad
	FP int // good called bad (blocked good traffic)
	TN int // good called good
	FN int // bad called good (missed bad traffic)
}

// Add counts one item.
func (c *Confusion) Add(bad, calledBad bool) {
	switch {
	case bad && calledBad:
		c.TP++
	case bad:
		c.FN++
	case calledBad:
		c.FP++
	default:
		c.TN++
	}
}

// N is the number of items.
func (c Confusion) N() int { return c.TP + c.FP + c.TN + c.FN }

// TPR is the share of bad items called bad (recall, detection rate).
func (c Confusion) TPR() float64 { return ratio(c.TP, c.TP+c.FN) }

// FPR is the share of good items called bad (false-positive rate).
func (c Confusion) FPR() float64 { return ratio(c.FP, c.FP+c.TN) }

// Precision is the share of items called bad that are bad.
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Accuracy is the share of items classified correctly.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.N()) }

// F1 is the harmonic mean of precision and recall.
func (c Confusion) F1() float64 {
	p, r := c.Precision(), c.TPR()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Cost is the total cost of the matrix under costs.
func (c Confusion) Cost(k Costs) float64 {
	return k.BlockGood*float64(c.FP) + k.MissBad*float64(c.FN)
}

// String renders the matrix as two labelled rows.
func (c Confusion) String() string {
	return fmt.Sprintf("              called good  called bad\n  good  %12d  %10d\n  bad   %12d  %10d",
		c.TN, c.FP, c.FN, c.TP)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Costs are what a wrong verdict costs: blocking (or alerting on) one good
// item, and missing one bad item. Only their ratio matters.
type Costs struct {
	BlockGood float64
	MissBad   float64
}

// ROCPoint is one operating point: items with score ≥ Threshold are called
// bad.
type ROCPoint struct {
	Threshold float64
	Confusion
}

// ROC returns the curve's operating points, one per distinct score, from
// the strictest threshold (+Inf: nothing called bad) to the loosest (the
// lowest score: everything called bad). NaN scores count as the lowest.
func ROC(scores []float64, bad []bool) []ROCPoint {
	if len(scores) != len(bad) {
		panic("eval.ROC: scores and labels differ in length")
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) float64 {
		if math.IsNaN(scores[i]) {
			return math.Inf(-1)
		}
		return scores[i]
	}
	sort.Slice(idx, func(a, b int) bool { return key(idx[a]) > key(idx[b]) })
	var pos, neg int
	for _, b := range bad {
		if b {
			pos++
		} else {
			neg++
		}
	}
	pts := []ROCPoint{{Threshold: math.Inf(1), Confusion: Confusion{FN: pos, TN: neg}}}
	c := pts[0].Confusion
	for i := 0; i < len(idx); {
		s := key(idx[i])
		for i < len(idx) && key(idx[i]) == s {
			if bad[idx[i]] {
				c.TP++
				c.FN--
			} else {
				c.FP++
				c.TN--
			}
			i++
		}
		pts = append(pts, ROCPoint{Threshold: s, Confusion: c})
	}
	return pts
}

// AUC is the area under the ROC curve (trapezoids, so tied scores count
// one half): the probability that a random bad item scores above a random
// good one. It is 0.5 when either class is empty.
func AUC(pts []ROCPoint) float64 {
	if len(pts) == 0 {
		return 0.5
	}
	last := pts[len(pts)-1]
	pos, neg := last.TP+last.FN, last.FP+last.TN
	if pos == 0 || neg == 0 {
		return 0.5
	}
	area := 0.0
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		area += float64(b.FP-a.FP) * float64(a.TP+b.TP) / 2
	}
	return area / float64(pos) / float64(neg)
}

// AUCOf is AUC(ROC(scores, bad)).
func AUCOf(scores []float64, bad []bool) float64 { return AUC(ROC(scores, bad)) }

// At returns the confusion matrix at threshold t.
func At(scores []float64, bad []bool, t float64) Confusion {
	var c Confusion
	for i, s := range scores {
		c.Add(bad[i], s >= t)
	}
	return c
}

// BestAtFPR returns the operating point with the highest TPR whose FPR is
// at most maxFPR (the strictest point when none qualifies).
func BestAtFPR(pts []ROCPoint, maxFPR float64) ROCPoint {
	best := pts[0]
	for _, p := range pts {
		if p.FPR() <= maxFPR && p.TPR() > best.TPR() {
			best = p
		}
	}
	return best
}

// MinCost returns the operating point of least total cost (ties: the
// stricter threshold, i.e. fewer good items blocked) and a threshold for
// new data: the midpoint between that point's score and the next lower
// score, so that items scoring like the weakest caught bad item are still
// caught and a margin is left above the strongest passed item.
func MinCost(pts []ROCPoint, k Costs) (ROCPoint, float64) {
	bi := 0
	for i, p := range pts {
		if p.Cost(k) < pts[bi].Cost(k) {
			bi = i
		}
	}
	p := pts[bi]
	if bi == 0 || bi == len(pts)-1 {
		return p, p.Threshold
	}
	return p, midpoint(pts[bi+1].Threshold, p.Threshold)
}

// MinCostCentred is MinCost for validation data that cannot separate
// thresholds: when several operating points share the least cost (as on a
// validation split that resembles the training data, where a wide band of
// thresholds makes the same few errors), it returns the threshold in the
// middle of that band rather than at its strict end, leaving a margin on
// both sides for data that differs from the validation split, and the
// operating point the validation data has there. With one least-cost
// point it is MinCost.
func MinCostCentred(pts []ROCPoint, k Costs) (ROCPoint, float64) {
	best := math.Inf(1)
	for _, p := range pts {
		best = min(best, p.Cost(k))
	}
	first, last := -1, -1
	for i, p := range pts {
		if p.Cost(k) == best {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first == last || first == 0 || last == len(pts)-1 {
		return MinCost(pts, k)
	}
	th := midpoint(pts[last].Threshold, pts[first].Threshold)
	// The operating point at th: the last point whose threshold is ≥ th
	// (points run from the strictest threshold down).
	j := first
	for j+1 < len(pts) && pts[j+1].Threshold >= th {
		j++
	}
	return pts[j], th
}

// midpoint of lo < hi (hi when lo is −Inf).
func midpoint(lo, hi float64) float64 {
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return hi
	}
	return lo + (hi-lo)/2
}

// CostCurve returns, per operating point, the total cost under k (for
// plotting cost against threshold).
func CostCurve(pts []ROCPoint, k Costs) []float64 {
	out := make([]float64, len(pts))
	for i, p := range pts {
		out[i] = p.Cost(k)
	}
	return out
}
