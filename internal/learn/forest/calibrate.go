package forest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Novelty calibration: a forest trained on the attacks it has seen scores
// an attack of a new family lower than those it learned; a threshold
// chosen on out-of-bag scores (which are all of known families) is too
// high for the traffic it will meet. Calibrate picks the threshold the
// way the forest will be tested: whole families of positives are held out
// of training, and the threshold is chosen on the held-out families and
// on held-out negatives.

// CalibrateConfig configures Calibrate.
type CalibrateConfig struct {
	Folds int    // family folds (5)
	Trees int    // trees of each fold's forest (30)
	Base  Config // the rest of the forest configuration
	// NegativeShare is the share of negatives held out per fold (1/Folds).
	NegativeShare float64
	// CostFP and CostFN weigh a false positive against a missed
	// positive (1 and 1). Each held-out family counts as much as every
	// other, whatever its size (rare families are the novel ones), and the
	// negatives as much as all positives together.
	CostFP, CostFN float64
}

// Calibration is Calibrate's result.
type Calibration struct {
	Threshold float64
	// At the threshold: mean detection rate over held-out families and
	// false-positive rate over held-out negatives.
	TPR, FPR float64
	Families int
	Scores   []float64 // held-out scores (for plots)
	Labels   []bool
}

// Calibrate chooses a threshold on family-held-out folds. family gives a
// group index per row for positive rows (negative rows: ignored).
func Calibrate(d *Dataset, positive int, family []int, cfg CalibrateConfig) (Calibration, error) {
	if len(family) != d.N() {
		return Calibration{}, errors.New("cannot calibrate: one family per row needed")
	}
	if cfg.Folds < 2 {
		cfg.Folds = 5
	}
	if cfg.Trees < 1 {
		cfg.Trees = 30
	}
	if cfg.NegativeShare <= 0 || cfg.NegativeShare >= 1 {
		cfg.NegativeShare = 1 / float64(cfg.Folds)
	}
	if cfg.CostFP <= 0 {
		cfg.CostFP = 1
	}
	if cfg.CostFN <= 0 {
		cfg.CostFN = 1
	}
	// Families by size, dealt round-robin into folds so each fold holds
	// out big and small ones.
	size := map[int]int{}
	for i, y := range d.Y {
		if y == positive {
			size[family[i]]++
		}
	}
	fams := make([]int, 0, len(size))
	for f := range size {
		fams = append(fams, f)
	}
	slices.SortFunc(fams, func(a, b int) int {
		if size[a] != size[b] {
			return size[b] - size[a]
		}
		return a - b
	})
	if len(fams) < cfg.Folds {
		return Calibration{}, fmt.Errorf("cannot calibrate: %d families for %d folds", len(fams), cfg.Folds)
	}
	foldOf := map[int]int{}
	for i, f := range fams {
		foldOf[f] = i % cfg.Folds
	}
	rng := rand.New(rand.NewPCG(cfg.Base.Seed, 0xca1))
	negFold := make([]int, d.N())
	for i := range negFold {
		negFold[i] = -1
		if d.Y[i] != positive && rng.Float64() < cfg.NegativeShare*float64(cfg.Folds) {
			negFold[i] = rng.IntN(cfg.Folds)
		}
	}
	var cal Calibration
	var famOf []int
	for k := range cfg.Folds {
		tr := &Dataset{Attrs: d.Attrs, Classes: d.Classes}
		var held []int
		for i, y := range d.Y {
			out := (y == positive && foldOf[family[i]] == k) || (y != positive && negFold[i] == k)
			if out {
				held = append(held, i)
			} else {
				tr.Add(d.Row(i), y)
			}
		}
		c := cfg.Base
		c.Trees = cfg.Trees
		f, _, err := Train(tr, positive, c)
		if err != nil {
			return Calibration{}, fmt.Errorf("cannot calibrate fold %d: %w", k, err)
		}
		for _, i := range held {
			cal.Scores = append(cal.Scores, f.Score(d.Row(i)))
			cal.Labels = append(cal.Labels, d.Y[i] == positive)
			famOf = append(famOf, family[i])
		}
	}
	// Weighted cost per candidate threshold: each family weighs 1/F of
	// the positives, each negative 1/N of the negatives.
	famW := map[int]float64{}
	nNeg := 0.0
	for i, l := range cal.Labels {
		if l {
			famW[famOf[i]]++
		} else {
			nNeg++
		}
	}
	cal.Families = len(famW)
	w := make([]float64, len(cal.Labels))
	for i, l := range cal.Labels {
		if l {
			w[i] = 1 / (famW[famOf[i]] * float64(len(famW)))
		} else {
			w[i] = 1 / nNeg
		}
	}
	idx := make([]int, len(w))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case cal.Scores[a] > cal.Scores[b]:
			return -1
		case cal.Scores[a] < cal.Scores[b]:
			return 1
		}
		return 0
	})
	// Threshold above every score: all positives missed.
	tp, fp := 0.0, 0.0
	bestCost := cfg.CostFN
	cal.Threshold, cal.TPR, cal.FPR = math.Nextafter(1, 2), 0, 0
	for j := 0; j < len(idx); {
		s := cal.Scores[idx[j]]
		for j < len(idx) && cal.Scores[idx[j]] == s {
			if cal.Labels[idx[j]] {
				tp += w[idx[j]]
			} else {
				fp += w[idx[j]]
			}
			j++
		}
		cost := cfg.CostFP*fp + cfg.CostFN*(1-tp)
		if cost < bestCost-1e-12 {
			bestCost = cost
			next := 0.0
			if j < len(idx) {
				next = cal.Scores[idx[j]]
			}
			cal.Threshold, cal.TPR, cal.FPR = (s+next)/2, tp, fp
		}
	}
	return cal, nil
}
