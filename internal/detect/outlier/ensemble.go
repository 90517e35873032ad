package outlier

import (
	"fmt"
	"math"
	"time"
)

// Mode is how the ensemble combines its detectors.
type Mode uint8

// Modes.
const (
	// Calibrated weighs each vote by how informative the detector has been
	// on this series, waits for warm-up, suppresses repeats of an alert and
	// maps the evidence to [0, 1]. The default.
	Calibrated Mode = iota
	// Consensus is Skyline's rule: the score is the fraction of ready
	// detectors that vote (an alert when at least Consensus of them do).
	Consensus
)

func (m Mode) String() string {
	if m == Consensus {
		return "consensus"
	}
	return "calibrated"
}

// ParseMode parses "calibrated" or "consensus".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "calibrated", "":
		return Calibrated, nil
	case "consensus":
		return Consensus, nil
	}
	return 0, fmt.Errorf("ensemble mode %q: want calibrated or consensus", s)
}

// EnsembleConfig configures an Ensemble.
type EnsembleConfig struct {
	Config
	Mode      Mode
	Detectors []string // names (see Specs); empty = all
	// Warmup is how many points the ensemble only learns from (score 0).
	Warmup int
	// RateHalfLife is the half-life, in points, of each detector's vote
	// rate, which sets its weight (adaptive weights).
	RateHalfLife float64
	// TargetRate is the vote rate up to which a detector keeps its full
	// weight: a detector voting k times more often on a series counts k
	// times less there.
	TargetRate float64
	// Scale maps the weighted evidence E to the score 1 − e^(−E/Scale).
	Scale float64
	// Suppress is the half-life, in points, of the alert peak: a point
	// that does not beat the decayed peak of the points before it is
	// damped by SuppressFactor (one incident, one alert). 0 turns
	// suppression off.
	Suppress       int
	SuppressFactor float64
	// Envelope is the factor applied to a point that lies within what the
	// same hours of day (±1 h) spanned on the previous days (at least
	// EnvelopeDays of them): 0 silences what the daily pattern explains,
	// 1 turns the seasonal explanation off.
	Envelope     float64
	EnvelopeDays int
	// Budget, if > 0, is how many alert episodes (runs of points whose
	// undamped score reaches BudgetLevel, more than BudgetGap points
	// apart) a series may have had, counted with half-life BudgetHalfLife
	// points, before its evidence is divided by episodes/Budget: the
	// series' own alert rate, learnt online, raises its bar (see spend).
	// 0 turns the budget off.
	Budget         float64
	BudgetLevel    float64
	BudgetGap      int
	BudgetHalfLife float64
}

// DefaultEnsembleConfig is the one configuration used for every series.
func DefaultEnsembleConfig() EnsembleConfig {
	return EnsembleConfig{Config: DefaultConfig(), Mode: Calibrated, Warmup: 150,
		RateHalfLife: 1000, TargetRate: 0.01, Scale: 2, Suppress: 500, SuppressFactor: 0.5,
		Envelope: 0, EnvelopeDays: 2, Budget: 3, BudgetLevel: 0.5, BudgetGap: 50, BudgetHalfLife: 1000}
}

