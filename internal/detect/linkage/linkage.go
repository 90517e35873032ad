// Package linkage counts, per entity, the distinct entities of another
// kind it is linked to — addresses per account, accounts per address,
// hosts per account, user agents per client, names per domain — over
// rolling 1-, 7- and 30-day windows of event time, learns a baseline of
// each count per entity, and reports when a count jumps (an account that
// always came from 2 addresses used from 40 this week). This is the
// seeds' fraud example (distinct phone numbers, e-mails and addresses per
// card) for winnow's entities.
//
// Memory is bounded: entities are capped (detect.Table, least recently
// active evicted), and an entity's values are kept exactly (hash and the
// last day seen) up to 64, then counted with per-day HyperLogLog sketches.
package linkage

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/stablehash"
)

// Link describes one linkage count.
type Link struct {
	Name    string // rule name, "linkage.<values>_per_<entity>"
	Summary string
	Key     detect.Key
	Kinds   []event.Kind
	// SuccessOnly counts only successful events (an account "used from"
	// an address, not merely tried from it).
	SuccessOnly bool
	// Value extracts the linked value of an event.
	Value func(ev *event.Event) (string, bool)
	// Values and Per name the counted values and the entity in findings
	// ("addresses", "account").
	Values, Per string
	// RelatedType, when set, makes the newest values related entities of
	// the finding (so correlation joins them).
	RelatedType event.EntityType
	// MinCount is the default smallest count worth reporting.
	MinCount int
}

// Links are winnow's linkage counts.
func Links() []Link {
	ip := func(ev *event.Event) (string, bool) {
		if !ev.SrcIP.IsValid() {
			return "", false
		}
		return ev.SrcIP.String(), true
	}
	return []Link{
		{Name: "linkage.addresses_per_account", Summary: "distinct source addresses an account logs in from (1/7/30 days) jump above its baseline",
			Key: detect.KeyUser, Kinds: []event.Kind{event.KindAuth}, SuccessOnly: true, Value: ip,
			Values: "addresses", Per: "account", RelatedType: event.EntityIP, MinCount: 5},
		{Name: "linkage.accounts_per_address", Summary: "distinct accounts used or tried from an address (1/7/30 days) jump above its baseline",
			Key: detect.KeySourceIP, Kinds: []event.Kind{event.KindAuth}, Value: func(ev *event.Event) (string, bool) { return ev.User, ev.User != "" },
			Values: "accounts", Per: "address", RelatedType: event.EntityUser, MinCount: 5},
		{Name: "linkage.hosts_per_account", Summary: "distinct hosts an account logs in to (1/7/30 days) jump above its baseline",
			Key: detect.KeyUser, Kinds: []event.Kind{event.KindAuth}, SuccessOnly: true,
			Value:  func(ev *event.Event) (string, bool) { return ev.Host, ev.Host != "" },
			Values: "hosts", Per: "account", RelatedType: event.EntityHost, MinCount: 4},
		{Name: "linkage.user_agents_per_client", Summary: "distinct user agents of a web client (1/7/30 days) jump above its baseline",
			Key: detect.KeySourceIP, Kinds: []event.Kind{event.KindHTTP},
			Value: func(ev *event.Event) (string, bool) {
				if ev.HTTP == nil || ev.HTTP.UserAgent == "" || ev.HTTP.UserAgent == "-" {
					return "", false
				}
				return ev.HTTP.UserAgent, true
			}, Values: "user agents", Per: "client", MinCount: 5},
		{Name: "linkage.names_per_domain", Summary: "distinct names queried under a registered domain (1/7/30 days) jump above its baseline",
			Key: detect.KeyDomain, Kinds: []event.Kind{event.KindDNS},
			Value: func(ev *event.Event) (string, bool) {
				if ev.DNS == nil || ev.DNS.Name == "" {
					return "", false
				}
				return ev.DNS.Name, true
			}, Values: "names", Per: "domain", MinCount: 20},
	}
}

