package forest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Tree is a binary decision tree. Node 0 is the root; children always have
// larger indices than their parent.
type Tree struct {
	nodes   []node
	dist    []float32 // class distribution per node: nodes[i] at i*classes
	cats    []uint64  // nominal splits' left sets, bitsets over values
	classes int
}

// node is a split (attr ≥ 0) or a leaf (attr < 0).
type node struct {
	attr        int32
	left, right int32
	threshold   float64 // numeric: left when x ≤ threshold
	cat0, catN  int32   // nominal: cats[cat0 : cat0+catN] is the left set
	missLeft    bool    // missing (and unseen nominal) values go left
	weight      float64 // training weight that reached the node
}

// Size returns the number of nodes, leaves and the depth.
func (t *Tree) Size() (nodes, leaves, depth int) {
	d := make([]int, len(t.nodes))
	for i, n := range t.nodes {
		if n.attr < 0 {
			leaves++
			depth = max(depth, d[i])
			continue
		}
		d[n.left], d[n.right] = d[i]+1, d[i]+1
	}
	return len(t.nodes), leaves, depth
}

// goesLeft reports whether x takes node n's left branch.
func (t *Tree) goesLeft(n *node, x []float64) bool {
	v := x[n.attr]
	if math.IsNaN(v) {
		return n.missLeft
	}
	if n.catN == 0 {
		return v <= n.threshold
	}
	if v < 0 {
		return n.missLeft
	}
	k := int(nominalBin(v))
	if k >= int(n.catN)*64 {
		return n.missLeft
	}
	return t.cats[int(n.cat0)+k/64]&(1<<(k%64)) != 0
}

// leaf returns the index of x's leaf.
func (t *Tree) leaf(x []float64) int {
	i := 0
	for {
		n := &t.nodes[i]
		if n.attr < 0 {
			return i
		}
		if t.goesLeft(n, x) {
			i = int(n.left)
		} else {
			i = int(n.right)
		}
	}
}

// Dist returns the class distribution of node i.
func (t *Tree) nodeDist(i int) []float32 { return t.dist[i*t.classes : (i+1)*t.classes] }

// Proba adds x's leaf distribution to dst (len classes).
func (t *Tree) addProba(dst []float64, x []float64) {
	for c, p := range t.nodeDist(t.leaf(x)) {
		dst[c] += float64(p)
	}
}

// Step is one decision on a path through a tree.
type Step struct {
	Attr  int     // attribute index
	Name  string  // attribute name
	Value float64 // x's value of the attribute
	// Test is the branch taken, readable: "dst_bytes ≤ 28.5",
	// "service ∈ {private, ecr_i}", "flag missing".
	Test string
	// Score is the positive class's probability after the step.
	Score float64
}

// Path is x's way through the tree, with the positive class's probability
// after each step; the last Score is the prediction.
func (t *Tree) Path(x []float64, attrs []Attr, positive int) (root float64, steps []Step) {
	i := 0
	root = float64(t.nodeDist(0)[positive])
	for {
		n := &t.nodes[i]
		if n.attr < 0 {
			return root, steps
		}
		left := t.goesLeft(n, x)
		if left {
			i = int(n.left)
		} else {
			i = int(n.right)
		}
		steps = append(steps, Step{Attr: int(n.attr), Name: attrs[n.attr].Name, Value: x[n.attr],
			Test: t.describe(n, attrs[n.attr], x[n.attr], left), Score: float64(t.nodeDist(i)[positive])})
	}
}

func (t *Tree) describe(n *node, a Attr, v float64, left bool) string {
	if math.IsNaN(v) {
		return a.Name + " missing"
	}
	if n.catN == 0 {
		op := "≤"
		if !left {
			op = ">"
		}
		return fmt.Sprintf("%s %s %s", a.Name, op, fmtNum(n.threshold))
	}
	var in []string
	for k := 0; k < int(n.catN)*64; k++ {
		if t.cats[int(n.cat0)+k/64]&(1<<(k%64)) != 0 == left {
			in = append(in, valueName(a, k))
		}
	}
	if len(in) > 6 {
		in = append(in[:5], fmt.Sprintf("… %d more", len(in)-5))
	}
	return fmt.Sprintf("%s = %s ∈ {%s}", a.Name, valueName(a, int(v)), strings.Join(in, ", "))
}

func valueName(a Attr, k int) string {
	if k >= 0 && k < len(a.Values) {
		return a.Values[k]
	}
	if k == otherBin {
		return "(other)"
	}
	return fmt.Sprintf("#%d", k)
}

func fmtNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.4g", f)
}

