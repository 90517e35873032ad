package vfdt

import (
	"fmt"
	"math"

	"winnow/internal/modelfile"
)

// ModelType is the model container type of a Hoeffding tree.
const ModelType = "vfdt"

// PayloadVersion is the version of Encode's layout.
const PayloadVersion = 1

// Limits on decoded trees (a model file is untrusted input).
const (
	maxAttrs   = 4096
	maxClasses = 256
	maxNodes   = 1 << 22
)

// Encode writes the whole tree — structure and every leaf's sufficient
// statistics — so a reloaded tree goes on learning where it stopped
// (feedback, new data). Deterministic.
func (t *Tree) Encode() []byte {
	var e modelfile.Enc
	c := t.cfg
	e.Uvarint(uint64(c.GracePeriod))
	e.Float64(c.Delta)
	e.Float64(c.Tau)
	e.Uvarint(uint64(c.SplitPoints))
	e.String(c.Leaf)
	e.Uvarint(uint64(c.MaxNodes))
	e.Uvarint(uint64(c.MaxValues))
	e.Uvarint(uint64(len(t.attrs)))
	for _, a := range t.attrs {
		e.String(a.Name)
		e.Byte(b2u(a.Nominal))
	}
	e.Uvarint(uint64(t.classes))
	e.Uvarint(uint64(len(t.nodes)))
	for _, n := range t.nodes {
		e.Uvarint(uint64(n.attr + 1))
		e.Uvarint(uint64(n.depth))
		floats(&e, n.dist)
		if n.attr >= 0 {
			e.Float64(n.threshold)
			e.Uvarint(uint64(len(n.children)))
			for _, ch := range n.children {
				e.Uvarint(uint64(ch + 1))
			}
			continue
		}
		e.Float64(n.seenAtEval)
		e.Float64(n.mcRight)
		e.Float64(n.nbRight)
		e.Byte(b2u(n.inactive))
		for a, at := range t.attrs {
			if at.Nominal {
				e.Uvarint(uint64(len(n.nominal[a])))
				for _, cls := range n.nominal[a] {
					floats(&e, cls)
				}
				continue
			}
			e.Uvarint(uint64(len(n.numeric[a])))
			for _, g := range n.numeric[a] {
				e.Float64(g.n)
				e.Float64(g.mean)
				e.Float64(g.m2)
				e.Float64(g.min)
				e.Float64(g.max)
			}
		}
	}
	return e.Data()
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func floats(e *modelfile.Enc, s []float64) {
	e.Uvarint(uint64(len(s)))
	for _, v := range s {
		e.Float64(v)
	}
}

func readFloats(d *modelfile.Dec, limit int) []float64 {
	n := d.Count(8)
	if d.Err() == nil && n > limit {
		d.Fail("%d values, at most %d", n, limit)
	}
	if d.Err() != nil {
		return nil
	}
	s := make([]float64, n)
	for i := range s {
		s[i] = d.Float64(false)
		if d.Err() == nil && s[i] < 0 {
			d.Fail("negative count")
		}
	}
	return s
}

// Decode reads a tree written by Encode, checking every field: a
// malformed payload is an error wrapping modelfile.ErrFormat.
func Decode(p []byte) (*Tree, error) {
	d := modelfile.NewDec(p)
	var c Config
	c.GracePeriod = d.Int(1 << 30)
	c.Delta = d.Float64(false)
	c.Tau = d.Float64(false)
	c.SplitPoints = d.Int(1 << 16)
	c.Leaf = d.String()
	c.MaxNodes = d.Int(maxNodes)
	c.MaxValues = d.Int(1 << 20)
	na := d.Count(2)
	if d.Err() == nil && (na < 1 || na > maxAttrs) {
		d.Fail("%d attributes", na)
	}
	var attrs []Attr
	for i := 0; i < na && d.Err() == nil; i++ {
		a := Attr{Name: d.String()}
		switch d.Byte() {
		case 0:
		case 1:
			a.Nominal = true
		default:
			d.Fail("attribute %d: bad kind", i)
		}
		attrs = append(attrs, a)
	}
	classes := d.Int(maxClasses)
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("cannot decode Hoeffding tree: %w", err)
	}
	t, err := New(attrs, classes, c)
	if err != nil || classes < 1 || c.MaxValues < 1 || c.MaxNodes < 1 {
		return nil, fmt.Errorf("cannot decode Hoeffding tree: %w: bad configuration", modelfile.ErrFormat)
	}
	nn := d.Count(4)
	if d.Err() == nil && nn < 1 {
		d.Fail("no nodes")
	}
	t.nodes = t.nodes[:0]
	t.leaves, t.depth = 0, 0
	referenced := make([]bool, nn)
	for i := 0; i < nn && d.Err() == nil; i++ {
		n := &node{}
		n.attr = d.Int(len(attrs)) - 1
		n.depth = d.Int(maxNodes)
		n.dist = readFloats(d, classes)
		if n.attr >= 0 {
			n.threshold = d.Float64(false)
			k := d.Count(1)
			if d.Err() == nil && (k < 1 || (!attrs[n.attr].Nominal && k != 2) || k > c.MaxValues) {
				d.Fail("node %d: %d children", i, k)
			}
			for j := 0; j < k && d.Err() == nil; j++ {
				ch := d.Int(nn) - 1
				if (ch < 0 && !attrs[n.attr].Nominal) || (ch >= 0 && (ch <= i || referenced[ch])) {
					d.Fail("node %d: bad child %d", i, ch)
				}
				if ch >= 0 && d.Err() == nil {
					referenced[ch] = true
				}
				n.children = append(n.children, int32(ch))
			}
			t.nodes = append(t.nodes, n)
			continue
		}
		n.seenAtEval = d.Float64(false)
		n.mcRight = d.Float64(false)
		n.nbRight = d.Float64(false)
		switch d.Byte() {
		case 0:
		case 1:
			n.inactive = true
		default:
			d.Fail("node %d: bad flag", i)
		}
		n.nominal = make([][][]float64, len(attrs))
		n.numeric = make([][]gauss, len(attrs))
		for a, at := range attrs {
			if d.Err() != nil {
				break
			}
			if at.Nominal {
				nv := d.Count(1)
				if d.Err() == nil && nv > c.MaxValues {
					d.Fail("node %d: %d values", i, nv)
				}
				for v := 0; v < nv && d.Err() == nil; v++ {
					n.nominal[a] = append(n.nominal[a], readFloats(d, classes))
				}
				continue
			}
			ng := d.Count(40)
			if d.Err() == nil && ng > classes {
				d.Fail("node %d: %d estimators", i, ng)
			}
			for g := 0; g < ng && d.Err() == nil; g++ {
				est := gauss{n: d.Float64(false), mean: d.Float64(false), m2: d.Float64(false), min: d.Float64(false), max: d.Float64(false)}
				if d.Err() == nil && (est.n < 0 || est.m2 < 0 || (est.n > 0 && est.min > est.max)) {
					d.Fail("node %d: bad estimator", i)
				}
				n.numeric[a] = append(n.numeric[a], est)
			}
		}
		t.leaves++
		t.depth = max(t.depth, n.depth)
		t.nodes = append(t.nodes, n)
	}
	if d.Err() == nil && d.Len() != 0 {
		d.Fail("%d trailing bytes", d.Len())
	}
	for i := 1; i < nn && d.Err() == nil; i++ {
		if !referenced[i] {
			d.Fail("node %d unreachable", i)
		}
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("cannot decode Hoeffding tree: %w", err)
	}
	return t, nil
}

