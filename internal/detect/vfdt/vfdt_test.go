package vfdt

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"winnow/internal/eval"
	"winnow/internal/testdata"
)

func attrsOf(s *eval.CSVStream) []Attr {
	var a []Attr
	for _, c := range s.Columns {
		a = append(a, Attr{Name: c.Name, Nominal: c.Nominal})
	}
	return a
}

// kdd opens an NSL-KDD file as a binary (normal vs attack) stream; the
// last column (difficulty) is dropped, the label is column 42.
func kdd(t testing.TB, rel string, like *eval.CSVStream) *eval.CSVStream {
	t.Helper()
	f, err := os.Open(testdata.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if like != nil {
		s, err := eval.NewCSVStreamLike(f, like)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s, err := eval.NewCSVStream(f, eval.CSVOptions{Label: "42", Ignore: []string{"43"}, Header: "no", Normal: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNSLKDD trains on KDDTrain+ and tests on KDDTest+ (normal vs attack).
// Published accuracies of classic learners on KDDTest+ (Tavallaee et al.,
// 2009): J48 81.05 %, naive Bayes 76.56 %, NB tree 82.02 %, random forest
// 80.67 %, random tree 81.59 %, MLP 77.41 %, SVM 69.52 %.
func TestNSLKDD(t *testing.T) {
	train := kdd(t, "nsl-kdd/KDDTrain+.txt", nil)
	tree, err := New(attrsOf(train), 2, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var pre eval.Prequential
	x := make([]float64, 0, 64)
	proba := make([]float64, 0, 4)
	for {
		var y int
		x, y, err = train.Next(x)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		proba = tree.Proba(proba, x)
		pre.Add(y, tree.Predict(x), proba[1])
		tree.Learn(x, y)
	}
	pre.Finish()
	test := kdd(t, "nsl-kdd/KDDTest+.txt", train)
	var c eval.ClassConfusion
	var scores []float64
	var bad []bool
	for {
		var y int
		x, y, err = test.Next(x)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.Add(y, tree.Predict(x))
		proba = tree.Proba(proba, x)
		scores = append(scores, proba[1])
		bad = append(bad, y == 1)
	}
	nodes, leaves, depth := tree.Size()
	t.Logf("KDDTrain+ prequential accuracy %.4f (AUC %.4f) over %d rows; tree %d nodes %d leaves depth %d",
		pre.Accuracy(), pre.AUC(), pre.N, nodes, leaves, depth)
	t.Logf("KDDTest+ accuracy %.4f, AUC %.4f\n%s", c.Accuracy(), eval.AUCOf(scores, bad), c.Format(train.Classes()))
	if acc := c.Accuracy(); acc < 0.76 {
		t.Errorf("KDDTest+ accuracy %.4f, want ≥ 0.76 (published classic learners 0.77–0.82)", acc)
	}
	if pre.Accuracy() < 0.95 {
		t.Errorf("prequential accuracy on KDDTrain+ %.4f, want ≥ 0.95", pre.Accuracy())
	}
}

// TestSynthetic: a stream with a numeric and a nominal concept is learned
// to high accuracy, deterministically.
func TestSynthetic(t *testing.T) {
	run := func() (float64, int) {
		tree, err := New([]Attr{{Name: "x"}, {Name: "colour", Nominal: true}, {Name: "noise"}}, 2, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var pre eval.Prequential
		for i := 0; i < 20000; i++ {
			x := []float64{rng.Float64() * 10, float64(rng.IntN(3)), rng.NormFloat64()}
			y := 0
			if x[0] > 6 || x[1] == 2 {
				y = 1
			}
			pre.Add(y, tree.Predict(x), math.NaN())
			tree.Learn(x, y)
		}
		n, _, _ := tree.Size()
		return pre.Accuracy(), n
	}
	a1, n1 := run()
	a2, n2 := run()
	if a1 != a2 || n1 != n2 {
		t.Fatalf("not deterministic: %v/%d vs %v/%d", a1, n1, a2, n2)
	}
	if a1 < 0.95 {
		t.Errorf("accuracy %.4f, want ≥ 0.95", a1)
	}
	// Missing values and unseen nominal values never crash.
	tree, _ := New([]Attr{{Name: "a"}, {Name: "b", Nominal: true}}, 1, DefaultConfig())
	for i := 0; i < 1000; i++ {
		tree.Learn([]float64{float64(i % 7), float64(i % 3)}, i%5)
	}
	_ = tree.Predict([]float64{math.NaN(), 99})
	_ = tree.Predict([]float64{math.NaN(), math.NaN()})
	if tree.Classes() != 5 {
		t.Errorf("classes %d, want 5", tree.Classes())
	}
}

func BenchmarkLearn(b *testing.B) {
	train := kdd(b, "nsl-kdd/KDDTrain+.txt", nil)
	var xs [][]float64
	var ys []int
	for len(xs) < 50000 {
		x, y, err := train.Next(nil)
		if err != nil {
			break
		}
		xs = append(xs, x)
		ys = append(ys, y)
	}
	tree, _ := New(attrsOf(train), 2, DefaultConfig())
	b.SetBytes(int64(8 * len(xs[0])))
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		i := n % len(xs)
		tree.Learn(xs[i], ys[i])
		n++
	}
	report(b, n, cpu0, "instances")
}

func BenchmarkPredict(b *testing.B) {
	train := kdd(b, "nsl-kdd/KDDTrain+.txt", nil)
	var xs [][]float64
	tree, _ := New(attrsOf(train), 2, DefaultConfig())
	for len(xs) < 50000 {
		x, y, err := train.Next(nil)
		if err != nil {
			break
		}
		xs = append(xs, x)
		tree.Learn(x, y)
	}
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		_ = tree.Predict(xs[n%len(xs)])
		n++
	}
	report(b, n, cpu0, "instances")
}
