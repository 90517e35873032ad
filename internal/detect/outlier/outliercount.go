package outlier

import (
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/stattest"
	"winnow/internal/event"
	"winnow/internal/state/codec"
)

// The outlier-count test of the series family ("series.<metric>_outlier_count"):
// per entity and metric, each closed minute is an outlier when its value
// exceeds the entity's moving mean by z_limit moving deviations (and
// min_count); the number of outlier minutes among the last `span`
// minutes is compared, by a one-sided binomial test
// (stattest.OutlierCountTest), with the rate at which the entity's
// history produced them. A run of moderately high minutes, none of which
// would alert alone, is a finding when that many is improbable.
//
// Cost: O(1) per event; per closed minute an O(1) update and, when the
// span holds an outlier, one incomplete-beta evaluation.

// countSpecs returns the outlier-count detectors, one per metric.
func countSpecs() []detect.Spec {
	var out []detect.Spec
	for _, m := range metrics() {
		if m.distinct != nil {
			continue // distinct counts need the series' sketches
		}
		out = append(out, countSpec(m))
	}
	return out
}

func countSpec(m metric) detect.Spec {
	name := "series." + m.name + "_outlier_count"
	return detect.Spec{
		Name:    name,
		Summary: m.summary + ": more outlier minutes among the last ten than the entity's history explains (binomial outlier-count test)",
		Key:     m.key, Kinds: m.kinds, Actions: m.actions, Techniques: m.techniques,
		Params: []detect.Param{
			{Name: "span", Default: "10", Doc: "minutes counted (the last span closed minutes)"},
			{Name: "z_limit", Default: "3", Doc: "a minute is an outlier above the moving mean plus this many moving deviations"},
			{Name: "min_count", Default: m.minCount, Doc: "and at least this value"},
			{Name: "alpha", Default: "1e-6", Doc: "report when the probability of that many outlier minutes is below this"},
			{Name: "history", Default: "1440", Doc: "minutes of the entity's history before the test is trusted (its rate must be learned)"},
			{Name: "max_entities", Default: "10000", Doc: "entities tracked per shard (least recently active evicted first)"},
			{Name: "idle", Default: "48h", Doc: "an entity idle this long is forgotten"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			d, err := newCountDetector(m, name, p)
			if err != nil {
				return nil, fmt.Errorf("detector %s: %w", name, err)
			}
			return d, nil
		},
	}
}

// countState is one entity's state (plain data: it is snapshotted).
type countState struct {
	Cur     int64   // open minute (−1: none)
	Value   float64 // its value
	Mean    float64 // moving mean of closed minutes
	Var     float64 // and variance
	Minutes int64   // closed minutes seen
	Out     float64 // decayed count of outlier minutes
	Tot     float64 // decayed count of minutes
	Recent  uint64  // outlier flags of the last minutes, newest in bit 0
	Alerted int64   // minute of the last finding (the span after it is quiet)
	Sample  event.Sample
}

type countDetector struct {
	m       metric
	name    string
	span    int
	zLimit  float64
	min     float64
	alpha   float64
	history int64
	idle    time.Duration
	tab     *detect.Table[countState]
	// queue holds the open minutes to close, in (nearly) time order.
	queue []due
	keys  detect.KeyCache
}

// decay of the history's outlier rate per minute: a half-life of a week.
var countDecay = math.Exp2(-1.0 / (7 * 24 * 60))

const countAlpha = 1.0 / 60 // moving mean and variance over about an hour

func newCountDetector(m metric, name string, p detect.Params) (*countDetector, error) {
	d := &countDetector{m: m, name: name}
	var err error
	if d.span, err = p.PositiveInt("span"); err != nil {
		return nil, err
	}
	if d.zLimit, err = p.Float("z_limit"); err != nil {
		return nil, err
	}
	if d.min, err = p.Float("min_count"); err != nil {
		return nil, err
	}
	if d.alpha, err = p.Float("alpha"); err != nil {
		return nil, err
	}
	h, err := p.Int("history")
	if err != nil {
		return nil, err
	}
	n, err := p.PositiveInt("max_entities")
	if err != nil {
		return nil, err
	}
	if d.idle, err = p.PositiveDuration("idle"); err != nil {
		return nil, err
	}
	if d.span > 60 || !(d.zLimit > 0) || !(d.alpha > 0 && d.alpha < 1) || h < 0 {
		return nil, fmt.Errorf("span 1..60, z_limit > 0, alpha in (0, 1) and history ≥ 0 are required")
	}
	d.history = int64(h)
	d.tab = detect.NewTable(n, detect.TableOptions[countState]{})
	return d, nil
}

func (d *countDetector) Observe(ev *event.Event, emit detect.Emit) {
	v, ok := d.m.value(ev)
	if !ok {
		return
	}
	key, ok := d.keys.Value(d.m.key, ev)
	if !ok {
		return
	}
	min := minuteOf(ev.Time)
	s, created := d.tab.Upsert(key, ev.Time)
	if created {
		*s = countState{Cur: -1, Alerted: -1 << 40}
	}
	if min > s.Cur {
		d.closeTo(key, s, min, emit)
		s.Cur, s.Value = min, 0
		d.queue = append(d.queue, due{key: key, minute: min})
	}
	s.Value += v
	if s.Sample.Text == "" || s.Value == v {
		s.Sample = event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: string(ev.Raw)}
	}
}

