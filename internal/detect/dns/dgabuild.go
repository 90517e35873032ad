package dns

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Building a DGA model: the benign character model is fitted on benign
// labels only; the logistic layer that turns a label's inputs (see
// DGAInputs) into a score is fitted on benign and DGA labels with two-fold
// cross-fitting — each label's surprisal comes from a character model
// that did not see it — so that it learns from surprisals of unseen
// benign names, as in real use. cmd/builddga writes the shipped model with
// it; the leave-family-out evaluation builds one model per held-out
// family with it.

// DGATrainingSet is what BuildDGAModel learns from.
type DGATrainingSet struct {
	// Benign are benign registered labels (the character model and the
	// negatives of the logistic layer).
	Benign []string
	// Words are extra benign strings for the character model only
	// (common host labels).
	Words []string
	// DGA are generated registered labels (the positives).
	DGA []string
	// Features are the inputs fitted (DGAFeatureNames; the others get
	// weight 0). Empty: DefaultDGAFeatures.
	Features []string
	// Dictionary is the word list labels are segmented with (lower-case
	// words; see Model.SetWords).
	Dictionary []string
	// Iterations of the logistic fit (0: 4000).
	Iterations int
	// Comment lines for the model file.
	Comment []string
}

// DefaultDGAFeatures are the inputs fitted by default.
var DefaultDGAFeatures = []string{"bpc", "loglen", "vowels", "consrun", "unique"}

// ErrNoLabels is returned by BuildDGAModel when a class has no labels.
var ErrNoLabels = errors.New("no labels")

// BuildDGAModel fits a DGA model. Its threshold (weight "threshold") is
// set at 1 % false positives on the cross-fitted benign labels.
func BuildDGAModel(ts DGATrainingSet) (*Model, error) {
	benign := dedupeLabels(ts.Benign)
	if len(benign) < 2 || len(ts.DGA) == 0 {
		return nil, fmt.Errorf("cannot build DGA model: %w (%d benign, %d DGA)", ErrNoLabels, len(benign), len(ts.DGA))
	}
	feats := ts.Features
	if len(feats) == 0 {
		feats = DefaultDGAFeatures
	}
	idx := map[string]int{}
	for i, n := range dgaFeatureNames {
		idx[n] = i
	}
	for _, f := range feats {
		if _, ok := idx[f]; !ok {
			return nil, fmt.Errorf("cannot build DGA model: unknown feature %q (known: %v)", f, dgaFeatureNames)
		}
	}
	fold := func(s string) int { return int(labelHash(s) >> 7 % 2) }
	var models [2]*Model
	for k := 0; k < 2; k++ {
		c := NewCounts()
		for _, l := range benign {
			if fold(l) != k {
				c.AddLabel(l, 1)
			}
		}
		for _, w := range ts.Words {
			c.AddLabel(w, 1)
		}
		models[k] = c.Model(nil, nil)
		models[k].SetWords(ts.Dictionary)
	}
	var X [][]float64
	var y []float64
	add := func(label string, dga float64) {
		all := LabelInputs(models[fold(label)], label).Vector()
		x := make([]float64, len(feats))
		for i, f := range feats {
			x[i] = all[idx[f]]
		}
		X = append(X, x)
		y = append(y, dga)
	}
	for _, l := range benign {
		add(l, 0)
	}
	for _, l := range ts.DGA {
		if l != "" {
			add(l, 1)
		}
	}
	iters := ts.Iterations
	if iters <= 0 {
		iters = 4000
	}
	w := fitLogistic(X, y, 0.001, iters)
	weights := map[string]float64{"bias": w[0]}
	for i, n := range feats {
		weights[n] = w[i+1]
	}
	var neg []float64
	for i, x := range X {
		if y[i] == 0 {
			z := w[0]
			for j, v := range x {
				z += w[j+1] * v
			}
			neg = append(neg, sigmoid(z))
		}
	}
	sort.Float64s(neg)
	weights["threshold"] = math.Round(neg[len(neg)*99/100]*1000) / 1000
	c := NewCounts()
	for _, l := range benign {
		c.AddLabel(l, 1)
	}
	for _, wd := range ts.Words {
		c.AddLabel(wd, 1)
	}
	m := c.Model(weights, ts.Comment)
	m.SetWords(ts.Dictionary)
	return m, nil
}

func dedupeLabels(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// labelHash is FNV-1a (the cross-fitting folds).
func labelHash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// fitLogistic fits weights (bias first) by batch gradient descent on
// standardised inputs with L2 penalty lambda, then maps them back to raw
// inputs.
func fitLogistic(X [][]float64, y []float64, lambda float64, iters int) []float64 {
	d := len(X[0])
	mean, sd := make([]float64, d), make([]float64, d)
	for _, x := range X {
		for j, v := range x {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(X))
	}
	for _, x := range X {
		for j, v := range x {
			sd[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(len(X)))
		if sd[j] == 0 {
			sd[j] = 1
		}
	}
	// Standardise once.
	Z := make([][]float64, len(X))
	for i, x := range X {
		z := make([]float64, d)
		for j, v := range x {
			z[j] = (v - mean[j]) / sd[j]
		}
		Z[i] = z
	}
	// Classes weighted equally, whatever their sizes.
	var npos float64
	for _, v := range y {
		npos += v
	}
	nneg := float64(len(y)) - npos
	w := make([]float64, d+1)
	g := make([]float64, d+1)
	lr := 0.5
	for it := 0; it < iters; it++ {
		clear(g)
		for i, z := range Z {
			s := w[0]
			for j, v := range z {
				s += w[j+1] * v
			}
			e := sigmoid(s) - y[i]
			if y[i] == 1 {
				e *= float64(len(y)) / (2 * npos)
			} else {
				e *= float64(len(y)) / (2 * nneg)
			}
			g[0] += e
			for j, v := range z {
				g[j+1] += e * v
			}
		}
		for j := range w {
			reg := 0.0
			if j > 0 {
				reg = lambda * w[j]
			}
			w[j] -= lr * (g[j]/float64(len(X)) + reg)
		}
	}
	out := make([]float64, d+1)
	out[0] = w[0]
	for j := 0; j < d; j++ {
		out[j+1] = w[j+1] / sd[j]
		out[0] -= w[j+1] * mean[j] / sd[j]
	}
	return out
}
