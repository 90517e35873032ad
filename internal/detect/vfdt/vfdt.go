// Package vfdt implements the Hoeffding tree (VFDT: Domingos & Hulten,
// "Mining High-Speed Data Streams", KDD 2000), a supervised classifier that
// learns from a stream in one pass with bounded memory per leaf.
//
// A leaf keeps sufficient statistics: class counts, per nominal attribute
// the counts of (value, class), per numeric attribute a Gaussian estimator
// (count, mean, variance, minimum, maximum) per class. Every GracePeriod
// instances a leaf evaluates the information gain of splitting on each
// attribute — nominal attributes split multiway (one branch per value),
// numeric ones in two at the best of SplitPoints candidate thresholds
// between the observed extremes, with the branch weights estimated from
// the per-class Gaussians (as MOA's GaussianNumericAttributeClassObserver
// does) — and splits on the best attribute when the Hoeffding bound
//
//	ε = sqrt(R² ln(1/δ) / (2n)),  R = log2(classes)
//
// says it beats the second best (G₁ − G₂ > ε), or when the two are so
// close that waiting cannot tell them apart (ε < τ, the tie threshold).
// "No split" competes with merit 0. Leaves predict by naive Bayes
// adaptive (NBA, River's and MOA's default): each leaf counts whether its
// majority class or its naive-Bayes estimate would have been right on the
// instances it learned, and uses the better one.
//
// Defaults follow River's HoeffdingTreeClassifier: grace period 200,
// δ = 1e-7, τ = 0.05. The tree is deterministic (no randomness); classes
// and nominal values are small integers that may grow as the stream
// shows new ones. Not safe for concurrent use.
package vfdt

import (
	"errors"
	"math"
)

// Attr describes one attribute. A nominal attribute's values are 0, 1, 2,
// … (as float64); NaN is a missing value for either kind.
type Attr struct {
	Name    string
	Nominal bool
}

// Prediction modes of leaves.
const (
	MajorityClass    = "mc"
	NaiveBayes       = "nb"
	NaiveBayesAdapt  = "nba"
	defaultMaxValues = 1024
)

// Config are the tree's parameters.
type Config struct {
	GracePeriod int     // instances a leaf sees between split attempts (200)
	Delta       float64 // 1 − confidence of a split decision (1e-7)
	Tau         float64 // tie threshold (0.05)
	SplitPoints int     // candidate thresholds per numeric attribute (10)
	Leaf        string  // "mc", "nb" or "nba" (default)
	MaxNodes    int     // nodes beyond which leaves stop splitting (0 = 1,000,000)
	MaxValues   int     // nominal values tracked per attribute (0 = 1024); larger indices are treated as missing
}

// DefaultConfig is River's default configuration.
func DefaultConfig() Config {
	return Config{GracePeriod: 200, Delta: 1e-7, Tau: 0.05, SplitPoints: 10, Leaf: NaiveBayesAdapt}
}

// Tree is a Hoeffding tree.
type Tree struct {
	cfg     Config
	attrs   []Attr
	classes int
	nodes   []*node
	leaves  int
	depth   int
	// scratch
	post [][]float64
	mant []float64
	exp  []int
}

// node is a split node (attr ≥ 0) or a leaf (attr < 0).
type node struct {
	attr      int
	threshold float64   // numeric split: left if x < threshold
	children  []int32   // numeric: [left, right]; nominal: by value (-1 = none yet)
	dist      []float64 // class weights (for a split node: at split time)
	depth     int

	// Leaf statistics.
	seenAtEval float64
	nominal    [][][]float64 // [attr][value][class]
	numeric    [][]gauss     // [attr][class]
	mcRight    float64
	nbRight    float64
	inactive   bool
}

// gauss is a Welford estimator with extremes.
type gauss struct {
	n, mean, m2 float64
	min, max    float64
}

func (g *gauss) add(x float64) {
	if g.n == 0 {
		g.min, g.max = x, x
	} else if x < g.min {
		g.min = x
	} else if x > g.max {
		g.max = x
	}
	g.n++
	d := x - g.mean
	g.mean += d / g.n
	g.m2 += d * (x - g.mean)
}

func (g *gauss) variance() float64 {
	if g.n < 2 {
		return 0
	}
	return g.m2 / (g.n - 1)
}