// Register adds every linkage detector.
func Register(r *detect.Registry) {
	for _, l := range Links() {
		r.MustRegister(Spec(l))
	}
}

// Windows are the rolling windows, in days.
var Windows = [3]int{1, 7, 30}

// Spec returns the detector of a link.
func Spec(l Link) detect.Spec {
	return detect.Spec{
		Name: l.Name, Summary: l.Summary, Key: l.Key, Kinds: l.Kinds, Techniques: []string{"T1078"},
		Params: []detect.Param{
			{Name: "factor", Default: "4", Doc: "a count is a jump when it reaches factor × the entity's baseline for that window"},
			{Name: "min_count", Default: fmt.Sprint(l.MinCount), Doc: "counts below this are never reported"},
			{Name: "min_history_days", Default: "2", Doc: "days an entity must have been seen before its window starts for its baseline to count"},
			{Name: "max_entities", Default: "20000", Doc: "entities tracked per shard (least recently active evicted first)"},
			{Name: "max_sketched", Default: "1000", Doc: "entities per shard whose values outgrow the exact set (64) and get day sketches (3.8 KB each); beyond it their counts saturate at 64"},
		},
		New: func(p detect.Params) (detect.Detector, error) { return newDetector(l, p) },
	}
}

// exactMax is how many values an entity keeps exactly before sketching.
const exactMax = 64

// alpha is the daily weight of the baseline's moving average (≈ a month).
const alpha = 1.0 / 30

type value struct {
	h    uint64
	day  int32
	name string // kept for the newest values (related entities, evidence)
}

// state is one entity's values and baselines.
type state struct {
	firstDay int32
	lastDay  int32 // last day with a value
	closed   int32 // last day whose counts were taken
	vals     []value
	hll      *dayHLL
	// base[w] is the entity's baseline count for window w (a moving
	// average of the daily counts); hist[w][d%histDays] keeps its value at
	// each closed day so the baseline "before this window" can be read.
	base   [3]float32
	hist   [3][histDays]float32
	counts [3]float32 // counts at the last closed day
	armed  [3]bool    // a jump re-arms once the count falls back
	// reported is the day of the entity's last finding: a longer window
	// does not report again the jump a shorter one reported.
	reported int32
	seen     int64 // events
	// saturated: more than exactMax values but no sketch left (max_sketched):
	// counts are lower bounds.
	saturated bool
	sample    event.Sample
	last      time.Time
}

const histDays = 32

type detector struct {
	keys      detect.KeyCache
	l         Link
	maxSketch int
	sketched  int
	factor    float64
	minCount  float64
	minHist   int32
	tab       *detect.Table[state]
	today     int32
	started   bool
}

func newDetector(l Link, p detect.Params) (detect.Detector, error) {
	d := &detector{l: l}
	var err error
	if d.factor, err = p.Float("factor"); err != nil {
		return nil, err
	}
	mc, err := p.Int("min_count")
	if err != nil {
		return nil, err
	}
	mh, err := p.Int("min_history_days")
	if err != nil {
		return nil, err
	}
	n, err := p.PositiveInt("max_entities")
	if err != nil {
		return nil, err
	}
	if d.maxSketch, err = p.Int("max_sketched"); err != nil {
		return nil, err
	}
	if !(d.factor > 1) || mc < 1 || mh < 1 || d.maxSketch < 0 {
		return nil, fmt.Errorf("detector %s: factor > 1, min_count ≥ 1 and min_history_days ≥ 1 are required", l.Name)
	}
	d.minCount, d.minHist = float64(mc), int32(mh)
	d.tab = detect.NewTable(n, detect.TableOptions[state]{Recycle: func(s *state) {
		if s.hll != nil {
			d.sketched--
		}
		vals := s.vals[:0]
		*s = state{vals: vals}
	}})
	return d, nil
}

func dayOf(t time.Time) int32 { return int32(t.Unix() / 86400) }

