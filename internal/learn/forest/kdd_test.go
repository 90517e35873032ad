package forest

import (
	"errors"
	"io"
	"os"
	"testing"

	"winnow/internal/eval"
	"winnow/internal/testdata"
)

// kddSet is an NSL-KDD file as a binary dataset (normal = 0, attack = 1)
// with each row's attack name kept.
type kddSet struct {
	d      *Dataset
	family []int
	s      *eval.CSVStream
}

func loadKDD(t testing.TB, rel string, like *kddSet) *kddSet {
	t.Helper()
	f, err := os.Open(testdata.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var s *eval.CSVStream
	if like != nil {
		s, err = eval.NewCSVStreamLike(f, like.s)
	} else {
		s, err = eval.NewCSVStream(f, eval.CSVOptions{Label: "42", Ignore: []string{"43"}, Header: "no"})
	}
	if err != nil {
		t.Fatal(err)
	}
	ks := &kddSet{s: s, d: &Dataset{Classes: []string{"normal", "attack"}}}
	for _, c := range s.Columns {
		ks.d.Attrs = append(ks.d.Attrs, Attr{Name: c.Name, Nominal: c.Nominal})
	}
	x := make([]float64, 0, 64)
	for {
		var y int
		x, y, err = s.Next(x)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		bin := 1
		if s.Classes()[y] == "normal" {
			bin = 0
		}
		ks.d.Add(x, bin)
		ks.family = append(ks.family, y)
	}
	for i := range ks.d.Attrs {
		ks.d.Attrs[i].Values = s.Columns[i].Values
	}
	return ks
}

func scoreAll(f *Forest, d *Dataset) ([]float64, []bool) {
	var scores []float64
	var bad []bool
	for i := range d.N() {
		scores = append(scores, f.Score(d.Row(i)))
		bad = append(bad, d.Y[i] == 1)
	}
	return scores, bad
}

// TestNSLKDD trains on KDDTrain+_20Percent (25k rows; the full file gives
// the same figures within a point, see the README) and tests on KDDTest+,
// normal vs attack. Published accuracies on KDDTest+ (Tavallaee et al.
// 2009, trained on KDDTrain+): random forest 80.67 %, J48 81.05 %, NB tree
// 82.02 %. KDDTest+ holds 17 attack types absent from training; a forest
// thresholded at 0.5 (or on its out-of-bag scores, all of known types)
// misses most of them. The threshold here is chosen on the training data
// only, by holding out whole attack families (Calibrate), which is what
// lifts accuracy past the published figures.
func TestNSLKDD(t *testing.T) {
	train := loadKDD(t, "nsl-kdd/KDDTrain+_20Percent.txt", nil)
	test := loadKDD(t, "nsl-kdd/KDDTest+.txt", train)
	cfg := DefaultConfig()
	f, rep, err := Train(train.d, 1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	scores, bad := scoreAll(f, test.d)
	at05 := eval.At(scores, bad, 0.5)
	cal, err := Calibrate(train.d, 1, train.family, CalibrateConfig{Base: cfg})
	if err != nil {
		t.Fatal(err)
	}
	c := eval.At(scores, bad, cal.Threshold)
	t.Logf("OOB accuracy %.4f AUC %.4f; %d nodes, depth %d", rep.OOBAccuracy, rep.OOBAUC, rep.Nodes, rep.Depth)
	t.Logf("KDDTest+ at 0.5: accuracy %.4f TPR %.4f FPR %.4f; AUC %.4f", at05.Accuracy(), at05.TPR(), at05.FPR(), eval.AUCOf(scores, bad))
	t.Logf("calibrated threshold %.4f (held-out families: TPR %.4f FPR %.4f); KDDTest+: accuracy %.4f TPR %.4f FPR %.4f",
		cal.Threshold, cal.TPR, cal.FPR, c.Accuracy(), c.TPR(), c.FPR())
	if rep.OOBAccuracy < 0.98 {
		t.Errorf("OOB accuracy %.4f, want ≥ 0.98", rep.OOBAccuracy)
	}
	if acc := c.Accuracy(); acc < 0.82 {
		t.Errorf("KDDTest+ accuracy %.4f at the calibrated threshold, want ≥ 0.82 (published random forest 0.8067)", acc)
	}
	if c.FPR() > 0.2 {
		t.Errorf("KDDTest+ false-positive rate %.4f, want ≤ 0.2", c.FPR())
	}
	if auc := eval.AUCOf(scores, bad); auc < 0.93 {
		t.Errorf("KDDTest+ AUC %.4f, want ≥ 0.93", auc)
	}
	// The most important attributes are the ones every study of KDD
	// names: bytes, flag/service, error rates, host counts.
	top := argmax(rep.Importance)
	if rep.Importance[top] < 0.05 {
		t.Errorf("top importance %.3f (%s): importance not concentrated", rep.Importance[top], train.d.Attrs[top].Name)
	}

	// A single CART tree, for explanation: readable and still useful.
	tree, _, err := Train(train.d, 1, TreeConfig())
	if err != nil {
		t.Fatal(err)
	}
	ts, tb := scoreAll(tree, test.d)
	tc := eval.At(ts, tb, 0.5)
	nodes, _, depth := tree.Trees[0].Size()
	t.Logf("CART (depth ≤ 8): %d nodes depth %d, KDDTest+ accuracy %.4f", nodes, depth, tc.Accuracy())
	if tc.Accuracy() < 0.72 {
		t.Errorf("CART accuracy %.4f, want ≥ 0.72", tc.Accuracy())
	}
	_, steps := tree.Path(test.d.Row(0))
	if len(steps) == 0 || steps[0].Test == "" {
		t.Errorf("no path for a test row: %+v", steps)
	}
}

func BenchmarkTrainKDD20(b *testing.B) {
	train := loadKDD(b, "nsl-kdd/KDDTrain+_20Percent.txt", nil)
	cfg := DefaultConfig()
	cfg.Trees = 20
	b.SetBytes(int64(train.d.N() * len(train.d.Attrs) * 8))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Train(train.d, 1, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(train.d.N()*cfg.Trees)*float64(b.N)/b.Elapsed().Seconds(), "row-trees/s")
}

func BenchmarkScoreKDD(b *testing.B) {
	train := loadKDD(b, "nsl-kdd/KDDTrain+_20Percent.txt", nil)
	f, _, err := Train(train.d, 1, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(train.d.Attrs) * 8))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = f.Score(train.d.Row(i))
		i = (i + 1) % train.d.N()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "vectors/s")
}
