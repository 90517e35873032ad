package forest

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Config are a forest's training parameters.
type Config struct {
	Trees int // trees in the forest (100); 1 with Bootstrap off grows a single CART tree
	// MaxFeatures is the number of attributes tried per split (0 = √d, as
	// Breiman; d for a single tree).
	MaxFeatures int
	MinLeaf     int  // minimum training rows in a leaf (1)
	MaxDepth    int  // 0 = unlimited
	Bootstrap   bool // sample rows with replacement per tree (random forest)
	// Balanced weights classes inversely to their frequency, so a rare
	// class weighs as much as a common one.
	Balanced bool
	Seed     uint64
	Workers  int // trees grown in parallel (0 = GOMAXPROCS)
}

// DefaultConfig is a random forest of 100 fully grown trees.
func DefaultConfig() Config {
	return Config{Trees: 100, MinLeaf: 1, Bootstrap: true, Seed: 1}
}

// TreeConfig is a single CART tree for explanation: every attribute tried
// per split, no bootstrap, depth and leaf size bounded so it stays
// readable.
func TreeConfig() Config {
	return Config{Trees: 1, MinLeaf: 20, MaxDepth: 8, Seed: 1}
}

// Forest is a trained ensemble of trees (one tree for a CART model).
type Forest struct {
	Attrs   []Attr
	Classes []string
	// Positive is the class whose probability is the score (for a binary
	// task, the "bad" class); Threshold is the score at or above which a
	// prediction is positive.
	Positive  int
	Threshold float64
	Trees     []*Tree
}

// Report is what training measured.
type Report struct {
	Rows, Trees int
	// OOB: out-of-bag accuracy and AUC (scored by the trees that did not
	// see each row); NaN when there was no bootstrap.
	OOBAccuracy, OOBAUC float64
	OOBRows             int
	// Importance is the mean decrease in Gini impurity per attribute,
	// normalised to sum to 1.
	Importance []float64
	// OOBScore and OOBLabel are the positive class's out-of-bag score and
	// whether the row is positive (rows without an OOB score are left
	// out), for threshold selection.
	OOBScore []float64
	OOBLabel []bool
	// Nodes, Leaves, Depth are summed (depth: maximum) over the trees.
	Nodes, Leaves, Depth int
}

// Train grows a forest on d. positive names the class scored (usually
// the bad class).
func Train(d *Dataset, positive int, cfg Config) (*Forest, *Report, error) {
	if err := d.check(); err != nil {
		return nil, nil, fmt.Errorf("cannot train forest: %w", err)
	}
	if positive < 0 || positive >= len(d.Classes) {
		return nil, nil, fmt.Errorf("cannot train forest: positive class %d out of range", positive)
	}
	if cfg.Trees < 1 || cfg.Trees > 10000 {
		return nil, nil, errors.New("cannot train forest: trees must be 1–10000")
	}
	if cfg.MinLeaf < 1 {
		cfg.MinLeaf = 1
	}
	w := len(d.Attrs)
	if cfg.MaxFeatures <= 0 || cfg.MaxFeatures > w {
		cfg.MaxFeatures = w
		if cfg.Bootstrap || cfg.Trees > 1 {
			cfg.MaxFeatures = max(1, int(math.Round(math.Sqrt(float64(w)))))
		}
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, cfg.Trees)
	b := binData(d)
	n, C := d.N(), len(d.Classes)
	classW := make([]float64, C)
	for c := range classW {
		classW[c] = 1
	}
	if cfg.Balanced {
		cnt := make([]float64, C)
		for _, y := range d.Y {
			cnt[y]++
		}
		for c := range classW {
			if cnt[c] > 0 {
				classW[c] = float64(n) / (float64(C) * cnt[c])
			}
		}
	}
	f := &Forest{Attrs: d.Attrs, Classes: d.Classes, Positive: positive, Threshold: 0.5, Trees: make([]*Tree, cfg.Trees)}
	rep := &Report{Rows: n, Trees: cfg.Trees, Importance: make([]float64, w), OOBAccuracy: math.NaN(), OOBAUC: math.NaN()}
	var oob []float64 // n × C summed OOB probabilities
	var oobN []int32
	if cfg.Bootstrap {
		oob = make([]float64, n*C)
		oobN = make([]int32, n)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan int)
	gcfg := growConfig{maxFeatures: cfg.MaxFeatures, minLeaf: float64(cfg.MinLeaf), maxDepth: cfg.MaxDepth}
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := &grower{b: b, y: d.Y, classes: C, cfg: gcfg, w: make([]float64, n), rows: make([]int32, 0, n)}
			var localOOB []float64
			var localN []int32
			if cfg.Bootstrap {
				localOOB, localN = make([]float64, n*C), make([]int32, n)
			}
			imp := make([]float64, w)
			for ti := range next {
				g.rng = rand.New(rand.NewPCG(cfg.Seed, uint64(ti)+1))
				if cfg.Bootstrap {
					clear(g.w)
					for range n {
						g.w[g.rng.IntN(n)]++
					}
				} else {
					for i := range g.w {
						g.w[i] = 1
					}
				}
				for i, y := range d.Y {
					g.w[i] *= classW[y]
				}
				t := g.grow()
				for a, v := range g.imp {
					imp[a] += v
				}
				if cfg.Bootstrap {
					for i := range n {
						if g.w[i] == 0 {
							t.addProba(localOOB[i*C:(i+1)*C], d.Row(i))
							localN[i]++
						}
					}
				}
				f.Trees[ti] = t
			}
			mu.Lock()
			for a, v := range imp {
				rep.Importance[a] += v
			}
			for i, v := range localOOB {
				oob[i] += v
			}
			for i, v := range localN {
				oobN[i] += v
			}
			mu.Unlock()
		}()
	}
	for ti := range cfg.Trees {
		next <- ti
	}
	close(next)
	wg.Wait()
	normalise(rep.Importance)
	for _, t := range f.Trees {
		nn, l, dd := t.Size()
		rep.Nodes += nn
		rep.Leaves += l
		rep.Depth = max(rep.Depth, dd)
	}
	if cfg.Bootstrap {
		right := 0
		for i := range n {
			if oobN[i] == 0 {
				continue
			}
			p := oob[i*C : (i+1)*C]
			s := p[positive] / float64(oobN[i])
			rep.OOBScore = append(rep.OOBScore, s)
			rep.OOBLabel = append(rep.OOBLabel, d.Y[i] == positive)
			pred := argmax(p)
			if C == 2 {
				pred = 1 - positive
				if s >= f.Threshold {
					pred = positive
				}
			}
			if pred == d.Y[i] {
				right++
			}
		}
		rep.OOBRows = len(rep.OOBScore)
		if rep.OOBRows > 0 {
			rep.OOBAccuracy = float64(right) / float64(rep.OOBRows)
			rep.OOBAUC = auc(rep.OOBScore, rep.OOBLabel)
		}
	}
	return f, rep, nil
}

