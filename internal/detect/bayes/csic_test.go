package bayes

import (
	"errors"
	"io"
	"os"
	"testing"

	"winnow/internal/eval"
	"winnow/internal/parse/httpraw"
	"winnow/internal/testdata"
)

// readCSIC returns the requests of a CSIC file.
func readCSIC(t testing.TB, rel string) []*httpraw.Request {
	t.Helper()
	f, err := os.Open(testdata.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := httpraw.NewReader(f)
	var out []*httpraw.Request
	for {
		req, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, req)
	}
}

// csicPart assigns request i of a file to "train", "val" or "test":
// normal traffic 70/15/15, attacks 50/15/35, by a seeded hash of the index.
func csicPart(file string, i int, bad bool) string {
	u := Split{Seed: 2010, Fraction: 1}.unit(file, int64(i))
	test, val := 0.15, 0.30
	if bad {
		test, val = 0.35, 0.50
	}
	switch {
	case u < test:
		return "test"
	case u < val:
		return "val"
	}
	return "train"
}

type csicItem struct {
	h   []uint64
	c   []Class
	g   []uint8
	bad bool
}

type csicResult struct {
	model      *Model
	report     *Report
	testScores []float64
	testBad    []bool
	val, test  []csicItem
}

func trainCSIC(t testing.TB) csicResult {
	t.Helper()
	normal := readCSIC(t, "csic2010/normalTrafficTraining.txt")
	attacks := readCSIC(t, "csic2010/anomalousTrafficTraining.txt")
	tr := NewTrainer(KindHTTP, Split{})
	tok := NewTokens()
	type item = csicItem
	var val, test []item
	for _, set := range []struct {
		name string
		reqs []*httpraw.Request
		bad  bool
	}{{"normal", normal, false}, {"anomalous", attacks, true}} {
		for i, req := range set.reqs {
			tok.Reset()
			r := HTTPFromRaw(req)
			tok.HTTP(&r)
			switch csicPart(set.name, i, set.bad) {
			case "train":
				tr.Add(set.name, int64(i), tok, set.bad)
			case "val":
				val = append(val, item{append([]uint64(nil), tok.Hashes...), append([]Class(nil), tok.Classes...), append([]uint8(nil), tok.Groups...), set.bad})
			default:
				test = append(test, item{append([]uint64(nil), tok.Hashes...), append([]Class(nil), tok.Classes...), append([]uint8(nil), tok.Groups...), set.bad})
			}
		}
	}
	for _, it := range val {
		tr.addValidation(&Tokens{Hashes: it.h, Classes: it.c, Groups: it.g}, it.bad)
	}
	rep, err := tr.Finish(DefaultCosts)
	if err != nil {
		t.Fatal(err)
	}
	res := csicResult{model: tr.Model, report: rep, val: val, test: test}
	for _, it := range test {
		res.testScores = append(res.testScores, tr.Model.Score(&Tokens{Hashes: it.h, Classes: it.c, Groups: it.g}))
		res.testBad = append(res.testBad, it.bad)
	}
	return res
}

func TestCSIC(t *testing.T) {
	res := trainCSIC(t)
	rep := res.report
	pts := eval.ROC(res.testScores, res.testBad)
	best := eval.BestAtFPR(pts, 0.01)
	at := eval.At(res.testScores, res.testBad, res.model.Threshold)
	t.Logf("train %d good %d bad, %d tokens; validation %d good %d bad AUC %.5f threshold %.6g (val TPR %.4f FPR %.4f)",
		rep.TrainGood, rep.TrainBad, rep.Tokens, rep.ValGood, rep.ValBad, rep.AUC, rep.Threshold, rep.Chosen.TPR(), rep.Chosen.FPR())
	t.Logf("test: AUC %.5f; best TPR at FPR ≤ 1%%: %.4f (FPR %.4f, threshold %.6g); at model threshold: TPR %.4f FPR %.4f\n%v",
		eval.AUC(pts), best.TPR(), best.FPR(), best.Threshold, at.TPR(), at.FPR(), at)
	if best.TPR() < 0.98 {
		t.Errorf("TPR at ≤1%% FPR = %.4f, want ≥ 0.98", best.TPR())
	}
	if at.TPR() < 0.98 || at.FPR() > 0.01 {
		t.Errorf("at the cost-chosen threshold: TPR %.4f FPR %.4f, want ≥ 0.98 and ≤ 0.01", at.TPR(), at.FPR())
	}
}
