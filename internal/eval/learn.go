package eval

import (
	"fmt"
	"math"
	"strings"
)

// This file: prequential (test-then-train) evaluation of streaming
// learners, and multi-class confusion matrices.

// ClassConfusion is a multi-class confusion matrix: M[truth][predicted].
type ClassConfusion struct {
	M [][]int64
}

// Add counts one prediction.
func (c *ClassConfusion) Add(truth, pred int) {
	n := max(truth, pred) + 1
	for len(c.M) < n {
		c.M = append(c.M, nil)
	}
	for i := range c.M {
		for len(c.M[i]) < len(c.M) {
			c.M[i] = append(c.M[i], 0)
		}
	}
	c.M[truth][pred]++
}

// Accuracy is the share of correct predictions.
func (c *ClassConfusion) Accuracy() float64 {
	var right, all int64
	for i, row := range c.M {
		for j, v := range row {
			all += v
			if i == j {
				right += v
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(right) / float64(all)
}

// Binary collapses the matrix to good (class 0) against bad (any other
// class): a bad item predicted as any bad class counts as detected.
func (c *ClassConfusion) Binary() Confusion {
	var b Confusion
	for i, row := range c.M {
		for j, v := range row {
			switch n := int(v); {
			case i != 0 && j != 0:
				b.TP += n
			case i != 0:
				b.FN += n
			case j != 0:
				b.FP += n
			default:
				b.TN += n
			}
		}
	}
	return b
}

// Format renders the matrix with class names (rows: truth).
func (c *ClassConfusion) Format(names []string) string {
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return fmt.Sprintf("class%d", i)
	}
	w := 8
	for i := range c.M {
		w = max(w, len(name(i))+1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%*s", w, "truth\\pred")
	for j := range c.M {
		fmt.Fprintf(&b, " %*s", w, name(j))
	}
	b.WriteByte('\n')
	for i, row := range c.M {
		fmt.Fprintf(&b, "%*s", w, name(i))
		for _, v := range row {
			fmt.Fprintf(&b, " %*d", w, v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// PrequentialPoint is the state after N items.
type PrequentialPoint struct {
	N        int64
	Accuracy float64 // cumulative
	Window   float64 // accuracy over the last window
	AUC      float64 // cumulative ROC AUC (binary tasks with scores; NaN otherwise)
}

// Prequential accumulates a test-then-train run: each item is predicted
// (and scored) before the learner sees its label.
type Prequential struct {
	Every int // a curve point every Every items (0 = 1000)

	Confusion ClassConfusion
	Curve     []PrequentialPoint
	N         int64

	winRight, winN int64
	scores         []float64
	bad            []bool
	// MaxScores bounds the scores kept for AUC (0 = 10,000,000); beyond
	// it, AUC uses the first MaxScores.
	MaxScores int
}

// Add records one prediction; score is the item's score for "bad" (class
// ≠ 0), or NaN when the learner gives none.
func (p *Prequential) Add(truth, pred int, score float64) {
	p.N++
	p.Confusion.Add(truth, pred)
	p.winN++
	if truth == pred {
		p.winRight++
	}
	limit := p.MaxScores
	if limit <= 0 {
		limit = 10_000_000
	}
	if !math.IsNaN(score) && len(p.scores) < limit {
		p.scores = append(p.scores, score)
		p.bad = append(p.bad, truth != 0)
	}
	every := int64(p.Every)
	if every <= 0 {
		every = 1000
	}
	if p.N%every == 0 {
		p.point()
	}
}

func (p *Prequential) point() {
	pt := PrequentialPoint{N: p.N, Accuracy: p.Confusion.Accuracy(), AUC: math.NaN()}
	if p.winN > 0 {
		pt.Window = float64(p.winRight) / float64(p.winN)
	}
	if len(p.scores) > 0 && len(p.Curve)%10 == 9 { // AUC is O(n log n): every 10th point
		pt.AUC = AUCOf(p.scores, p.bad)
	}
	p.Curve = append(p.Curve, pt)
	p.winRight, p.winN = 0, 0
}

// Finish adds a last curve point if items arrived since the last one.
func (p *Prequential) Finish() {
	if p.winN > 0 {
		p.point()
	}
	if n := len(p.Curve); n > 0 && len(p.scores) > 0 {
		p.Curve[n-1].AUC = p.AUC()
	}
}

// Accuracy is the cumulative accuracy.
func (p *Prequential) Accuracy() float64 { return p.Confusion.Accuracy() }

// AUC is the ROC AUC of the scores against "bad" labels (NaN without
// scores or without both classes).
func (p *Prequential) AUC() float64 {
	if len(p.scores) == 0 {
		return math.NaN()
	}
	var pos, neg bool
	for _, b := range p.bad {
		pos = pos || b
		neg = neg || !b
	}
	if !pos || !neg {
		return math.NaN()
	}
	return AUCOf(p.scores, p.bad)
}

// Scores returns the recorded scores and labels (for ROC plots).
func (p *Prequential) Scores() ([]float64, []bool) { return p.scores, p.bad }