func normalise(v []float64) {
	s := 0.0
	for _, x := range v {
		s += x
	}
	if s > 0 {
		for i := range v {
			v[i] /= s
		}
	}
}

func argmax(p []float64) int {
	best := 0
	for i := range p {
		if p[i] > p[best] {
			best = i
		}
	}
	return best
}

// Proba writes the class probabilities of x (the mean of the trees' leaf
// distributions) into dst, grown to len(Classes).
func (f *Forest) Proba(dst, x []float64) []float64 {
	dst = slices.Grow(dst[:0], len(f.Classes))[:len(f.Classes)]
	clear(dst)
	for _, t := range f.Trees {
		t.addProba(dst, x)
	}
	for i := range dst {
		dst[i] /= float64(len(f.Trees))
	}
	return dst
}

// Score is the positive class's probability for x.
func (f *Forest) Score(x []float64) float64 {
	s := 0.0
	for _, t := range f.Trees {
		s += float64(t.nodeDist(t.leaf(x))[f.Positive])
	}
	return s / float64(len(f.Trees))
}

// Predict returns x's class: for two classes, Positive when the score
// reaches Threshold; otherwise the most probable class.
func (f *Forest) Predict(x []float64) int {
	if len(f.Classes) == 2 {
		if f.Score(x) >= f.Threshold {
			return f.Positive
		}
		return 1 - f.Positive
	}
	var buf [16]float64
	return argmax(f.Proba(buf[:0], x))
}

// Contribution is an attribute's share of a score.
type Contribution struct {
	Attr   int
	Name   string
	Value  float64
	Shown  string  // the value as text (nominal values by name)
	Effect float64 // change of the positive class's probability due to the attribute
}

// Explain decomposes x's score into a bias (the training share of the
// positive class) plus one contribution per attribute: along each tree's
// path, the change of the positive class's probability at a split is
// credited to the split's attribute, averaged over trees (Saabas' method).
// It returns the n contributions of largest magnitude, in that order.
func (f *Forest) Explain(x []float64, n int) (bias float64, top []Contribution) {
	eff := make([]float64, len(f.Attrs))
	used := make([]bool, len(f.Attrs))
	for _, t := range f.Trees {
		i := 0
		prev := float64(t.nodeDist(0)[f.Positive])
		bias += prev
		for {
			nd := &t.nodes[i]
			if nd.attr < 0 {
				break
			}
			if t.goesLeft(nd, x) {
				i = int(nd.left)
			} else {
				i = int(nd.right)
			}
			p := float64(t.nodeDist(i)[f.Positive])
			eff[nd.attr] += p - prev
			used[nd.attr] = true
			prev = p
		}
	}
	k := float64(len(f.Trees))
	bias /= k
	for a := range eff {
		if !used[a] {
			continue
		}
		top = append(top, Contribution{Attr: a, Name: f.Attrs[a].Name, Value: x[a], Shown: f.ValueText(a, x[a]), Effect: eff[a] / k})
	}
	slices.SortStableFunc(top, func(p, q Contribution) int {
		switch ap, aq := math.Abs(p.Effect), math.Abs(q.Effect); {
		case ap > aq:
			return -1
		case ap < aq:
			return 1
		}
		return 0
	})
	if len(top) > n {
		top = top[:n]
	}
	return bias, top
}

// ValueText renders attribute a's value v (nominal values by name).
func (f *Forest) ValueText(a int, v float64) string {
	if math.IsNaN(v) {
		return "missing"
	}
	at := f.Attrs[a]
	if at.Nominal {
		return valueName(at, int(v))
	}
	return fmtNum(v)
}

// Path is x's path through the first tree (the explanation of a single
// CART model).
func (f *Forest) Path(x []float64) (root float64, steps []Step) {
	return f.Trees[0].Path(x, f.Attrs, f.Positive)
}

// auc is the ROC AUC of scores (positives should score higher), with ties
// counted half.
func auc(scores []float64, pos []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case scores[a] < scores[b]:
			return -1
		case scores[a] > scores[b]:
			return 1
		}
		return 0
	})
	var np, nn float64
	for _, p := range pos {
		if p {
			np++
		} else {
			nn++
		}
	}
	if np == 0 || nn == 0 {
		return math.NaN()
	}
	rankSum := 0.0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		r := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if pos[idx[k]] {
				rankSum += r
			}
		}
		i = j
	}
	return (rankSum - np*(np+1)/2) / (np * nn)
}
