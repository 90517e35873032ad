package outlier

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"winnow/internal/state/codec"
)

// The pandas reference: ewm(com=50, adjust=True) mean and std of a
// series, by direct weighted sums.
func ewRef(xs []float64) (mean, std float64) {
	a := 1.0 / 51
	var w, w2, s float64
	for i := range xs {
		wi := math.Pow(1-a, float64(len(xs)-1-i))
		w += wi
		w2 += wi * wi
		s += wi * xs[i]
	}
	mean = s / w
	var v float64
	for i := range xs {
		wi := math.Pow(1-a, float64(len(xs)-1-i))
		v += wi * (xs[i] - mean) * (xs[i] - mean)
	}
	v /= w
	return mean, math.Sqrt(v * w * w / (w*w - w2))
}

func TestStddevMAMatchesPandas(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	d := &stddevMA{}
	var xs []float64
	for range 300 {
		x := 10 + r.NormFloat64()*2
		xs = append(xs, x)
		d.Observe(nil, time.Time{}, x)
	}
	m, sd := ewRef(xs)
	if math.Abs(d.Mean-m) > 1e-9 || math.Abs(d.std()-sd) > 1e-9 {
		t.Errorf("EWMA %v ± %v, pandas %v ± %v", d.Mean, d.std(), m, sd)
	}
}

// The definitions on a flat noisy series with a spike, a level shift and
// a lone value in a sparse bin.
func TestSkylineDefinitions(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	n := 600
	times := make([]time.Time, n)
	vals := make([]float64, n)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range vals {
		times[i] = t0.Add(time.Duration(i) * time.Minute)
		vals[i] = 100 + r.NormFloat64()
	}
	vals[400] = 130 // a spike
	for _, sp := range ExtraSpecs() {
		z := Run(sp, DefaultConfig(), times, vals)
		quiet := 0
		for i := 100; i < 390; i++ {
			if z[i] >= sp.Critical {
				quiet++
			}
		}
		if z[400] < sp.Critical {
			t.Errorf("%s: spike z %.2f below %v", sp.Name, z[400], sp.Critical)
		}
		// Gaussian noise: a 3-sigma rule fires on ≈ 0.3 % of points. The
		// histogram rule as defined (a bin of at most 20 values) was meant
		// for a day of 10-second points; on a 256-point window every tail
		// bin is that sparse, so it votes on the tails (logged).
		if sp.Name == "histogram_bins_tail" {
			t.Logf("%s votes on %d of 290 normal points", sp.Name, quiet)
			if z[300] >= sp.Critical && math.Abs(vals[300]-100) < 0.5 {
				t.Errorf("histogram_bins_tail votes on a central point")
			}
			continue
		}
		if float64(quiet) > 0.05*290 {
			t.Errorf("%s: %d votes on 290 normal points", sp.Name, quiet)
		}
	}
	if _, err := Lookup([]string{"stddev_from_moving_average", "mad"}); err != nil {
		t.Error(err)
	}
	if specs, _ := Lookup(nil); len(specs) != len(Specs()) {
		t.Error("the extra detectors joined the default ensemble")
	}
}

// An ensemble of the extra detectors snapshots and restores with their
// state: the restored one scores the rest of the series identically.
func TestSkylineSnapshot(t *testing.T) {
	cfg := DefaultEnsembleConfig()
	cfg.Detectors = []string{"stddev_from_moving_average", "least_squares_tail", "histogram_bins_tail", "mean_subtraction_cumulation_skyline"}
	f, err := NewFactory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := f.New()
	r := rand.New(rand.NewPCG(3, 3))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 400 {
		a.Update(t0.Add(time.Duration(i)*time.Minute), 50+10*r.Float64())
	}
	var e codec.Enc
	a.MarshalState(&e)
	b := f.New()
	if err := b.UnmarshalState(codec.NewDec(e.Bytes())); err != nil {
		t.Fatal(err)
	}
	for i := 400; i < 600; i++ {
		x := 50 + 10*r.Float64()
		if i == 500 {
			x = 200
		}
		tm := t0.Add(time.Duration(i) * time.Minute)
		if sa, sb := a.Update(tm, x), b.Update(tm, x); sa.Score != sb.Score {
			t.Fatalf("point %d: %v after restore, %v without", i, sb, sa)
		}
	}
}

// TestSkylineNAB scores each Skyline detector as defined, and the variant
// the ensemble uses, alone on the local NAB corpus (the calibrated
// combination of one detector), standard profile. WINNOW_NAB_SKYLINE=1
// also runs the consensus mode.
func TestSkylineNAB(t *testing.T) {
	c := loadNAB(t)
	pairs := [][2]string{
		{"stddev_from_moving_average", "stddev_from_ewma"},
		{"least_squares_tail", "least_squares"},
		{"histogram_bins_tail", "histogram_bins"},
		{"mean_subtraction_cumulation_skyline", "mean_subtraction_cumulation"},
	}
	for _, p := range pairs {
		var got [2]float64
		for k, name := range p {
			cfg := DefaultEnsembleConfig()
			cfg.Detectors = []string{name}
			res := c.score(t, cfg)
			got[k] = res[0].Normalized
			if os.Getenv("WINNOW_NAB_SKYLINE") != "" {
				cfg.Mode = Consensus
				t.Logf("%-36s consensus %6.2f", name, c.score(t, cfg)[0].Normalized)
			}
		}
		t.Logf("%-36s NAB standard %6.2f   (winnow's variant %s %6.2f)", p[0], got[0], p[1], got[1])
		if got[0] < 20 {
			t.Errorf("%s alone scores %.2f on NAB, want ≥ 20 (the null detector scores 0)", p[0], got[0])
		}
	}
}

func BenchmarkSkyline(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	n := 4096
	times := make([]time.Time, n)
	vals := make([]float64, n)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range vals {
		times[i], vals[i] = t0.Add(time.Duration(i)*time.Minute), 100+r.NormFloat64()
	}
	for _, sp := range ExtraSpecs() {
		b.Run(sp.Name, func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			b.ReportAllocs()
			for b.Loop() {
				Run(sp, DefaultConfig(), times, vals)
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
}