// closeTo closes the open minute and the idle minutes after it, up to
// (not including) minute next.
func (d *countDetector) closeTo(key string, s *countState, next int64, emit detect.Emit) {
	if s.Cur < 0 || next <= s.Cur {
		return
	}
	d.closeMinute(key, s, s.Cur, s.Value, emit)
	// Idle minutes count as zeros, at most a span's worth (the rest of a
	// silence only ages the flags out).
	idle := next - s.Cur - 1
	for i := int64(0); i < min(idle, int64(d.span)); i++ {
		d.closeMinute(key, s, s.Cur+1+i, 0, emit)
	}
	if idle > int64(d.span) {
		s.Recent = 0
	}
	s.Cur = -1
}

func (d *countDetector) closeMinute(key string, s *countState, minute int64, v float64, emit detect.Emit) {
	sd := math.Sqrt(max(s.Var, 0))
	outlier := s.Minutes >= 30 && v >= d.min && v > s.Mean+d.zLimit*max(sd, 1)
	s.Recent <<= 1
	if outlier {
		s.Recent |= 1
	}
	mask := uint64(1)<<d.span - 1
	k := bits.OnesCount64(s.Recent & mask)
	if s.Minutes >= d.history && outlier && minute-s.Alerted >= int64(d.span) && s.Tot > 0 {
		rate := max(s.Out/s.Tot, 1.0/max(s.Tot, 1)) // never zero: unseen is not impossible
		rate = min(rate, 0.5)
		if res, err := stattest.OutlierCountTest(d.span, k, rate); err == nil && res.P < d.alpha {
			emit(d.alert(key, s, minute, v, res))
			s.Alerted = minute
		}
	}
	// History: decayed counts, and the moving mean and variance (an
	// outlier minute moves them less, so a burst does not raise its own bar).
	s.Out = s.Out*countDecay + b2f(outlier)
	s.Tot = s.Tot*countDecay + 1
	a := countAlpha
	if outlier {
		a /= 10
	}
	if s.Minutes == 0 {
		s.Mean = v
	} else {
		delta := v - s.Mean
		s.Mean += a * delta
		s.Var = (1 - a) * (s.Var + a*delta*delta)
	}
	s.Minutes++
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (d *countDetector) alert(key string, s *countState, minute int64, v float64, res stattest.OutlierCount) event.Alert {
	ent := event.Entity{Type: d.m.entity, Value: key}
	start := minuteTime(minute - int64(d.span) + 1)
	a := event.Alert{
		Rule: d.name,
		Description: fmt.Sprintf("%s: %d of the last %d minutes had outlying %s (last %.0f, moving mean %.1f); its history makes %.2f expected (p = %.2g)",
			ent, res.K, res.N, d.m.unit, v, s.Mean, res.Expected, res.P),
		Entity: ent, Start: start, End: minuteTime(minute + 1).Add(-time.Second), Severity: event.SeverityLow,
		Score: math.Min(1, -math.Log10(res.P)/12), Techniques: d.m.techniques,
		Evidence: map[string]any{"outlier_minutes": res.K, "span_minutes": res.N, "history_rate": round3(res.Rate),
			"expected": round3(res.Expected), "p_value": res.P, "last_value": v, "moving_mean": round3(s.Mean),
			"moving_std": round3(math.Sqrt(max(s.Var, 0))), "history_minutes": s.Minutes},
	}
	if s.Sample.Text != "" {
		a.Samples = []event.Sample{s.Sample}
	}
	switch d.m.key {
	case detect.KeySourceIP:
		a.SourceIP, _ = netip.ParseAddr(key)
	case detect.KeyUser:
		a.User = key
	}
	return a
}

// Advance closes the minutes that ended before t.
func (d *countDetector) Advance(t time.Time, emit detect.Emit) {
	now := minuteOf(t)
	i := 0
	for ; i < len(d.queue) && d.queue[i].minute < now; i++ {
		q := d.queue[i]
		if s := d.tab.Get(q.key); s != nil && s.Cur == q.minute {
			d.closeTo(q.key, s, q.minute+1, emit)
		}
	}
	if i > 0 {
		d.queue = append(d.queue[:0], d.queue[i:]...)
	}
	d.tab.Expire(t, d.idle, nil)
}

// Flush closes the open minutes.
func (d *countDetector) Flush(emit detect.Emit) {
	var keys []string
	d.tab.Each(func(key string, s *countState) bool {
		if s.Cur >= 0 {
			keys = append(keys, key)
		}
		return true
	})
	slices.Sort(keys)
	for _, k := range keys {
		s := d.tab.Get(k)
		d.closeTo(k, s, s.Cur+1, emit)
	}
	d.queue = d.queue[:0]
}

func (d *countDetector) Stats() detect.Stats { return d.tab.Stats() }

var _ detect.Snapshotter = (*countDetector)(nil)

var countCodec = codec.MustFor[countState]()

// Snapshot writes every entity's state (detect.Snapshotter).
func (d *countDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, countCodec, func(k string, _ *countState) string { return detect.RouteOfValue(d.m.key, k) })
	return nil
}

// Restore reads it back and queues the open minutes (detect.Snapshotter).
func (d *countDetector) Restore(r *detect.SnapshotReader) error {
	err := d.tab.Restore(r, 0, countCodec, nil)
	d.tab.Each(func(key string, s *countState) bool {
		if s.Cur >= 0 {
			d.queue = append(d.queue, due{key: key, minute: s.Cur})
		}
		return true
	})
	slices.SortStableFunc(d.queue, func(a, b due) int {
		switch {
		case a.minute < b.minute:
			return -1
		case a.minute > b.minute:
			return 1
		}
		if a.key < b.key {
			return -1
		}
		return 1
	})
	return err
}