// New returns an empty tree over attrs with classes known classes (more
// may appear while learning).
func New(attrs []Attr, classes int, cfg Config) (*Tree, error) {
	if len(attrs) == 0 {
		return nil, errors.New("vfdt: no attributes")
	}
	if cfg.GracePeriod < 1 || !(cfg.Delta > 0 && cfg.Delta < 1) || !(cfg.Tau >= 0) || cfg.SplitPoints < 1 {
		return nil, errors.New("vfdt: need grace period ≥ 1, 0 < δ < 1, τ ≥ 0, split points ≥ 1")
	}
	switch cfg.Leaf {
	case "":
		cfg.Leaf = NaiveBayesAdapt
	case MajorityClass, NaiveBayes, NaiveBayesAdapt:
	default:
		return nil, errors.New("vfdt: leaf prediction must be mc, nb or nba")
	}
	if cfg.MaxNodes <= 0 {
		cfg.MaxNodes = 1_000_000
	}
	if cfg.MaxValues <= 0 {
		cfg.MaxValues = defaultMaxValues
	}
	t := &Tree{cfg: cfg, attrs: append([]Attr(nil), attrs...), classes: max(classes, 1)}
	t.nodes = []*node{t.newLeaf(nil, 0)}
	t.leaves = 1
	return t, nil
}

func (t *Tree) newLeaf(dist []float64, depth int) *node {
	n := &node{attr: -1, depth: depth, dist: make([]float64, t.classes)}
	copy(n.dist, dist)
	n.seenAtEval = sum(n.dist)
	n.nominal = make([][][]float64, len(t.attrs))
	n.numeric = make([][]gauss, len(t.attrs))
	for a, at := range t.attrs {
		if !at.Nominal {
			n.numeric[a] = make([]gauss, t.classes)
		}
	}
	if depth > t.depth {
		t.depth = depth
	}
	return n
}

// Classes is the number of classes seen (or declared).
func (t *Tree) Classes() int { return t.classes }

// Size returns the number of nodes, leaves and the depth.
func (t *Tree) Size() (nodes, leaves, depth int) { return len(t.nodes), t.leaves, t.depth }

// leafOf walks x to its leaf; for learning, missing nominal branches are
// created. It returns the node index.
func (t *Tree) leafOf(x []float64, learning bool) int32 {
	i := int32(0)
	for {
		n := t.nodes[i]
		if n.attr < 0 {
			return i
		}
		v := x[n.attr]
		if !t.attrs[n.attr].Nominal {
			if v < n.threshold || math.IsNaN(v) {
				i = n.children[0]
			} else {
				i = n.children[1]
			}
			continue
		}
		k, ok := t.value(v)
		if !ok {
			return i // missing value: stop at the split (it predicts from its own distribution)
		}
		if k >= len(n.children) || n.children[k] < 0 {
			if !learning {
				return i
			}
			for len(n.children) <= k {
				n.children = append(n.children, -1)
			}
			n.children[k] = int32(len(t.nodes))
			t.nodes = append(t.nodes, t.newLeaf(nil, n.depth+1))
			t.leaves++
		}
		i = n.children[k]
	}
}

// value maps a nominal feature to its index.
func (t *Tree) value(v float64) (int, bool) {
	if math.IsNaN(v) || v < 0 || v >= float64(t.cfg.MaxValues) {
		return 0, false
	}
	return int(v), true
}

func (t *Tree) growClasses(y int) {
	if y < t.classes {
		return
	}
	t.classes = y + 1
}

func grow(s []float64, n int) []float64 {
	for len(s) < n {
		s = append(s, 0)
	}
	return s
}