// Format renders the tree as indented text (for a small explanatory
// tree): each split's test and each leaf's class distribution.
func (t *Tree) Format(attrs []Attr, classes []string, maxDepth int) string {
	var sb strings.Builder
	var walk func(i, depth int, prefix string)
	walk = func(i, depth int, prefix string) {
		n := &t.nodes[i]
		if n.attr < 0 || depth >= maxDepth {
			d := t.nodeDist(i)
			best := 0
			for c := range d {
				if d[c] > d[best] {
					best = c
				}
			}
			fmt.Fprintf(&sb, "%s→ %s (%.0f%%, weight %.0f)\n", prefix, classes[best], 100*d[best], n.weight)
			return
		}
		a := attrs[n.attr]
		for _, left := range []bool{true, false} {
			child := n.right
			if left {
				child = n.left
			}
			fmt.Fprintf(&sb, "%s%s\n", prefix, t.splitText(n, a, left))
			walk(int(child), depth+1, prefix+"  ")
		}
	}
	walk(0, 0, "")
	return sb.String()
}

func (t *Tree) splitText(n *node, a Attr, left bool) string {
	miss := ""
	if n.missLeft == left {
		miss = " (or missing)"
	}
	if n.catN == 0 {
		op := "≤"
		if !left {
			op = ">"
		}
		return fmt.Sprintf("%s %s %s%s", a.Name, op, fmtNum(n.threshold), miss)
	}
	var in []string
	for k := 0; k < int(n.catN)*64; k++ {
		if t.cats[int(n.cat0)+k/64]&(1<<(k%64)) != 0 == left {
			in = append(in, valueName(a, k))
		}
	}
	if len(in) > 8 {
		in = append(in[:7], fmt.Sprintf("… %d more", len(in)-7))
	}
	if !left {
		return fmt.Sprintf("%s otherwise%s", a.Name, miss)
	}
	return fmt.Sprintf("%s ∈ {%s}%s", a.Name, strings.Join(in, ", "), miss)
}

// growConfig are the parameters of one tree's growth.
type growConfig struct {
	maxFeatures int // attributes tried per split
	minLeaf     float64
	maxDepth    int
}

// grower grows one tree on binned data.
type grower struct {
	b       *binned
	y       []int
	w       []float64
	classes int
	cfg     growConfig
	rng     *rand.Rand

	t     *Tree
	rows  []int32
	hist  []float64 // histBins × classes
	perm  []int
	order []int
	key   []float64
	imp   []float64 // impurity decrease per attribute
}

type split struct {
	attr     int
	gain     float64
	bin      int       // numeric: left = bins ≤ bin
	set      [4]uint64 // nominal: left bins
	missLeft bool
}

// grow builds a tree from the rows with positive weight.
func (g *grower) grow() *Tree {
	g.t = &Tree{classes: g.classes}
	g.hist = make([]float64, histBins*g.classes)
	g.perm = make([]int, len(g.b.cols))
	for i := range g.perm {
		g.perm[i] = i
	}
	g.imp = make([]float64, len(g.b.cols))
	g.rows = g.rows[:0]
	for i, w := range g.w {
		if w > 0 {
			g.rows = append(g.rows, int32(i))
		}
	}
	type task struct{ node, s, e, depth int }
	g.t.nodes = append(g.t.nodes, node{attr: -1})
	g.t.dist = append(g.t.dist, make([]float32, g.classes)...)
	stack := []task{{0, 0, len(g.rows), 0}}
	counts := make([]float64, g.classes)
	for len(stack) > 0 {
		tk := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		rows := g.rows[tk.s:tk.e]
		clear(counts)
		for _, r := range rows {
			counts[g.y[r]] += g.w[r]
		}
		total := 0.0
		nonZero := 0
		for _, c := range counts {
			total += c
			if c > 0 {
				nonZero++
			}
		}
		g.t.nodes[tk.node].weight = total
		d := g.t.nodeDist(tk.node)
		for c := range counts {
			d[c] = float32(counts[c] / total)
		}
		if nonZero < 2 || total < 2*g.cfg.minLeaf || (g.cfg.maxDepth > 0 && tk.depth >= g.cfg.maxDepth) {
			continue
		}
		sp, ok := g.best(rows, counts, total)
		if !ok {
			continue
		}
		g.imp[sp.attr] += sp.gain
		mid := g.partition(rows, &sp)
		if mid == 0 || mid == len(rows) {
			continue
		}
		li, ri := len(g.t.nodes), len(g.t.nodes)+1
		n := node{attr: int32(sp.attr), left: int32(li), right: int32(ri), missLeft: sp.missLeft, weight: total}
		if g.b.nominal[sp.attr] {
			words := (g.b.nbins[sp.attr] + 63) / 64
			n.cat0, n.catN = int32(len(g.t.cats)), int32(words)
			g.t.cats = append(g.t.cats, sp.set[:words]...)
		} else {
			n.threshold = g.b.cuts[sp.attr][sp.bin]
		}
		g.t.nodes[tk.node] = n
		g.t.nodes = append(g.t.nodes, node{attr: -1}, node{attr: -1})
		g.t.dist = append(g.t.dist, make([]float32, 2*g.classes)...)
		// Push right then left: the left subtree is built first (depth
		// first keeps the stack small).
		stack = append(stack, task{ri, tk.s + mid, tk.e, tk.depth + 1}, task{li, tk.s, tk.s + mid, tk.depth + 1})
	}
	return g.t
}