func (d *detector) Observe(ev *event.Event, emit detect.Emit) {
	if d.l.SuccessOnly && ev.Outcome != event.OutcomeSuccess {
		return
	}
	key, ok := d.keys.Value(d.l.Key, ev)
	if !ok {
		return
	}
	v, ok := d.l.Value(ev)
	if !ok {
		return
	}
	day := dayOf(ev.Time)
	d.advanceDay(day, emit)
	s, created := d.tab.Upsert(key, ev.Time)
	if created {
		s.firstDay, s.closed = day, day-1
	}
	// Days the entity skipped are closed before the new day's values.
	d.closeDays(key, s, day-1, emit)
	s.seen++
	s.last = ev.Time
	s.lastDay = max(s.lastDay, day)
	h := stablehash.Sum64(0x11a6e, v)
	if s.hll != nil {
		s.hll.insert(h, day)
		d.remember(s, h, day, v)
		return
	}
	for i := range s.vals {
		if s.vals[i].h == h {
			if day > s.vals[i].day {
				s.vals[i].day = day
			}
			return
		}
	}
	if len(s.vals) < exactMax {
		s.vals = append(s.vals, value{h: h, day: day, name: v})
		s.sample = event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: string(ev.Raw)}
		return
	}
	if d.sketched >= d.maxSketch {
		s.saturated = true
		return
	}
	// Promote: the exact values go into their last day's sketch.
	d.sketched++
	s.hll = newDayHLL(Windows[2])
	for _, x := range s.vals {
		s.hll.insert(x.h, x.day)
	}
	s.hll.insert(h, day)
	d.remember(s, h, day, v)
}

// remember keeps the newest values' names of a sketched entity (a ring
// of exactMax), for evidence.
func (d *detector) remember(s *state, h uint64, day int32, v string) {
	for i := range s.vals {
		if s.vals[i].h == h {
			s.vals[i].day = day
			return
		}
	}
	oldest := 0
	for i := range s.vals {
		if s.vals[i].day < s.vals[oldest].day {
			oldest = i
		}
	}
	s.vals[oldest] = value{h: h, day: day, name: v}
}

// count is the entity's distinct values over the k days ending at day.
func (s *state) count(day int32, k int) float64 {
	if s.hll != nil {
		return math.Round(s.hll.estimate(day, k))
	}
	n := 0
	for _, v := range s.vals {
		if v.day <= day && v.day > day-int32(k) {
			n++
		}
	}
	return float64(n)
}

// advanceDay closes every entity's days before day when event time enters
// a new day.
func (d *detector) advanceDay(day int32, emit detect.Emit) {
	if !d.started {
		d.started, d.today = true, day
		return
	}
	if day <= d.today {
		return
	}
	d.today = day
	d.tab.Each(func(key string, s *state) bool {
		d.closeDays(key, s, day-1, emit)
		return true
	})
}

// closeDays takes the entity's counts at the end of each day after
// s.closed up to upTo, checks them against the baselines and updates
// the baselines.
func (d *detector) closeDays(key string, s *state, upTo int32, emit detect.Emit) {
	if upTo-s.closed > histDays { // a long silence: nothing in the windows
		s.closed = upTo - histDays
	}
	for day := s.closed + 1; day <= upTo; day++ {
		for w, k := range Windows {
			s.counts[w] = float32(s.count(day, k))
		}
		for w, k := range Windows {
			c := float64(s.counts[w])
			// The baseline before this window started.
			before := day - int32(k)
			history := before - s.firstDay + 1
			if history >= d.minHist && day-before < histDays {
				b := float64(s.hist[w][int(before)%histDays])
				jump := c >= d.minCount && c >= d.factor*math.Max(b, 1)
				if jump && s.armed[w] {
					if s.reported == 0 || s.reported <= day-int32(k) {
						emit(d.alert(key, s, day, w, c, b))
						s.reported = day
					}
					s.armed[w] = false
				} else if !jump && c < d.factor*math.Max(b, 1)/2 {
					s.armed[w] = true
				}
			} else {
				s.armed[w] = true
			}
			if day == s.firstDay {
				s.base[w] = float32(c)
			} else {
				s.base[w] += float32(alpha) * (float32(c) - s.base[w])
			}
			s.hist[w][int(day)%histDays] = s.base[w]
		}
	}
	if upTo > s.closed {
		s.closed = upTo
	}
}