// Learn trains the tree on one instance of class y (≥ 0).
func (t *Tree) Learn(x []float64, y int) {
	if y < 0 {
		return
	}
	t.growClasses(y)
	li := t.leafOf(x, true)
	n := t.nodes[li]
	if n.attr >= 0 { // stopped at a split on a missing value
		n.dist = grow(n.dist, t.classes)
		n.dist[y]++
		return
	}
	n.dist = grow(n.dist, t.classes)
	if t.cfg.Leaf == NaiveBayesAdapt {
		if argmax(n.dist) == y {
			n.mcRight++
		}
		if t.nbClass(n, x) == y {
			n.nbRight++
		}
	}
	n.dist[y]++
	for a, at := range t.attrs {
		v := x[a]
		if at.Nominal {
			k, ok := t.value(v)
			if !ok {
				continue
			}
			obs := n.nominal[a]
			for len(obs) <= k {
				obs = append(obs, nil)
			}
			obs[k] = grow(obs[k], y+1)
			obs[k][y]++
			n.nominal[a] = obs
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		for len(n.numeric[a]) <= y {
			n.numeric[a] = append(n.numeric[a], gauss{})
		}
		n.numeric[a][y].add(v)
	}
	total := sum(n.dist)
	if !n.inactive && total-n.seenAtEval >= float64(t.cfg.GracePeriod) {
		n.seenAtEval = total
		t.attemptSplit(li)
	}
}

// split is a candidate split.
type split struct {
	attr      int
	threshold float64
	merit     float64
	post      [][]float64 // class weights per branch
}

func (t *Tree) attemptSplit(li int32) {
	n := t.nodes[li]
	nonZero := 0
	for _, w := range n.dist {
		if w > 0 {
			nonZero++
		}
	}
	if nonZero < 2 {
		return
	}
	if len(t.nodes) >= t.cfg.MaxNodes {
		n.inactive = true
		return
	}
	pre := entropy(n.dist)
	best, second := split{attr: -1}, split{attr: -1} // the null split: merit 0
	for a, at := range t.attrs {
		var s split
		var ok bool
		if at.Nominal {
			s, ok = t.nominalSplit(n, a, pre)
		} else {
			s, ok = t.numericSplit(n, a, pre)
		}
		if !ok {
			continue
		}
		switch {
		case s.merit > best.merit:
			second, best = best, s
		case s.merit > second.merit:
			second = s
		}
	}
	if best.attr < 0 {
		return
	}
	r := math.Log2(float64(max(t.classes, 2)))
	total := sum(n.dist)
	eps := math.Sqrt(r * r * math.Log(1/t.cfg.Delta) / (2 * total))
	if best.merit-second.merit <= eps && eps >= t.cfg.Tau {
		return
	}
	// Split: the leaf becomes a split node with fresh leaves below.
	n.attr = best.attr
	n.threshold = best.threshold
	n.nominal, n.numeric = nil, nil
	n.children = make([]int32, len(best.post))
	for i, d := range best.post {
		if t.attrs[best.attr].Nominal && sum(d) == 0 {
			n.children[i] = -1
			continue
		}
		n.children[i] = int32(len(t.nodes))
		t.nodes = append(t.nodes, t.newLeaf(d, n.depth+1))
		t.leaves++
	}
	t.leaves--
}

// minBranchFraction: a split must send at least this share of the weight
// to at least two branches (River's min_branch_fraction).
const minBranchFraction = 0.01

func (t *Tree) nominalSplit(n *node, a int, pre float64) (split, bool) {
	obs := n.nominal[a]
	if len(obs) < 2 {
		return split{}, false
	}
	post := make([][]float64, len(obs))
	total, post0 := 0.0, 0.0
	big := 0
	for v, cls := range obs {
		post[v] = make([]float64, t.classes)
		copy(post[v], cls)
		total += sum(post[v])
	}
	if total == 0 {
		return split{}, false
	}
	for _, d := range post {
		w := sum(d)
		if w/total >= minBranchFraction {
			big++
		}
		post0 += w / total * entropy(d)
	}
	if big < 2 {
		return split{}, false
	}
	return split{attr: a, merit: pre - post0, post: post}, true
}

func (t *Tree) numericSplit(n *node, a int, pre float64) (split, bool) {
	est := n.numeric[a]
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, g := range est {
		if g.n > 0 {
			lo, hi = math.Min(lo, g.min), math.Max(hi, g.max)
		}
	}
	if !(hi > lo) {
		return split{}, false
	}
	best := split{attr: -1}
	left, right := make([]float64, t.classes), make([]float64, t.classes)
	for k := 1; k <= t.cfg.SplitPoints; k++ {
		thr := lo + (hi-lo)*float64(k)/float64(t.cfg.SplitPoints+1)
		for c := range left {
			left[c], right[c] = 0, 0
			if c >= len(est) || est[c].n == 0 {
				continue
			}
			g := &est[c]
			var l float64
			switch {
			case thr <= g.min:
				l = 0
			case thr > g.max:
				l = g.n
			default:
				sd := math.Sqrt(g.variance())
				if sd > 0 {
					l = g.n * 0.5 * math.Erfc(-(thr-g.mean)/(sd*math.Sqrt2))
				} else if thr > g.mean {
					l = g.n
				}
			}
			left[c], right[c] = l, g.n-l
		}
		lw, rw := sum(left), sum(right)
		tw := lw + rw
		if tw == 0 || lw/tw < minBranchFraction || rw/tw < minBranchFraction {
			continue
		}
		merit := pre - (lw/tw*entropy(left) + rw/tw*entropy(right))
		if merit > best.merit || best.attr < 0 {
			best = split{attr: a, threshold: thr, merit: merit,
				post: [][]float64{append([]float64(nil), left...), append([]float64(nil), right...)}}
		}
	}
	return best, best.attr >= 0
}

// Predict returns the most probable class of x (0 for an untrained tree).
func (t *Tree) Predict(x []float64) int {
	n := t.nodes[t.leafOf(x, false)]
	if n.attr >= 0 || t.cfg.Leaf == MajorityClass || (t.cfg.Leaf == NaiveBayesAdapt && n.mcRight >= n.nbRight) {
		return argmax(n.dist)
	}
	return t.nbClass(n, x)
}

// Proba writes the class probabilities of x into dst (grown to Classes())
// and returns it: the leaf's naive-Bayes posterior when the leaf predicts
// by naive Bayes, else its Laplace-smoothed class frequencies.
func (t *Tree) Proba(dst, x []float64) []float64 {
	dst = grow(dst[:0], t.classes)
	n := t.nodes[t.leafOf(x, false)]
	useNB := n.attr < 0 && (t.cfg.Leaf == NaiveBayes || (t.cfg.Leaf == NaiveBayesAdapt && n.nbRight > n.mcRight))
	if useNB {
		t.nbLog(n, x, dst)
		m := math.Inf(-1)
		for _, v := range dst {
			m = math.Max(m, v)
		}
		s := 0.0
		for i, v := range dst {
			dst[i] = math.Exp(v - m)
			s += dst[i]
		}
		for i := range dst {
			dst[i] /= s
		}
		return dst
	}
	total := 0.0
	for c := range dst {
		if c < len(n.dist) {
			total += n.dist[c]
		}
	}
	for c := range dst {
		w := 0.0
		if c < len(n.dist) {
			w = n.dist[c]
		}
		dst[c] = (w + 1) / (total + float64(len(dst)))
	}
	return dst
}

// nbClass is the naive-Bayes class at leaf n.
func (t *Tree) nbClass(n *node, x []float64) int {
	if len(t.post) == 0 {
		t.post = [][]float64{nil}
	}
	t.post[0] = grow(t.post[0][:0], t.classes)
	t.nbLog(n, x, t.post[0])
	best, bi := math.Inf(-1), 0
	for c, v := range t.post[0] {
		if v > best {
			best, bi = v, c
		}
	}
	return bi
}

// nbLog writes log P(c) + Σ log P(x_a | c) per class into dst.
//
// The likelihood factors that are ratios (nominal frequencies, 1/σ of the
// Gaussians) are multiplied into a mantissa/exponent pair per class and
// logged once at the end, so the cost per attribute is a square root, not
// a logarithm. Standard deviations are floored at 1/1000 of the
// attribute's observed range at the leaf: a class whose attribute never
// varied still gives other values a small, finite likelihood.
func (t *Tree) nbLog(n *node, x []float64, dst []float64) {
	k := len(dst)
	if cap(t.mant) < k {
		t.mant, t.exp = make([]float64, k), make([]int, k)
	}
	mant, exp := t.mant[:k], t.exp[:k]
	total := sum(n.dist)
	for c := range dst {
		mant[c], exp[c] = 1, 0
		nc := 0.0
		if c < len(n.dist) {
			nc = n.dist[c]
		}
		if nc == 0 {
			dst[c] = math.Inf(-1)
			continue
		}
		dst[c] = math.Log(nc / total)
	}
	for a, at := range t.attrs {
		v := x[a]
		if at.Nominal {
			kv, ok := t.value(v)
			obs := n.nominal[a]
			if !ok || len(obs) == 0 {
				continue
			}
			for c := range dst {
				if math.IsInf(dst[c], -1) {
					continue
				}
				nc := n.dist[c]
				cnt := 0.0
				if kv < len(obs) && c < len(obs[kv]) {
					cnt = obs[kv][c]
				}
				mant[c] *= (cnt + 1) / (nc + float64(len(obs)))
				m, e := math.Frexp(mant[c])
				mant[c], exp[c] = m, exp[c]+e
			}
			continue
		}
		if math.IsNaN(v) {
			continue
		}
		est := n.numeric[a]
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range est {
			if g := &est[i]; g.n > 0 {
				if g.min < lo {
					lo = g.min
				}
				if g.max > hi {
					hi = g.max
				}
			}
		}
		floor := (hi - lo) / 1000
		if !(floor > 1e-9) {
			floor = 1e-9
		}
		for c := range dst {
			if c >= len(est) || est[c].n == 0 || math.IsInf(dst[c], -1) {
				continue
			}
			g := &est[c]
			sd := math.Sqrt(g.variance())
			if sd < floor {
				sd = floor
			}
			z := (v - g.mean) / sd
			dst[c] -= 0.5*z*z + 0.9189385332046727 // ln √(2π)
			mant[c] /= sd
			m, e := math.Frexp(mant[c])
			mant[c], exp[c] = m, exp[c]+e
		}
	}
	for c := range dst {
		if !math.IsInf(dst[c], -1) {
			dst[c] += math.Log(mant[c]) + float64(exp[c])*math.Ln2
		}
	}
}

func sum(s []float64) float64 {
	t := 0.0
	for _, v := range s {
		t += v
	}
	return t
}

func argmax(s []float64) int {
	bi, bv := 0, math.Inf(-1)
	for i, v := range s {
		if v > bv {
			bi, bv = i, v
		}
	}
	return bi
}

func entropy(d []float64) float64 {
	t := sum(d)
	if t <= 0 {
		return 0
	}
	h := 0.0
	for _, v := range d {
		if v > 0 {
			p := v / t
			h -= p * math.Log2(p)
		}
	}
	return h
}