// Validate checks the configuration.
func (c EnsembleConfig) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	if _, err := Lookup(c.Detectors); err != nil {
		return err
	}
	switch {
	case c.Warmup < 0:
		return fmt.Errorf("outlier: warmup %d: want ≥ 0", c.Warmup)
	case !(c.RateHalfLife >= 1):
		return fmt.Errorf("outlier: rate half-life %v: want ≥ 1", c.RateHalfLife)
	case !(c.TargetRate > 0 && c.TargetRate < 1):
		return fmt.Errorf("outlier: target rate %v: want in (0, 1)", c.TargetRate)
	case !(c.Scale > 0):
		return fmt.Errorf("outlier: scale %v: want > 0", c.Scale)
	case c.Suppress < 0:
		return fmt.Errorf("outlier: suppress %d: want ≥ 0", c.Suppress)
	case !(c.SuppressFactor >= 0 && c.SuppressFactor <= 1):
		return fmt.Errorf("outlier: suppress factor %v: want in [0, 1]", c.SuppressFactor)
	case !(c.Envelope >= 0 && c.Envelope <= 1):
		return fmt.Errorf("outlier: envelope %v: want in [0, 1]", c.Envelope)
	case c.EnvelopeDays < 1 || c.EnvelopeDays >= envDays:
		return fmt.Errorf("outlier: envelope days %d: want 1..%d", c.EnvelopeDays, envDays-1)
	case c.Budget < 0 || math.IsNaN(c.Budget):
		return fmt.Errorf("outlier: budget %v: want ≥ 0", c.Budget)
	case c.Budget > 0 && !(c.BudgetLevel > 0 && c.BudgetLevel < 1):
		return fmt.Errorf("outlier: budget level %v: want in (0, 1)", c.BudgetLevel)
	case c.Budget > 0 && (c.BudgetGap < 0 || !(c.BudgetHalfLife >= 1)):
		return fmt.Errorf("outlier: budget gap %d, half-life %v: want ≥ 0 and ≥ 1", c.BudgetGap, c.BudgetHalfLife)
	}
	return nil
}

// Vote is one detector's verdict on a point.
type Vote struct {
	Detector string  `json:"detector"`
	Z        float64 `json:"z"` // surprise (Gaussian-equivalent standard deviations)
	Critical float64 `json:"critical"`
	Weight   float64 `json:"weight"` // the detector's current weight in the ensemble
	Ready    bool    `json:"ready"`
	Voted    bool    `json:"voted"`
}

// String renders a vote for the text report: "mad z=20.0≥4 w=0.76" for a
// vote, "ks_test z=0.3" for none.
func (v Vote) String() string {
	if v.Voted {
		return fmt.Sprintf("%s z=%.1f≥%g w=%.2f", v.Detector, v.Z, v.Critical, v.Weight)
	}
	return fmt.Sprintf("%s z=%.1f", v.Detector, v.Z)
}

// Result is the ensemble's verdict on one point.
type Result struct {
	Score float64 // anomaly score in [0, 1]
	Votes int     // detectors that voted
	Ready int     // detectors that were ready
	// Evidence is the weighted evidence E before calibration.
	Evidence float64
	// Explained says the seasonal envelope explained the point.
	Explained bool
	// Suppressed says the point was damped for not beating the recent peak.
	Suppressed bool
}

// Ensemble runs a set of detectors over one series. Not safe for
// concurrent use; one per series.
//
// Calibrated scoring of a point x:
//
//  1. every ready detector i rates x with a surprise z_i; it votes when
//     z_i ≥ its critical value c_i;
//  2. its weight is w_i = min(1, TargetRate / r_i), r_i its exponentially
//     weighted vote rate on this series: a detector that votes often here
//     (noise it cannot tell from anomalies) counts less (adaptive weights);
//  3. the evidence is E = Σ_voting w_i·(z_i/c_i − 1): more detectors, more
//     reliable ones and more decisive votes all add;
//  4. the score is 1 − e^(−E/Scale), multiplied by Envelope when the values
//     of the same hours on previous days explain x (seasonality);
//  5. a series that has had more than Budget alert episodes lately has
//     its evidence divided by episodes/Budget (its own alert rate, learnt
//     online, sets its bar: see spend);
//  6. nothing is reported during Warmup; a point that does not beat the
//     decayed peak of the recent scores is damped (suppression).
type Ensemble struct {
	cfg      EnsembleConfig
	st       *State
	dets     []Detector
	specs    []Spec
	z        []float64
	ready    []bool
	rate     []float64 // EW vote rate per detector
	decay    float64
	supDecay float64
	peak     float64
	env      *envelope // allocated once the series has lasted an hour
	episodes float64   // decayed count of alert episodes (Budget)
	budgetAt int       // point index at which episodes was last decayed
	lastHigh int       // point index of the last alert-level point
	epDecay  float64   // per point
	useEnv   bool
	start    time.Time
	last     Result
}

// NewEnsemble builds an ensemble.
func NewEnsemble(c EnsembleConfig) (*Ensemble, error) {
	f, err := NewFactory(c)
	if err != nil {
		return nil, err
	}
	return f.New(), nil
}

