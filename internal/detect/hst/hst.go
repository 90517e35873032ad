// Package hst implements Half-Space Trees (Tan, Ting & Liu, "Fast Anomaly
// Detection for Streaming Data", IJCAI 2011): an unsupervised, streaming
// anomaly detector that scores how little "mass" (how few recent points)
// lives around a point.
//
// Each tree splits the feature space at random: every internal node picks
// a feature (with probability proportional to the width of its current
// range) and a split point uniformly inside the middle of that range
// (a 15 % margin on each side), down to a fixed height. Each node counts
// the points that reached it in two windows: r, the last complete window
// (the reference), and l, the window being filled. A point's score sums,
// over trees and along its path, r·2^depth down to the first node whose
// r-mass is below a size limit (10 % of the window); every window_size
// points l replaces r. The score is normalised to 0–1 and inverted, so 1
// is most anomalous (as River's HalfSpaceTrees does: its defaults — 10
// trees, height 8, window 250 — are the defaults here, and the scores
// match River's definition).
//
// Features are expected in [0, 1]. Scaler learns per-feature ranges from
// the stream (and can log-compress heavy-tailed counts) so raw features
// can be fed. Everything is deterministic given the seed.
//
// Cost: one walk of height+1 nodes per tree per point for scoring and
// learning together (ScoreLearn); no allocation per point.
package hst

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Config are the forest's parameters.
type Config struct {
	Trees      int     // number of trees (River: 10)
	Height     int     // depth of each tree (River: 8)
	WindowSize int     // points per reference window (River: 250)
	Seed       uint64  // random seed; the same seed gives the same forest
	SizeLimit  float64 // r-mass below which a path stops; 0 = 0.1 × WindowSize
}

// DefaultConfig is River's default: 10 trees of height 8, window 250.
func DefaultConfig() Config { return Config{Trees: 10, Height: 8, WindowSize: 250, Seed: 42} }

// node is one node of a tree in heap order (children of i at 2i+1, 2i+2).
type node struct {
	feature int32   // split feature; -1 for a leaf
	split   float64 // left if x[feature] < split
	l, r    uint32  // mass of the current and the reference window
}

// Forest is a Half-Space Trees detector. Not safe for concurrent use.
type Forest struct {
	cfg      Config
	dims     int
	nodes    []node // Trees × (2^(Height+1) − 1)
	perTree  int
	count    int  // points in the current window
	ready    bool // a reference window exists
	maxScore float64
	limit    uint32
}

// New builds a forest for dims features in [0, 1].
func New(dims int, cfg Config) (*Forest, error) {
	if dims < 1 || cfg.Trees < 1 || cfg.Height < 1 || cfg.Height > 20 || cfg.WindowSize < 1 {
		return nil, errors.New("hst: need dims ≥ 1, trees ≥ 1, 1 ≤ height ≤ 20, window ≥ 1")
	}
	if cfg.SizeLimit == 0 {
		cfg.SizeLimit = 0.1 * float64(cfg.WindowSize)
	}
	if cfg.SizeLimit < 0 || math.IsNaN(cfg.SizeLimit) {
		return nil, fmt.Errorf("hst: size limit %v must be ≥ 0", cfg.SizeLimit)
	}
	f := &Forest{cfg: cfg, dims: dims, perTree: 1<<(cfg.Height+1) - 1}
	f.nodes = make([]node, cfg.Trees*f.perTree)
	f.limit = uint32(math.Ceil(cfg.SizeLimit))
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15))
	lo, hi := make([]float64, dims), make([]float64, dims)
	for t := 0; t < cfg.Trees; t++ {
		for i := range lo {
			lo[i], hi[i] = 0, 1
		}
		f.build(f.nodes[t*f.perTree:(t+1)*f.perTree], 0, 0, lo, hi, rng)
	}
	f.maxScore = float64(cfg.Trees) * float64(cfg.WindowSize) * float64(int64(1)<<(cfg.Height+1)-1)
	return f, nil
}

