package outlier

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// benchSeries is a day-periodic noisy series with spikes, 5-minute steps.
func benchSeries(n int) ([]time.Time, []float64) {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := make([]time.Time, n)
	xs := make([]float64, n)
	for i := range xs {
		ts[i] = t0.Add(time.Duration(i) * 5 * time.Minute)
		xs[i] = 50 + 20*math.Sin(2*math.Pi*float64(i)/288) + r.NormFloat64()*3
		if r.IntN(500) == 0 {
			xs[i] += 40
		}
	}
	return ts, xs
}

// BenchmarkEnsemble measures the calibrated ensemble of every detector
// over one series (points/s; bytes are 16 per point: time and value).
func BenchmarkEnsemble(b *testing.B) {
	for _, mode := range []Mode{Calibrated, Consensus} {
		b.Run(mode.String(), func(b *testing.B) {
			ts, xs := benchSeries(1 << 16)
			cfg := DefaultEnsembleConfig()
			cfg.Mode = mode
			e := MustEnsemble(cfg)
			b.SetBytes(16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i & (len(xs) - 1)
				if k == 0 && i > 0 {
					e.Reset()
				}
				e.Update(ts[k], xs[k])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// BenchmarkDetector measures each detector alone (with the shared state
// update it needs).
func BenchmarkDetector(b *testing.B) {
	ts, xs := benchSeries(1 << 16)
	for _, spec := range Specs() {
		b.Run(spec.Name, func(b *testing.B) {
			cfg := DefaultEnsembleConfig()
			cfg.Detectors = []string{spec.Name}
			e := MustEnsemble(cfg)
			b.SetBytes(16)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i & (len(xs) - 1)
				if k == 0 && i > 0 {
					e.Reset()
				}
				e.Update(ts[k], xs[k])
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
		})
	}
}