// Factory builds ensembles of one configuration: validated once, with the
// per-configuration constants (Grubbs' critical value, ...) computed once,
// so that one ensemble per entity is cheap to make.
type Factory struct {
	cfg    EnsembleConfig
	specs  []Spec
	protos []Detector
}

// NewFactory validates c.
func NewFactory(c EnsembleConfig) (*Factory, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	specs, _ := Lookup(c.Detectors)
	f := &Factory{cfg: c, specs: specs}
	for _, s := range specs {
		f.protos = append(f.protos, s.New(c.Config))
	}
	return f, nil
}

// cloner is implemented by detectors with state of their own: clone
// returns a fresh instance with the same constants. Detectors without it
// are stateless and shared.
type cloner interface{ clone() Detector }

// resetter resets a detector's own state in place (keeping its buffers).
type resetter interface{ reset() }

// New returns a fresh ensemble.
func (f *Factory) New() *Ensemble {
	c := f.cfg
	e := &Ensemble{cfg: c, st: newState(c.Config), specs: f.specs}
	for _, d := range f.protos {
		if cl, ok := d.(cloner); ok {
			d = cl.clone()
		}
		e.dets = append(e.dets, d)
	}
	n := len(f.specs)
	e.z = make([]float64, n)
	e.ready = make([]bool, n)
	e.rate = make([]float64, n)
	for i := range e.rate {
		e.rate[i] = c.TargetRate
	}
	e.decay = 1 - math.Exp2(-1/c.RateHalfLife)
	if c.Suppress > 0 {
		e.supDecay = math.Exp2(-1 / float64(c.Suppress))
	}
	e.useEnv = c.Envelope < 1 && c.Mode == Calibrated
	if c.Budget > 0 {
		e.epDecay = math.Exp2(-1 / c.BudgetHalfLife)
	}
	e.lastHigh = -1 << 30
	return e
}

// MustEnsemble is NewEnsemble for configurations known to be valid.
func MustEnsemble(c EnsembleConfig) *Ensemble {
	e, err := NewEnsemble(c)
	if err != nil {
		panic(err)
	}
	return e
}

// Baseline is what the series usually does before the next point: the
// median of the reference window (the fast EWMA while that is short).
func (e *Ensemble) Baseline() float64 {
	if e.st.RefLen() >= minRef {
		m, _ := e.st.MedianMAD()
		return m
	}
	m, _ := e.st.EWMeanStd()
	return m
}

// Len is how many points the ensemble has seen.
func (e *Ensemble) Len() int { return e.st.n }

// Reset forgets the series (keeping the buffers).
func (e *Ensemble) Reset() {
	e.st.Reset()
	for i, d := range e.dets {
		if r, ok := d.(resetter); ok {
			r.reset()
		}
		e.rate[i] = e.cfg.TargetRate
	}
	e.peak = 0
	e.episodes, e.budgetAt, e.lastHigh = 0, 0, -1<<30
	e.env, e.start = nil, time.Time{}
	e.last = Result{}
}

// Update scores x at time t and learns it.
func (e *Ensemble) Update(t time.Time, x float64) Result {
	st := e.st
	var res Result
	zcap := e.cfg.ZCap
	for i, d := range e.dets {
		z, ok := d.Score(st, t, x)
		z = min(z, zcap)
		e.z[i], e.ready[i] = z, ok
		if !ok {
			continue
		}
		res.Ready++
		crit := e.specs[i].Critical
		r := 0.0
		if z >= crit {
			res.Votes++
			res.Evidence += e.weight(i) * (z/crit - 1)
			r = 1
		}
		e.rate[i] += e.decay * (r - e.rate[i])
	}
	for _, d := range e.dets {
		d.Observe(st, t, x)
	}
	n := st.n
	st.push(t, x)
	switch e.cfg.Mode {
	case Consensus:
		if res.Ready > 0 {
			res.Score = float64(res.Votes) / float64(res.Ready)
		}
	default:
		e.calibrate(n, t, x, &res)
	}
	if e.useEnv {
		if e.env == nil {
			if e.start.IsZero() {
				e.start = t
			} else if t.Sub(e.start) >= time.Hour {
				e.env = &envelope{}
			}
		}
		if e.env != nil {
			e.env.observe(t, x)
		}
	}
	e.last = res
	return res
}

