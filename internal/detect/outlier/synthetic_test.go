package outlier

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// Synthetic series: 14 days at 5-minute steps; the change (if any) at
// point changeAt (day 10.4).
const (
	synN     = 4032
	changeAt = 3000
	perDay   = 288
)

type scenario struct {
	name   string
	change bool // has a change at changeAt
	gen    func(i int, r *rand.Rand) float64
}

func daily(i int) float64 { return 30 * math.Sin(2*math.Pi*float64(i)/perDay) }

func scenarios() []scenario {
	noise := func(_ int, r *rand.Rand) float64 { return 100 + 5*r.NormFloat64() }
	return []scenario{
		{"noise", false, noise},
		{"seasonality", false, func(i int, r *rand.Rand) float64 { return 100 + daily(i) + 3*r.NormFloat64() }},
		{"step", true, func(i int, r *rand.Rand) float64 {
			x := noise(i, r)
			if i >= changeAt {
				x += 25
			}
			return x
		}},
		{"spike", true, func(i int, r *rand.Rand) float64 {
			x := noise(i, r)
			if i == changeAt {
				x += 40
			}
			return x
		}},
		{"drift", true, func(i int, r *rand.Rand) float64 {
			x := noise(i, r)
			if i >= changeAt {
				x += 0.1 * float64(i-changeAt)
			}
			return x
		}},
		{"variance", true, func(i int, r *rand.Rand) float64 {
			if i >= changeAt {
				return 100 + 25*r.NormFloat64()
			}
			return noise(i, r)
		}},
		{"seasonal_shift", true, func(i int, r *rand.Rand) float64 {
			if i >= changeAt { // the daily pattern runs 6 hours early
				return 100 + daily(i+perDay/4) + 3*r.NormFloat64()
			}
			return 100 + daily(i) + 3*r.NormFloat64()
		}},
	}
}

func generate(s scenario, seed uint64) ([]time.Time, []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	t0 := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	ts := make([]time.Time, synN)
	xs := make([]float64, synN)
	for i := range xs {
		ts[i] = t0.Add(time.Duration(i) * 5 * time.Minute)
		xs[i] = s.gen(i, r)
	}
	return ts, xs
}

// detectWithin is how many points after the change a detection counts.
const detectWithin = 150

// outcome summarises one detector's votes on one series: whether it voted
// within detectWithin points of the change, and its vote rate before the
// change (after a warm-up of 600 points).
type outcome struct {
	detected  bool
	delay     int
	falseRate float64
}

func judge(z []float64, crit float64) outcome {
	o := outcome{delay: -1}
	votes, n := 0, 0
	for i := 600; i < changeAt; i++ {
		n++
		if z[i] >= crit {
			votes++
		}
	}
	o.falseRate = float64(votes) / float64(n)
	for i := changeAt; i < min(len(z), changeAt+detectWithin); i++ {
		if z[i] >= crit {
			o.detected, o.delay = true, i-changeAt
			break
		}
	}
	return o
}

// expectations: which changes each detector must catch (within 150 points,
// at its critical value). Every detector must also vote on at most 2% of
// the points of pure noise, and those marked seasonal on at most 2% of a
// purely seasonal series.
var expectations = map[string]struct {
	detects  []string
	seasonal bool // quiet on pure seasonality
}{
	"mad":                         {[]string{"step", "spike", "drift", "variance"}, false},
	"first_hour_average":          {[]string{"step", "drift", "variance", "seasonal_shift"}, true},
	"stddev_from_average":         {[]string{"step", "spike", "variance"}, true},
	"stddev_from_ewma":            {[]string{"step", "spike", "drift", "variance", "seasonal_shift"}, true},
	"mean_subtraction_cumulation": {[]string{"step", "drift", "variance", "seasonal_shift"}, true},
	"least_squares":               {[]string{"step", "spike", "drift", "variance", "seasonal_shift"}, true},
	"histogram_bins":              {[]string{"step", "spike", "variance"}, false},
	"grubbs":                      {[]string{"step", "spike", "variance"}, true},
	"ks_test":                     {[]string{"step", "drift", "variance"}, false},
	"arma":                        {[]string{"step", "spike", "variance", "seasonal_shift"}, true},
	"seasonal_hour":               {[]string{"step", "spike", "drift", "variance", "seasonal_shift"}, true},
	"seasonal_week":               {nil, true},
	"range":                       {[]string{"step", "spike", "drift"}, true},
	"volatility":                  {[]string{"variance"}, true},
}