func (d *detector) alert(key string, s *state, day int32, w int, c, b float64) event.Alert {
	k := Windows[w]
	start := time.Unix(int64(day-int32(k)+1)*86400, 0).UTC()
	end := time.Unix(int64(day+1)*86400, 0).UTC().Add(-time.Second)
	if s.last.Before(end) && s.last.After(start) {
		end = s.last
	}
	ent := event.Entity{Type: entityType(d.l.Key), Value: key}
	// The newest values, for the analyst and for correlation.
	vals := slices.Clone(s.vals)
	slices.SortFunc(vals, func(a, b value) int { return int(b.day - a.day) })
	var names []string
	var related []event.Entity
	for _, v := range vals {
		if v.day <= day-int32(k) || v.day > day {
			continue
		}
		if len(names) < 10 {
			names = append(names, v.name)
		}
		if d.l.RelatedType != event.EntityNone && len(related) < 20 {
			related = append(related, event.Entity{Type: d.l.RelatedType, Value: v.name})
		}
	}
	window := fmt.Sprintf("%d days", k)
	if k == 1 {
		window = "one day"
	}
	sev := event.SeverityLow
	if c >= 2*d.factor*math.Max(b, 1) {
		sev = event.SeverityMedium
	}
	a := event.Alert{
		Rule: d.l.Name,
		Description: fmt.Sprintf("%s %s was linked to %.0f distinct %s in %s (to %s), against a baseline of %.1f (factor %.0f)",
			d.l.Per, key, c, d.l.Values, window, time.Unix(int64(day)*86400, 0).UTC().Format("2006-01-02"), b, d.factor),
		Entity: ent, Start: start, End: end, Severity: sev, Score: math.Min(1, 0.4+0.1*c/math.Max(b, 1)/d.factor),
		Techniques: []string{"T1078"}, Related: related,
		Evidence: map[string]any{
			"window_days": k, "count": c, "baseline": math.Round(b*10) / 10, "factor": d.factor,
			"count_1d": s.counts[0], "count_7d": s.counts[1], "count_30d": s.counts[2],
			"values": names, "sketched": s.hll != nil, "at_least": s.saturated, "first_seen": time.Unix(int64(s.firstDay)*86400, 0).UTC().Format("2006-01-02"),
		},
	}
	if s.sample.Text != "" {
		a.Samples = []event.Sample{s.sample}
	}
	switch d.l.Key {
	case detect.KeyUser:
		a.User = key
	case detect.KeySourceIP:
		a.SourceIP, _ = netip.ParseAddr(key)
	}
	return a
}

func entityType(k detect.Key) event.EntityType {
	switch k {
	case detect.KeySourceIP:
		return event.EntityIP
	case detect.KeyUser:
		return event.EntityUser
	case detect.KeyDomain:
		return event.EntityDomain
	}
	return event.EntityHost
}

// Advance closes the days before t's day; entities silent for longer than
// the longest window are dropped.
func (d *detector) Advance(t time.Time, emit detect.Emit) {
	d.advanceDay(dayOf(t), emit)
	d.tab.Expire(t, time.Duration(Windows[2]+1)*24*time.Hour, nil)
}

// Flush closes the current day: the counts of the last (partial) day are
// checked too.
func (d *detector) Flush(emit detect.Emit) {
	if !d.started {
		return
	}
	d.tab.Each(func(key string, s *state) bool {
		d.closeDays(key, s, d.today, emit)
		return true
	})
}

func (d *detector) Stats() detect.Stats { return d.tab.Stats() }
