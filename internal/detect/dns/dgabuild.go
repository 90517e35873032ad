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
	// Iterations is the cap on Newton steps of the logistic fit (0: 50).
	Iterations int
	// Comment lines for the model file.
	Comment []string
}

// DefaultDGAFeatures are the inputs fitted by default.
var DefaultDGAFeatures = []string{"bpc", "loglen", "rare", "maxbits"}

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
		iters = 50
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
	return c.Model(weights, ts.Comment), nil
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

// fitLogistic fits weights (bias first) of an L2-penalised logistic
// regression (penalty lambda on standardised inputs, not on the bias),
// with the two classes weighted equally whatever their sizes, by Newton's
// method (at most iters steps; a few dozen reach the optimum), then maps
// them back to raw inputs.
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
	// Standardised inputs with a leading 1 for the bias.
	Z := make([][]float64, len(X))
	for i, x := range X {
		z := make([]float64, d+1)
		z[0] = 1
		for j, v := range x {
			z[j+1] = (v - mean[j]) / sd[j]
		}
		Z[i] = z
	}
	var npos float64
	for _, v := range y {
		npos += v
	}
	n := float64(len(y))
	cw := [2]float64{n / (2 * (n - npos)), n / (2 * npos)} // class weights
	w := make([]float64, d+1)
	loss := func(w []float64) float64 {
		l := 0.0
		for i, z := range Z {
			s := dot(w, z)
			// −log σ(±s), stably
			if y[i] == 1 {
				l += cw[1] * softplus(-s)
			} else {
				l += cw[0] * softplus(s)
			}
		}
		l /= n
		for j := 1; j <= d; j++ {
			l += lambda / 2 * w[j] * w[j]
		}
		return l
	}
	g := make([]float64, d+1)
	H := make([][]float64, d+1)
	for j := range H {
		H[j] = make([]float64, d+1)
	}
	cur := loss(w)
	for it := 0; it < iters; it++ {
		clear(g)
		for j := range H {
			clear(H[j])
		}
		for i, z := range Z {
			p := sigmoid(dot(w, z))
			c := cw[int(y[i])]
			e, h := c*(p-y[i]), c*p*(1-p)
			for j, zj := range z {
				g[j] += e * zj
				for k := 0; k <= j; k++ {
					H[j][k] += h * zj * z[k]
				}
			}
		}
		for j := range g {
			g[j] /= n
			for k := 0; k <= j; k++ {
				H[j][k] /= n
				H[k][j] = H[j][k]
			}
			if j > 0 {
				g[j] += lambda * w[j]
				H[j][j] += lambda
			}
		}
		step, ok := solve(H, g)
		if !ok {
			break
		}
		// Damped step: halve until the loss does not rise.
		t := 1.0
		next := make([]float64, d+1)
		for try := 0; try < 30; try++ {
			for j := range w {
				next[j] = w[j] - t*step[j]
			}
			if l := loss(next); l <= cur {
				copy(w, next)
				improved := cur - l
				cur = l
				if improved < 1e-12 {
					it = iters
				}
				break
			}
			t /= 2
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

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// softplus is ln(1 + e^x), without overflow.
func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

// solve solves A·x = b for a small symmetric positive definite A by
// Gaussian elimination with partial pivoting; ok is false when A is
// singular.
func solve(A [][]float64, b []float64) (x []float64, ok bool) {
	n := len(b)
	M := make([][]float64, n)
	for i := range M {
		M[i] = append(append(make([]float64, 0, n+1), A[i]...), b[i])
	}
	for c := 0; c < n; c++ {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(M[r][c]) > math.Abs(M[p][c]) {
				p = r
			}
		}
		if math.Abs(M[p][c]) < 1e-300 {
			return nil, false
		}
		M[c], M[p] = M[p], M[c]
		for r := c + 1; r < n; r++ {
			f := M[r][c] / M[c][c]
			for k := c; k <= n; k++ {
				M[r][k] -= f * M[c][k]
			}
		}
	}
	x = make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := M[r][n]
		for k := r + 1; k < n; k++ {
			s -= M[r][k] * x[k]
		}
		x[r] = s / M[r][r]
	}
	return x, true
}