// best finds the best split of rows among a random subset of attributes;
// when none of them splits, the remaining attributes are tried in turn.
func (g *grower) best(rows []int32, counts []float64, total float64) (split, bool) {
	parent := sumSq(counts) / total
	best := split{gain: 1e-12 * total}
	found := false
	nattr := len(g.perm)
	for i := 0; i < nattr; i++ {
		j := i + g.rng.IntN(nattr-i)
		g.perm[i], g.perm[j] = g.perm[j], g.perm[i]
		a := g.perm[i]
		if sp, ok := g.evalAttr(a, rows, parent); ok && sp.gain > best.gain {
			best, found = sp, true
		}
		if i+1 >= g.cfg.maxFeatures && found {
			break
		}
	}
	return best, found
}

func sumSq(c []float64) float64 {
	s := 0.0
	for _, v := range c {
		s += v * v
	}
	return s
}

// evalAttr finds attribute a's best split of rows: the Gini impurity
// decrease (weighted) is Σ_children Σ_c n_c²/n − Σ_c N_c²/N.
func (g *grower) evalAttr(a int, rows []int32, parent float64) (split, bool) {
	C := g.classes
	h := g.hist
	clear(h)
	col := g.b.cols[a]
	for _, r := range rows {
		h[int(col[r])*C+g.y[r]] += g.w[r]
	}
	nb := g.b.nbins[a]
	miss := h[missingBin*C : missingBin*C+C]
	missW := 0.0
	for _, v := range miss {
		missW += v
	}
	// Bin order: numeric bins in value order; nominal bins (non-empty
	// only) by the share of the reference class.
	order := g.order[:0]
	if g.b.nominal[a] {
		ref := 0
		if C == 2 {
			ref = 1
		} else {
			best := -1.0
			for c := range C {
				s := 0.0
				for k := range nb {
					s += h[k*C+c]
				}
				if s > best {
					best, ref = s, c
				}
			}
		}
		key := g.key[:0]
		for k := range nb {
			s := 0.0
			for c := range C {
				s += h[k*C+c]
			}
			if s > 0 {
				order = append(order, k)
				key = append(key, h[k*C+ref]/s)
			}
		}
		g.key = key
		idx := make([]int, len(order))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(x, y int) int {
			switch {
			case key[x] < key[y]:
				return -1
			case key[x] > key[y]:
				return 1
			}
			return 0
		})
		sorted := make([]int, len(order))
		for i, k := range idx {
			sorted[i] = order[k]
		}
		order = append(order[:0], sorted...)
	} else {
		for k := range nb {
			order = append(order, k)
		}
	}
	g.order = order
	if len(order) < 2 {
		return split{}, false
	}
	var lbuf, rbuf [8]float64
	var left, right []float64
	if C > 8 {
		left, right = make([]float64, C), make([]float64, C)
	} else {
		left, right = lbuf[:C], rbuf[:C]
	}
	totals := make([]float64, C)
	for _, k := range order {
		for c := range C {
			totals[c] += h[k*C+c]
		}
	}
	best := split{attr: a, gain: math.Inf(-1)}
	bestPos := -1
	clear(left)
	lw := 0.0
	tw := 0.0
	for _, v := range totals {
		tw += v
	}
	for p := 0; p < len(order)-1; p++ {
		k := order[p]
		for c := range C {
			v := h[k*C+c]
			left[c] += v
			lw += v
		}
		rw := tw - lw
		if lw == 0 || rw == 0 {
			continue
		}
		for c := range C {
			right[c] = totals[c] - left[c]
		}
		for _, ml := range []bool{false, true} {
			if missW == 0 && ml {
				break
			}
			l, r := lw, rw
			var sl, sr float64
			if ml {
				l += missW
				for c := range C {
					sl += (left[c] + miss[c]) * (left[c] + miss[c])
					sr += right[c] * right[c]
				}
			} else {
				r += missW
				for c := range C {
					sl += left[c] * left[c]
					sr += (right[c] + miss[c]) * (right[c] + miss[c])
				}
			}
			if l < g.cfg.minLeaf || r < g.cfg.minLeaf {
				continue
			}
			gain := sl/l + sr/r - parent
			if gain > best.gain {
				best.gain, best.missLeft, bestPos = gain, ml, p
			}
		}
	}
	if bestPos < 0 || best.gain <= 0 {
		return split{}, false
	}
	if g.b.nominal[a] {
		for _, k := range order[:bestPos+1] {
			best.set[k/64] |= 1 << (k % 64)
		}
	} else {
		best.bin = order[bestPos]
	}
	return best, true
}

// partition moves the rows going left to the front and returns their count.
func (g *grower) partition(rows []int32, sp *split) int {
	col := g.b.cols[sp.attr]
	nominal := g.b.nominal[sp.attr]
	goesLeft := func(r int32) bool {
		k := col[r]
		if k == missingBin {
			return sp.missLeft
		}
		if nominal {
			return sp.set[k/64]&(1<<(k%64)) != 0
		}
		return int(k) <= sp.bin
	}
	i, j := 0, len(rows)-1
	for i <= j {
		if goesLeft(rows[i]) {
			i++
			continue
		}
		rows[i], rows[j] = rows[j], rows[i]
		j--
	}
	return i
}
