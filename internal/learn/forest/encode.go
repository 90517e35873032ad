package forest

import (
	"fmt"

	"winnow/internal/modelfile"
)

// PayloadVersion is the version of the forest payload (Encode). Bump it
// when the encoding or the meaning of a field changes; older models are
// then refused by Decode's caller through the container's type version.
const PayloadVersion = 1

// Limits on decoded models (a model file is untrusted input).
const (
	maxAttrs   = 4096
	maxClasses = 256
	maxTrees   = 10000
	maxValues  = 1 << 16
)

// Encode writes the forest's payload (deterministic). The layout is in
// docs/format/model.md.
func (f *Forest) Encode() []byte {
	var e modelfile.Enc
	e.Uvarint(uint64(len(f.Attrs)))
	for _, a := range f.Attrs {
		e.String(a.Name)
		if a.Nominal {
			e.Byte(1)
		} else {
			e.Byte(0)
		}
		e.Uvarint(uint64(len(a.Values)))
		for _, v := range a.Values {
			e.String(v)
		}
	}
	e.Uvarint(uint64(len(f.Classes)))
	for _, c := range f.Classes {
		e.String(c)
	}
	e.Uvarint(uint64(f.Positive))
	e.Float64(f.Threshold)
	e.Uvarint(uint64(len(f.Trees)))
	for _, t := range f.Trees {
		e.Uvarint(uint64(len(t.nodes)))
		for i := range t.nodes {
			n := &t.nodes[i]
			e.Float64(n.weight)
			for _, p := range t.nodeDist(i) {
				e.Float32(p)
			}
			if n.attr < 0 {
				e.Uvarint(0)
				continue
			}
			e.Uvarint(uint64(n.attr) + 1)
			e.Uvarint(uint64(n.left))
			e.Uvarint(uint64(n.right))
			if n.missLeft {
				e.Byte(1)
			} else {
				e.Byte(0)
			}
			if n.catN == 0 {
				e.Float64(n.threshold)
				continue
			}
			e.Uvarint(uint64(n.catN))
			for _, w := range t.cats[n.cat0 : n.cat0+n.catN] {
				e.Uvarint(w)
			}
		}
	}
	return e.Data()
}

// Decode reads a payload written by Encode, checking every field: a
// malformed payload is an error wrapping modelfile.ErrFormat, never a
// crash or a tree that loops.
func Decode(p []byte) (*Forest, error) {
	d := modelfile.NewDec(p)
	f := &Forest{}
	na := d.Count(2)
	if na > maxAttrs {
		d.Fail("%d attributes", na)
	}
	for i := 0; i < na && d.Err() == nil; i++ {
		a := Attr{Name: d.String()}
		switch d.Byte() {
		case 0:
		case 1:
			a.Nominal = true
		default:
			d.Fail("attribute %d: bad kind", i)
		}
		nv := d.Count(1)
		if nv > maxValues {
			d.Fail("attribute %d: %d values", i, nv)
		}
		for j := 0; j < nv && d.Err() == nil; j++ {
			a.Values = append(a.Values, d.String())
		}
		f.Attrs = append(f.Attrs, a)
	}
	nc := d.Count(1)
	if d.Err() == nil && (nc < 2 || nc > maxClasses) {
		d.Fail("%d classes", nc)
	}
	for i := 0; i < nc && d.Err() == nil; i++ {
		f.Classes = append(f.Classes, d.String())
	}
	f.Positive = d.Int(max(nc-1, 0))
	f.Threshold = d.Float64(false)
	if d.Err() == nil && !(f.Threshold >= 0 && f.Threshold <= 1.0000001) {
		d.Fail("threshold %v out of [0, 1]", f.Threshold)
	}
	nt := d.Count(8 + 4*max(nc, 1) + 1)
	if d.Err() == nil && (nt < 1 || nt > maxTrees) {
		d.Fail("%d trees", nt)
	}
	for ti := 0; ti < nt && d.Err() == nil; ti++ {
		t := decodeTree(d, f.Attrs, nc)
		if t != nil {
			f.Trees = append(f.Trees, t)
		}
	}
	if d.Err() == nil && d.Len() != 0 {
		d.Fail("%d trailing bytes", d.Len())
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("cannot decode forest: %w", err)
	}
	return f, nil
}

func decodeTree(d *modelfile.Dec, attrs []Attr, classes int) *Tree {
	nn := d.Count(8 + 4*classes + 1)
	if d.Err() == nil && nn < 1 {
		d.Fail("empty tree")
	}
	t := &Tree{classes: classes, nodes: make([]node, 0, nn), dist: make([]float32, 0, nn*classes)}
	referenced := make([]bool, nn)
	for i := 0; i < nn && d.Err() == nil; i++ {
		n := node{attr: -1}
		n.weight = d.Float64(false)
		if d.Err() == nil && n.weight < 0 {
			d.Fail("negative weight")
		}
		for range classes {
			p := d.Float32()
			if d.Err() == nil && !(p >= 0 && p <= 1.0001) {
				d.Fail("probability %v out of [0, 1]", p)
			}
			t.dist = append(t.dist, p)
		}
		a := d.Int(len(attrs))
		if a == 0 {
			t.nodes = append(t.nodes, n)
			continue
		}
		n.attr = int32(a - 1)
		l, r := d.Int(nn-1), d.Int(nn-1)
		if d.Err() == nil && (l <= i || r <= i || l == r || referenced[l] || referenced[r]) {
			d.Fail("node %d: bad children %d, %d", i, l, r)
		}
		if d.Err() != nil {
			break
		}
		referenced[l], referenced[r] = true, true
		n.left, n.right = int32(l), int32(r)
		switch d.Byte() {
		case 0:
		case 1:
			n.missLeft = true
		default:
			d.Fail("node %d: bad missing flag", i)
		}
		if !attrs[n.attr].Nominal {
			n.threshold = d.Float64(false)
		} else {
			w := d.Int(histBins / 64)
			if d.Err() == nil && w == 0 {
				d.Fail("node %d: empty category set", i)
			}
			n.cat0, n.catN = int32(len(t.cats)), int32(w)
			for range w {
				t.cats = append(t.cats, d.Uvarint())
			}
		}
		t.nodes = append(t.nodes, n)
	}
	if d.Err() != nil {
		return nil
	}
	for i := 1; i < nn; i++ {
		if !referenced[i] {
			d.Fail("node %d unreachable", i)
			return nil
		}
	}
	return t
}
