package eval

import (
	"math"
	"testing"
)

func TestROCAndAUC(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.55, 0.4, 0.3, 0.1}
	bad := []bool{true, true, false, true, false, false, true, false}
	pts := ROC(scores, bad)
	if len(pts) != 9 || pts[0].TP != 0 || pts[0].TN != 4 || pts[8].TP != 4 || pts[8].FP != 4 {
		t.Fatalf("points %+v", pts)
	}
	// Mann–Whitney by hand: pairs (bad > good) = 4+4+3+1 over 16 (bad 0.9, 0.8 beat all 4 good; 0.6 beats 3; 0.3 beats 1).
	if auc := AUC(pts); math.Abs(auc-12.0/16) > 1e-12 {
		t.Errorf("AUC %v, want 0.75", auc)
	}
	// Ties count one half.
	if auc := AUCOf([]float64{0.5, 0.5}, []bool{true, false}); auc != 0.5 {
		t.Errorf("tied AUC %v", auc)
	}
	if auc := AUCOf([]float64{1, 2}, []bool{true, true}); auc != 0.5 {
		t.Errorf("one-class AUC %v", auc)
	}
	c := At(scores, bad, 0.6)
	if c != (Confusion{TP: 3, FP: 1, TN: 3, FN: 1}) || c.TPR() != 0.75 || c.FPR() != 0.25 || c.Accuracy() != 0.75 {
		t.Errorf("confusion %+v", c)
	}
	if best := BestAtFPR(pts, 0.25); best.TPR() != 0.75 {
		t.Errorf("best at FPR 0.25: %+v", best)
	}
	// Costs: missing bad expensive → loose threshold; blocking good
	// expensive → strict one. The threshold sits between two scores.
	p, th := MinCost(pts, Costs{BlockGood: 1, MissBad: 10})
	if p.FN != 0 || !(th > 0.1 && th <= 0.3) {
		t.Errorf("miss-bad costly: %+v threshold %v", p, th)
	}
	p, th = MinCost(pts, Costs{BlockGood: 10, MissBad: 1})
	if p.FP != 0 || !(th > 0.7 && th <= 0.8) {
		t.Errorf("block-good costly: %+v threshold %v", p, th)
	}
	if c := CostCurve(pts, Costs{1, 1}); len(c) != len(pts) || c[0] != 4 {
		t.Errorf("cost curve %v", c)
	}
	if s := (Confusion{TP: 1}).String(); s == "" {
		t.Error("empty String")
	}
	var nan Confusion
	if nan.TPR() != 0 || nan.F1() != 0 {
		t.Error("empty confusion rates")
	}
}

// TestMinCostCentred: the least cost (1 error) is reached at thresholds
// 0.9 and 0.7; MinCost takes the strict end (between 0.8 and 0.9),
// MinCostCentred the middle of the band, 0.8, and reports the operating
// point the data has there.
func TestMinCostCentred(t *testing.T) {
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.1}
	bad := []bool{true, false, true, false, false}
	pts := ROC(scores, bad)
	k := Costs{BlockGood: 1, MissBad: 1}
	_, strict := MinCost(pts, k)
	p, centred := MinCostCentred(pts, k)
	if math.Abs(strict-0.85) > 1e-9 {
		t.Errorf("MinCost threshold %v, want 0.85", strict)
	}
	if math.Abs(centred-0.8) > 1e-9 || p.Threshold != 0.8 || p.TP != 1 || p.FP != 1 {
		t.Errorf("MinCostCentred: threshold %v point %+v, want 0.8 with 1 TP, 1 FP", centred, p)
	}
	// One least-cost point: the same as MinCost.
	pts = ROC([]float64{0.9, 0.8, 0.2, 0.1}, []bool{true, true, false, false})
	a, ta := MinCost(pts, k)
	b, tb := MinCostCentred(pts, k)
	if a != b || ta != tb {
		t.Errorf("single optimum: %v %v vs %v %v", a, ta, b, tb)
	}
}