// build fills node i (at depth) and its subtree for the ranges lo/hi.
func (f *Forest) build(tree []node, i, depth int, lo, hi []float64, rng *rand.Rand) {
	if depth == f.cfg.Height {
		tree[i].feature = -1
		return
	}
	// Feature with probability proportional to its range width.
	total := 0.0
	for k := range lo {
		total += hi[k] - lo[k]
	}
	u := rng.Float64() * total
	k := 0
	for ; k < len(lo)-1; k++ {
		u -= hi[k] - lo[k]
		if u < 0 {
			break
		}
	}
	const padding = 0.15
	a, b := lo[k], hi[k]
	split := a + padding*(b-a) + rng.Float64()*(1-2*padding)*(b-a)
	tree[i] = node{feature: int32(k), split: split}
	oldHi := hi[k]
	hi[k] = split
	f.build(tree, 2*i+1, depth+1, lo, hi, rng)
	hi[k] = oldHi
	oldLo := lo[k]
	lo[k] = split
	f.build(tree, 2*i+2, depth+1, lo, hi, rng)
	lo[k] = oldLo
}

// Dims is the number of features.
func (f *Forest) Dims() int { return f.dims }

// Ready reports whether a reference window exists (before it, Score is 0
// for every point... as in River, the first window only learns).
func (f *Forest) Ready() bool { return f.ready }

// Score returns x's anomaly score in [0, 1] (1 = most anomalous) without
// learning it. x must have Dims features.
func (f *Forest) Score(x []float64) float64 {
	if !f.ready {
		return 0
	}
	s := 0.0
	for t := 0; t < f.cfg.Trees; t++ {
		tree := f.nodes[t*f.perTree : (t+1)*f.perTree]
		i := 0
		for depth := 0; ; depth++ {
			n := &tree[i]
			s += float64(n.r) * float64(int64(1)<<depth)
			if n.feature < 0 || n.r < f.limit {
				break
			}
			if x[n.feature] < n.split {
				i = 2*i + 1
			} else {
				i = 2*i + 2
			}
		}
	}
	return 1 - s/f.maxScore
}

// Learn adds x to the current window.
func (f *Forest) Learn(x []float64) {
	for t := 0; t < f.cfg.Trees; t++ {
		tree := f.nodes[t*f.perTree : (t+1)*f.perTree]
		i := 0
		for {
			n := &tree[i]
			n.l++
			if n.feature < 0 {
				break
			}
			if x[n.feature] < n.split {
				i = 2*i + 1
			} else {
				i = 2*i + 2
			}
		}
	}
	f.tick()
}

// ScoreLearn scores x, then learns it, in one walk per tree (test-then-
// train, the prequential order).
func (f *Forest) ScoreLearn(x []float64) float64 {
	s := 0.0
	for t := 0; t < f.cfg.Trees; t++ {
		tree := f.nodes[t*f.perTree : (t+1)*f.perTree]
		i := 0
		scoring := f.ready
		for depth := 0; ; depth++ {
			n := &tree[i]
			n.l++
			if scoring {
				s += float64(n.r) * float64(int64(1)<<depth)
				if n.r < f.limit {
					scoring = false
				}
			}
			if n.feature < 0 {
				break
			}
			if x[n.feature] < n.split {
				i = 2*i + 1
			} else {
				i = 2*i + 2
			}
		}
	}
	ready := f.ready
	f.tick()
	if !ready {
		return 0
	}
	return 1 - s/f.maxScore
}

// tick counts a point and swaps windows when one is full.
func (f *Forest) tick() {
	f.count++
	if f.count < f.cfg.WindowSize {
		return
	}
	for i := range f.nodes {
		f.nodes[i].r, f.nodes[i].l = f.nodes[i].l, 0
	}
	f.count = 0
	f.ready = true
}
