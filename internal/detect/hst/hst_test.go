package hst

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"winnow/internal/eval"
	"winnow/internal/testdata"
)

func TestDeterministicAndSeparates(t *testing.T) {
	run := func(seed uint64) ([]float64, float64) {
		f, err := New(3, Config{Trees: 10, Height: 8, WindowSize: 250, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		var scores []float64
		var bad []bool
		for i := 0; i < 5000; i++ {
			x := []float64{0.3 + 0.05*rng.NormFloat64(), 0.6 + 0.05*rng.NormFloat64(), rng.Float64() * 0.1}
			anomaly := i > 1000 && i%50 == 0
			if anomaly {
				x = []float64{rng.Float64(), 0.05 * rng.Float64(), 0.9 + 0.1*rng.Float64()}
			}
			s := f.ScoreLearn(x)
			if i >= 250 {
				scores = append(scores, s)
				bad = append(bad, anomaly)
			}
		}
		return scores, eval.AUCOf(scores, bad)
	}
	s1, auc := run(1)
	s2, _ := run(1)
	for i := range s1 {
		if s1[i] != s2[i] {
			t.Fatal("same seed, different scores")
		}
	}
	if auc < 0.95 {
		t.Errorf("AUC %.4f on a clear anomaly stream, want ≥ 0.95", auc)
	}
	for _, s := range s1 {
		if s < 0 || s > 1 {
			t.Fatalf("score %v out of [0, 1]", s)
		}
	}
	// Score without learning equals ScoreLearn's score.
	f, _ := New(2, DefaultConfig())
	g, _ := New(2, DefaultConfig())
	for i := 0; i < 1000; i++ {
		x := []float64{float64(i%10) / 10, float64(i%7) / 7}
		a := f.Score(x)
		f.Learn(x)
		if b := g.ScoreLearn(x); a != b {
			t.Fatalf("row %d: Score+Learn %v, ScoreLearn %v", i, a, b)
		}
	}
	if _, err := New(0, DefaultConfig()); err == nil {
		t.Error("zero dims accepted")
	}
}

// TestNSLKDD scores KDDTest+ with forests that learned normal traffic
// (KDDTrain+ rows labelled normal) and, unsupervised, the whole test
// stream; the AUC is normal vs attack.
func TestNSLKDD(t *testing.T) {
	open := func(rel string, like *eval.CSVStream) *eval.CSVStream {
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
	train := open("nsl-kdd/KDDTrain+.txt", nil)
	var nominal []bool
	for _, c := range train.Columns {
		nominal = append(nominal, c.Nominal)
	}
	forest, _ := New(len(nominal), DefaultConfig())
	enc := NewEncoder(nominal)
	var x []float64
	var err error
	for {
		var y int
		x, y, err = train.Next(x)
		if errors.Is(err, io.EOF) {
			break
		}
		if y == 0 {
			forest.Learn(enc.Encode(x))
		}
	}
	test := open("nsl-kdd/KDDTest+.txt", train)
	stream, _ := New(len(nominal), DefaultConfig())
	streamEnc := NewEncoder(nominal)
	var frozen, online []float64
	var bad []bool
	for {
		var y int
		x, y, err = test.Next(x)
		if errors.Is(err, io.EOF) {
			break
		}
		frozen = append(frozen, forest.ScoreLearn(enc.Encode(x)))
		online = append(online, stream.ScoreLearn(streamEnc.Encode(x)))
		bad = append(bad, y == 1)
	}
	a1, a2 := eval.AUCOf(frozen, bad), eval.AUCOf(online[250:], bad[250:])
	t.Logf("KDDTest+ normal vs attack: AUC %.4f (trained on KDDTrain+ normal traffic, then streaming), %.4f (unsupervised on the test stream alone)", a1, a2)
	if a1 < 0.80 {
		t.Errorf("AUC %.4f, want ≥ 0.80", a1)
	}
}

func BenchmarkScoreLearn(b *testing.B) {
	const dims = 41
	f, _ := New(dims, DefaultConfig())
	rng := rand.New(rand.NewPCG(1, 1))
	xs := make([][]float64, 4096)
	for i := range xs {
		xs[i] = make([]float64, dims)
		for j := range xs[i] {
			xs[i][j] = rng.Float64()
		}
	}
	b.SetBytes(8 * dims)
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		_ = f.ScoreLearn(xs[n&4095])
		n++
	}
	report(b, n, cpu0, "observations")
}

// BenchmarkEncodeScoreLearn: NSL-KDD rows (41 features, 3 nominal)
// through the Encoder and the forest.
func BenchmarkEncodeScoreLearn(b *testing.B) {
	f, err := os.Open(testdata.File(b, "nsl-kdd/KDDTrain+_20Percent.txt"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s, err := eval.NewCSVStream(f, eval.CSVOptions{Label: "42", Ignore: []string{"43"}, Header: "no"})
	if err != nil {
		b.Fatal(err)
	}
	var xs [][]float64
	for {
		x, _, err := s.Next(nil)
		if err != nil {
			break
		}
		xs = append(xs, x)
	}
	var nominal []bool
	for _, c := range s.Columns {
		nominal = append(nominal, c.Nominal)
	}
	forest, _ := New(len(nominal), DefaultConfig())
	enc := NewEncoder(nominal)
	b.SetBytes(int64(8 * len(nominal)))
	b.ReportAllocs()
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		_ = forest.ScoreLearn(enc.Encode(xs[n%len(xs)]))
		n++
	}
	report(b, n, cpu0, "observations")
}
