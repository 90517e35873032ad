package outlier

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"winnow/internal/eval"
)

// scoreFiles runs the ensemble over every file of the corpus.
func (c *nabCorpus) scoreFiles(t testing.TB, cfg EnsembleConfig) []eval.File {
	t.Helper()
	files := make([]eval.File, len(c.files))
	for i, f := range c.files {
		sc, err := ScoreSeries(cfg, f.Times, c.values[i])
		if err != nil {
			t.Fatal(err)
		}
		files[i] = eval.File{Name: f.Name, Times: f.Times, Scores: sc}
	}
	return files
}

// locoVariant is one configuration tried by the leave-one-category-out
// experiment.
type locoVariant struct {
	name string
	mod  func(*EnsembleConfig)
}

// TestNABLeaveOneOutExperiment scores variants of the ensemble with each
// category held out (WINNOW_NAB_LOCO=1; WINNOW_NAB_ONLY filters variants
// by substring). It prints, per variant, each held-out category's score at
// the threshold optimised on the other categories, and then the nested
// estimate: for each held-out category the variant AND threshold chosen on
// the other categories only.
func TestNABLeaveOneOutExperiment(t *testing.T) {
	if os.Getenv("WINNOW_NAB_LOCO") == "" {
		t.Skip("set WINNOW_NAB_LOCO=1")
	}
	c := loadNAB(t)
	vs := locoVariants()
	only := os.Getenv("WINNOW_NAB_ONLY")
	std := eval.DefaultProfiles()[:1]
	type row struct {
		name  string
		folds []eval.Fold
	}
	var rows []row
	for _, v := range vs {
		if only != "" && !strings.Contains(v.name, only) && v.name != "default" {
			continue
		}
		cfg := DefaultEnsembleConfig()
		v.mod(&cfg)
		files := c.scoreFiles(t, cfg)
		if dir := os.Getenv("WINNOW_NAB_DUMP"); dir != "" {
			dumpResults(t, filepath.Join(dir, strings.ReplaceAll(v.name, "/", "_")), files)
		}
		folds, err := eval.LeaveOneCategoryOut(files, c.labels, std)
		if err != nil {
			t.Fatal(err)
		}
		all, err := eval.Score(files, c.labels, std, eval.Options{Threshold: math.NaN()})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, f := range folds[0] {
			if f.Scored() {
				b.WriteString(" " + f.Category[:8] + " " + ftoa(f.Held.Normalized) + "(" + ftoa(f.Own.Normalized) + ")")
			} else {
				b.WriteString(" " + f.Category[:8] + " raw " + ftoa(f.Held.Score))
			}
		}
		t.Logf("%-22s all %6.2f  LOCO mean %6.2f spiky FP %4d |%s", v.name, all[0].Normalized, eval.MeanHeld(folds[0]), spikyFP(cfg), b.String())
		rows = append(rows, row{v.name, folds[0]})
	}
	// Nested: per held-out category, pick the variant whose training
	// score (the other categories at their optimised threshold) is best.
	for k := range rows[0].folds {
		best := 0
		for i := range rows {
			if rows[i].folds[k].Train.Score > rows[best].folds[k].Train.Score {
				best = i
			}
		}
		f := rows[best].folds[k]
		t.Logf("nested: held out %-22s chose %-22s held-out %6.2f raw %.3f", f.Category, rows[best].name, f.Held.Normalized, f.Held.Score)
	}
}

func ftoa(x float64) string {
	return strings.TrimSpace(strings.TrimRight(strings.TrimRight(formatF(x), "0"), "."))
}

func formatF(x float64) string {
	return strings.TrimSpace(strconvF(x))
}

func strconvF(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

func locoVariants() []locoVariant {
	vs := []locoVariant{
		{"default", func(*EnsembleConfig) {}},
		{"nobudget", func(c *EnsembleConfig) { c.Budget = 0 }},
		{"scale1", func(c *EnsembleConfig) { c.Scale = 1 }},
		{"scale4", func(c *EnsembleConfig) { c.Scale = 4 }},
		{"suppress0", func(c *EnsembleConfig) { c.Suppress = 0 }},
		{"rate0.005", func(c *EnsembleConfig) { c.TargetRate = 0.005 }},
		{"rate0.02", func(c *EnsembleConfig) { c.TargetRate = 0.02 }},
	}
	for _, b := range []float64{1, 2, 5} {
		for _, hl := range []float64{1000, 3000} {
			vs = append(vs, locoVariant{fmt.Sprintf("budget%g/h%g", b, hl), func(c *EnsembleConfig) {
				c.Budget, c.BudgetHalfLife = b, hl
			}})
		}
	}
	return vs
}

// spikyFP counts the points scoring ≥ 0.55 after NAB's probation on five
// synthetic 16k-point series of counts with a daily cycle and heavy-tailed
// spikes (0.4 % of points): a noisy series without labelled anomalies.
func spikyFP(cfg EnsembleConfig) int {
	tot := 0
	for seed := uint64(1); seed <= 5; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		n := 16000
		t0 := time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC)
		ts := make([]time.Time, n)
		vs := make([]float64, n)
		for i := range vs {
			ts[i] = t0.Add(time.Duration(i) * 5 * time.Minute)
			h := float64(i%288) / 288
			lam := 40 + 25*math.Sin(2*math.Pi*h)
			v := lam + math.Sqrt(lam)*r.NormFloat64()
			if r.Float64() < 0.004 {
				v *= math.Exp(1 + r.NormFloat64())
			}
			vs[i] = math.Round(max(0, v))
		}
		sc, _ := ScoreSeries(cfg, ts, vs)
		for i := 750; i < n; i++ {
			if sc[i] >= 0.55 {
				tot++
			}
		}
	}
	return tot
}

// dumpResults writes NAB-format result files (for scripts).
func dumpResults(t *testing.T, dir string, files []eval.File) {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("timestamp,value,anomaly_score\n")
		for i, tm := range f.Times {
			fmt.Fprintf(&b, "%s,0,%g\n", tm.Format("2006-01-02 15:04:05"), f.Scores[i])
		}
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
