package stattest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestChiSquareKnownShift: history is 90% 200 / 8% 404 / 2% 500; a batch
// with the same mix is consistent with it, a batch where 404s dominate (a
// scanner) is not, and the table shows where the difference is.
func TestChiSquareKnownShift(t *testing.T) {
	hist := map[string]float64{"200": 9000, "404": 800, "500": 200}
	same, err := ChiSquareGOF(map[string]float64{"200": 180, "404": 16, "500": 4}, hist)
	if err != nil {
		t.Fatal(err)
	}
	if same.P < 0.5 || same.DF != 2 {
		t.Fatalf("same mix: stat %.3f df %d p %.3g", same.Stat, same.DF, same.P)
	}
	shift, err := ChiSquareGOF(map[string]float64{"200": 60, "404": 130, "500": 10}, hist)
	if err != nil {
		t.Fatal(err)
	}
	if shift.P > 1e-10 {
		t.Fatalf("shifted mix: stat %.1f p %.3g", shift.Stat, shift.P)
	}
	if top := shift.Table[0]; top.Category != "404" || top.Observed != 130 || math.Abs(top.Expected-16) > 0.1 {
		t.Fatalf("top cell %+v", top)
	}
	// A die rolled 200 times, O = (30, 14, 34, 45, 57, 20) against a fair
	// die (E = 33.33 each): χ² = 37.78 with 5 degrees of freedom.
	obs := map[string]float64{"1": 30, "2": 14, "3": 34, "4": 45, "5": 57, "6": 20}
	ref := map[string]float64{"1": 1e6, "2": 1e6, "3": 1e6, "4": 1e6, "5": 1e6, "6": 1e6}
	die, _ := ChiSquareGOF(obs, ref)
	if math.Abs(die.Stat-37.78) > 0.01 || die.DF != 5 || die.P > 1e-6 {
		t.Fatalf("die: stat %.3f df %d p %.3g", die.Stat, die.DF, die.P)
	}
}

func TestChiSquareNewCategoryAndPooling(t *testing.T) {
	hist := map[string]float64{"A": 5000, "AAAA": 4990, "TXT": 10}
	r, err := ChiSquareGOF(map[string]float64{"A": 50, "AAAA": 40, "NULL": 60}, hist)
	if err != nil {
		t.Fatal(err)
	}
	if r.P > 1e-20 {
		t.Fatalf("new category NULL: p %.3g", r.P)
	}
	found := false
	for _, c := range r.Table {
		if c.Category == "other" && c.Observed == 60 {
			found = true // TXT and NULL (expected < 5) pooled
		}
	}
	if !found {
		t.Fatalf("pooling: %+v", r.Table)
	}
	if _, err := ChiSquareGOF(map[string]float64{}, hist); err != ErrTooFew {
		t.Fatalf("empty batch: %v", err)
	}
}

func TestKolmogorovSmirnov(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	a := make([]float64, 200)
	b := make([]float64, 300)
	c := make([]float64, 300)
	for i := range a {
		a[i] = r.NormFloat64()
	}
	for i := range b {
		b[i] = r.NormFloat64()
		c[i] = r.NormFloat64() + 1
	}
	same, _ := KolmogorovSmirnov(a, b)
	diff, _ := KolmogorovSmirnov(a, c)
	if same.P < 0.05 || diff.P > 1e-10 || diff.D < 0.3 {
		t.Fatalf("same D %.3f p %.3g; shifted D %.3f p %.3g", same.D, same.P, diff.D, diff.P)
	}
	// Critical value: λ = 1.358 is the 5% point of the Kolmogorov distribution.
	if q := KolmogorovQ(1.358); math.Abs(q-0.05) > 0.001 {
		t.Fatalf("Q(1.358) = %v", q)
	}
}

func TestOutlierCount(t *testing.T) {
	r, err := OutlierCountTest(100, 10, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	// Exact: P(X ≥ 10) for Binomial(100, 0.01).
	want := 0.0
	for k := 10; k <= 100; k++ {
		lg := lgamma(101) - lgamma(float64(k)+1) - lgamma(float64(101-k))
		want += math.Exp(lg + float64(k)*math.Log(0.01) + float64(100-k)*math.Log(0.99))
	}
	if math.Abs(r.P-want)/want > 1e-6 || r.Expected != 1 {
		t.Fatalf("p %.6g want %.6g", r.P, want)
	}
	if r, _ := OutlierCountTest(100, 1, 0.01); r.P < 0.5 {
		t.Fatalf("one exceedance in 100 at rate 1%%: p %.3g", r.P)
	}
	if _, err := OutlierCountTest(10, 11, 0.1); err == nil {
		t.Fatal("k > n accepted")
	}
}

func lgamma(x float64) float64 { v, _ := math.Lgamma(x); return v }

func TestMixBatches(t *testing.T) {
	m := NewMix(8)
	for b := 0; b < 6; b++ {
		m.Add("success", 20)
		m.Add("failure", 2)
		if _, tested := m.Close(0.9, 3, 10); tested != (b >= 3) {
			t.Fatalf("batch %d: tested %v", b, tested)
		}
	}
	m.Add("success", 2)
	m.Add("failure", 40)
	res, tested := m.Close(0.9, 3, 10)
	if !tested || res.P > 1e-10 {
		t.Fatalf("burst of failures: tested %v p %.3g", tested, res.P)
	}
	for i := 0; i < 100; i++ { // the cap holds
		m.Add(string(rune('a'+i%26))+string(rune('a'+i/26)), 1)
	}
	if m.Categories() > 8 || m.Dropped == 0 {
		t.Fatalf("categories %d dropped %d", m.Categories(), m.Dropped)
	}
}
