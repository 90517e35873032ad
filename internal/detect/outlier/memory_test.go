package outlier

import (
	"runtime"
	"testing"
	"time"
)

// bytesPerEnsemble measures the heap an ensemble holds after it has seen
// points at step for span (n ensembles, averaged).
func bytesPerEnsemble(t *testing.T, cfg EnsembleConfig, step, span time.Duration) float64 {
	t.Helper()
	const n = 50
	f, err := NewFactory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	steps := int(span / step)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	keep := make([]*Ensemble, n)
	for i := range keep {
		e := f.New()
		for k := 0; k < steps; k++ {
			e.Update(t0.Add(time.Duration(k)*step), float64((k*7+i)%13))
		}
		keep[i] = e
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(keep)
	return float64(int64(ms.HeapAlloc)-int64(before)) / n
}

// TestMemoryPerSeries documents (and bounds) the memory of one tracked
// series: the NAB configuration (a 256-point window) and the per-minute
// configuration of the series family (a 60-minute window), fresh (its
// first hour: the seasonal parts are not allocated yet) and mature (more
// than a day old).
func TestMemoryPerSeries(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates")
	}
	cases := []struct {
		name  string
		cfg   EnsembleConfig
		step  time.Duration
		span  time.Duration
		limit float64
	}{
		{"NAB config, 2 days at 5 min", DefaultEnsembleConfig(), 5 * time.Minute, 48 * time.Hour, 16 << 10},
		{"family per-minute, first hour", seriesConfig(60, 60), time.Minute, 50 * time.Minute, 5 << 10},
		{"family per-minute, 2 days", seriesConfig(60, 60), time.Minute, 48 * time.Hour, 12 << 10},
	}
	for _, c := range cases {
		b := bytesPerEnsemble(t, c.cfg, c.step, c.span)
		t.Logf("%-34s %7.0f bytes per series", c.name, b)
		if b > c.limit {
			t.Errorf("%s: %.0f bytes per series, limit %.0f", c.name, b, c.limit)
		}
	}
}