// Learn adds x at t to the ensemble's history without scoring it: the
// detectors learn and the vote rates decay as if no detector voted. Callers
// use it for points that cannot matter (idle minutes, counts below what
// could ever alert), at about a third of Update's cost.
func (e *Ensemble) Learn(t time.Time, x float64) {
	st := e.st
	for i, d := range e.dets {
		d.Observe(st, t, x)
		e.rate[i] -= e.decay * e.rate[i]
	}
	st.push(t, x)
	e.peak *= e.supDecay
	if e.useEnv {
		if e.env == nil {
			if e.start.IsZero() {
				e.start = t
			} else if t.Sub(e.start) >= time.Hour {
				e.env = &envelope{}
			}
		}
		if e.env != nil {
			e.env.observe(t, x)
		}
	}
	e.last = Result{}
}

// weight is detector i's weight: 1 up to the target vote rate, falling
// as the detector votes more often on this series.
func (e *Ensemble) weight(i int) float64 {
	return e.cfg.TargetRate / max(e.rate[i], e.cfg.TargetRate)
}

// calibrate maps the evidence to the score (steps 4 to 6 above).
func (e *Ensemble) calibrate(n int, t time.Time, x float64, res *Result) {
	if n < e.cfg.Warmup {
		return
	}
	ev := res.Evidence
	if ev > 0 && e.env != nil {
		if lo, hi, days := e.env.explain(t); days >= e.cfg.EnvelopeDays {
			tol := 0.05 * (hi - lo)
			if x >= lo-tol && x <= hi+tol {
				ev *= e.cfg.Envelope
				res.Explained = true
			}
		}
	}
	if e.cfg.Budget > 0 {
		ev = e.spend(n, ev)
	}
	s := 0.0
	if ev > 0 {
		s = 1 - math.Exp(-ev/e.cfg.Scale)
	}
	if e.cfg.Suppress > 0 {
		p := e.peak * e.supDecay
		if s <= p {
			e.peak = p
			if s > 0 {
				s *= e.cfg.SuppressFactor
				res.Suppressed = true
			}
		} else {
			e.peak = s
		}
	}
	res.Score = s
}

// spend applies the alert budget to the evidence ev of point n: a series
// that has had more than Budget alert episodes lately (decayed) has its
// evidence divided by episodes/Budget, so that a series whose detectors
// keep finding "anomalies" needs proportionally more to alert again (its
// own noise, learnt online, sets its bar; no constant fitted to a corpus
// decides what is rare on it). The episode count learns from the
// undamped score.
func (e *Ensemble) spend(n int, ev float64) float64 {
	if d := n - e.budgetAt; d == 1 {
		e.episodes *= e.epDecay
	} else {
		e.episodes *= math.Pow(e.epDecay, float64(d))
	}
	e.budgetAt = n
	out := ev
	if e.episodes > e.cfg.Budget {
		out *= e.cfg.Budget / e.episodes
	}
	if 1-math.Exp(-ev/e.cfg.Scale) >= e.cfg.BudgetLevel {
		if n-e.lastHigh > e.cfg.BudgetGap {
			e.episodes++
		}
		e.lastHigh = n
	}
	return out
}

// Votes returns the detectors' verdicts on the last point (for evidence).
func (e *Ensemble) Votes() []Vote {
	out := make([]Vote, len(e.dets))
	for i, s := range e.specs {
		out[i] = Vote{Detector: s.Name, Z: round3(e.z[i]), Critical: s.Critical, Weight: round3(e.weight(i)),
			Ready: e.ready[i], Voted: e.ready[i] && e.z[i] >= s.Critical}
	}
	return out
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// ScoreSeries runs a fresh ensemble over a whole series.
func ScoreSeries(c EnsembleConfig, times []time.Time, values []float64) ([]float64, error) {
	e, err := NewEnsemble(c)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(values))
	for i, x := range values {
		out[i] = e.Update(times[i], x).Score
	}
	return out, nil
}