// Reader returns a copy of the tree for prediction that shares its
// (read-only) nodes but has its own scratch space: several Readers may
// predict concurrently while nothing calls Learn on any of them.
func (t *Tree) Reader() *Tree {
	return &Tree{cfg: t.cfg, attrs: t.attrs, classes: t.classes, nodes: t.nodes, leaves: t.leaves, depth: t.depth}
}

// Attrs returns the tree's attributes.
func (t *Tree) Attrs() []Attr { return t.attrs }

// Step is one decision on x's path.
type Step struct {
	Attr   int
	Test   string  // "failures ≥ 12.5", "service = #3"
	Before float64 // probability of class c before the step
	After  float64 // and after it
}

// Path returns x's path from the root to its leaf with the probability of
// class c (Laplace-smoothed class frequencies) at each node.
func (t *Tree) Path(x []float64, c int) []Step {
	var steps []Step
	i := int32(0)
	for {
		n := t.nodes[i]
		if n.attr < 0 {
			return steps
		}
		v := x[n.attr]
		var next int32 = -1
		var test string
		name := t.attrs[n.attr].Name
		if !t.attrs[n.attr].Nominal {
			if v < n.threshold || math.IsNaN(v) {
				next, test = n.children[0], fmt.Sprintf("%s < %.4g", name, n.threshold)
			} else {
				next, test = n.children[1], fmt.Sprintf("%s ≥ %.4g", name, n.threshold)
			}
		} else if k, ok := t.value(v); ok && k < len(n.children) {
			next, test = n.children[k], fmt.Sprintf("%s = #%d", name, k)
		}
		if next < 0 {
			return steps
		}
		steps = append(steps, Step{Attr: n.attr, Test: test, Before: smoothed(n.dist, c, t.classes), After: smoothed(t.nodes[next].dist, c, t.classes)})
		i = next
	}
}

func smoothed(dist []float64, c, classes int) float64 {
	w := 0.0
	if c < len(dist) {
		w = dist[c]
	}
	return (w + 1) / (sum(dist) + float64(max(classes, 1)))
}
