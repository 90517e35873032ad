package vfdt

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"winnow/internal/modelfile"
)

func stream(n int, seed uint64) ([][]float64, []int) {
	r := rand.New(rand.NewPCG(seed, 9))
	var xs [][]float64
	var ys []int
	for range n {
		x, c, z := r.Float64(), float64(r.IntN(3)), r.NormFloat64()
		y := 0
		if (x > 0.5) != (c == 2) {
			y = 1
		}
		if r.IntN(40) == 0 {
			z = math.NaN()
		}
		xs = append(xs, []float64{x, c, z})
		ys = append(ys, y)
	}
	return xs, ys
}

var testAttrs = []Attr{{Name: "x"}, {Name: "c", Nominal: true}, {Name: "z"}}

// A tree saved and reloaded mid-stream goes on learning exactly as the
// tree that was never saved.
func TestSaveResume(t *testing.T) {
	xs, ys := stream(6000, 1)
	a, _ := New(testAttrs, 2, DefaultConfig())
	for i := range 3000 {
		a.Learn(xs[i], ys[i])
	}
	b, err := Decode(a.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Encode(), b.Encode()) {
		t.Fatal("round trip changed the tree")
	}
	for i := 3000; i < 6000; i++ {
		a.Learn(xs[i], ys[i])
		b.Learn(xs[i], ys[i])
	}
	if !bytes.Equal(a.Encode(), b.Encode()) {
		t.Fatal("the reloaded tree learned differently")
	}
	nodes, _, _ := b.Size()
	if nodes < 3 {
		t.Fatalf("tree did not grow: %d nodes", nodes)
	}
	right := 0
	r := b.Reader()
	for i := range 1000 {
		if r.Predict(xs[i]) == ys[i] {
			right++
		}
	}
	if right < 900 {
		t.Errorf("reader accuracy %d/1000", right)
	}
	steps := b.Path([]float64{0.9, 0, 0}, 1)
	if len(steps) == 0 || steps[0].Test == "" {
		t.Errorf("no path: %+v", steps)
	}
}

func FuzzDecode(f *testing.F) {
	xs, ys := stream(800, 2)
	tr, _ := New(testAttrs, 2, Config{GracePeriod: 50, Delta: 0.01, Tau: 0.05, SplitPoints: 4})
	for i := range xs {
		tr.Learn(xs[i], ys[i])
	}
	good := tr.Encode()
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			if !errors.Is(err, modelfile.ErrFormat) {
				t.Fatalf("%v does not wrap ErrFormat", err)
			}
			return
		}
		x := make([]float64, len(d.Attrs()))
		for i := range x {
			x[i] = float64(i % 2)
		}
		var p []float64
		p = d.Proba(p, x)
		_ = d.Path(x, 0)
		d.Learn(x, 0)
		_ = p
	})
}