func TestDetectorsOnSyntheticChanges(t *testing.T) {
	cfg := DefaultConfig()
	verbose := os.Getenv("WINNOW_SYNTH_VERBOSE") != ""
	for _, spec := range Specs() {
		exp, ok := expectations[spec.Name]
		if !ok {
			t.Fatalf("no expectations for %s", spec.Name)
		}
		var row strings.Builder
		for _, sc := range scenarios() {
			ts, xs := generate(sc, 1)
			o := judge(Run(spec, cfg, ts, xs), spec.Critical)
			fmt.Fprintf(&row, " %s:%v/%d/%.3f", sc.name, o.detected, o.delay, o.falseRate)
			want := contains(exp.detects, sc.name)
			if want && !o.detected {
				t.Errorf("%s missed the %s change", spec.Name, sc.name)
			}
			switch {
			case sc.name == "noise" && o.falseRate > 0.02:
				t.Errorf("%s votes on %.1f%% of pure noise", spec.Name, 100*o.falseRate)
			case sc.name == "seasonality" && exp.seasonal && o.falseRate > 0.02:
				t.Errorf("%s votes on %.1f%% of a purely seasonal series", spec.Name, 100*o.falseRate)
			}
		}
		if verbose {
			t.Logf("%-28s%s", spec.Name, row.String())
		}
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// TestEnsembleOnSyntheticChanges: the calibrated ensemble flags every
// abrupt change (a score ≥ AlertLevel within 150 points) and stays quiet
// before it. A slow drift is only weakly flagged (a score ≥ 0.3 within 300
// points): its points stay inside the range the previous days spanned
// for a long time, and the detectors that keep voting through it lose
// weight (a known limitation of the calibration; the drift detectors
// themselves vote, see TestDetectorsOnSyntheticChanges). Quiet means: on pure noise and pure seasonality at most one
// point in a thousand reaches AlertLevel (a 4σ point of Gaussian noise is
// rare enough to alert, and 2,850 points have a few % chance of one) and
// none reaches 0.8 — over several seeds.
func TestEnsembleOnSyntheticChanges(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		for _, sc := range scenarios() {
			ts, xs := generate(sc, seed)
			scores, err := ScoreSeries(DefaultEnsembleConfig(), ts, xs)
			if err != nil {
				t.Fatal(err)
			}
			before, loud, first := 0, 0, -1
			driftMax := 0.0
			for i := changeAt; i < changeAt+2*detectWithin; i++ {
				driftMax = max(driftMax, scores[i])
			}
			for i, s := range scores {
				if s < AlertLevel {
					continue
				}
				switch {
				case i < changeAt:
					before++
					if s >= 0.8 {
						loud++
					}
				case first < 0:
					first = i
				}
			}
			if before > (changeAt-DefaultEnsembleConfig().Warmup)/1000 || loud > 0 {
				t.Errorf("seed %d %s: %d points ≥ %.1f before the change (%d ≥ 0.8)", seed, sc.name, before, AlertLevel, loud)
			}
			within := detectWithin
			switch {
			case sc.name == "drift":
				if driftMax < 0.3 {
					t.Errorf("seed %d drift: max score %.2f within %d points", seed, driftMax, 2*detectWithin)
				}
			case sc.change && (first < 0 || first-changeAt > within):
				t.Errorf("seed %d %s: change not flagged within %d points (first alert at %d)", seed, sc.name, within, first)
			case !sc.change && first >= 0:
				t.Errorf("seed %d %s: alert at %d on a series without a change", seed, sc.name, first)
			}
		}
	}
}
