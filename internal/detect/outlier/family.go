package outlier

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/series"
)

// The "series" detector family: per-entity, per-minute series of metrics
// taken from events (failed logins per source and per host, auth events
// per user, requests and errors per site and per client, DNS queries per
// client and per domain, distinct counts), each scored by the outlier
// ensemble once per closed minute; and per-entity micro-batch chi-square
// tests of categorical mixes (login outcomes, HTTP status codes, DNS query
// types). Findings are named "series.<metric>" and carry the ensemble's
// votes (or the observed vs. expected table) in their evidence.
//
// Cost per event: one bounded-table lookup and an addition (O(1)); the
// ensemble runs once per entity per closed minute, never per event.

// metric is what one series detector measures.
type metric struct {
	name       string
	summary    string
	key        detect.Key
	kinds      []event.Kind
	actions    []event.Action
	entity     event.EntityType
	unit       string // "failed logins"
	techniques []string
	// value returns what an event adds to its minute and whether it counts.
	value func(ev *event.Event) (float64, bool)
	// distinct, if set, makes the metric the number of distinct items per
	// minute (HyperLogLog beyond a few).
	distinct func(ev *event.Event) (string, bool)
	minCount string // default of min_count
}

func one(*event.Event) (float64, bool) { return 1, true }

// failedLogin counts failed password/key attempts on existing accounts
// and invalid-user probes, each attempt once: sshd logs an attempt on an
// unknown account twice ("Invalid user x" and "Failed password for invalid
// user x"), and a key-only server logs only the first.
func failedLogin(ev *event.Event) (float64, bool) {
	switch ev.Action {
	case event.ActLoginFailure:
		return 1, ev.Method != "none" && !ev.InvalidUser
	case event.ActInvalidUser:
		return 1, true
	}
	return 0, false
}

var failureActs = []event.Action{event.ActLoginFailure, event.ActInvalidUser}

// accountAttempt counts attempts on existing accounts: names the server
// calls invalid are not accounts (a spray over thousands of them would
// only fill the table with series that can say nothing).
func accountAttempt(ev *event.Event) (float64, bool) {
	return 1, !ev.InvalidUser && ev.Action != event.ActInvalidUser
}

// authActs are authentication attempts (not the session, sudo-command and
// cron noise around them).
var authActs = []event.Action{event.ActLoginSuccess, event.ActLoginFailure, event.ActAuthFailurePAM,
	event.ActMaxAuthAttempts, event.ActSuSuccess, event.ActSuFailure, event.ActSudoFailure, event.ActRootLogin}

func metrics() []metric {
	auth := []event.Kind{event.KindAuth}
	http := []event.Kind{event.KindHTTP}
	dns := []event.Kind{event.KindDNS}
	return []metric{
		{name: "failed_logins_by_source", summary: "failed logins (and invalid-user probes) per source address per minute vs. that source's history",
			key: detect.KeySourceIP, kinds: auth, actions: failureActs, entity: event.EntityIP,
			unit: "failed logins", techniques: []string{"T1110"}, value: failedLogin, minCount: "5"},
		{name: "failed_logins_by_host", summary: "failed logins (and invalid-user probes) per host per minute vs. that host's history",
			key: detect.KeyHost, kinds: auth, actions: failureActs, entity: event.EntityHost,
			unit: "failed logins", techniques: []string{"T1110"}, value: failedLogin, minCount: "5"},
		{name: "auth_events_by_user", summary: "authentication attempts (logins, failures, su) per existing account per minute vs. that account's history",
			key: detect.KeyUser, kinds: auth, actions: authActs, entity: event.EntityUser, unit: "authentication attempts",
			techniques: []string{"T1110"}, value: accountAttempt, minCount: "10"},
		{name: "http_requests_by_site", summary: "requests per site per minute vs. the site's history",
			key: detect.KeySite, kinds: http, entity: event.EntityDomain, unit: "requests", techniques: []string{"T1498"},
			value: one, minCount: "30"},
		{name: "http_errors_by_site", summary: "4xx/5xx responses per site per minute vs. the site's history",
			key: detect.KeySite, kinds: http, entity: event.EntityDomain, unit: "error responses", techniques: []string{"T1595"},
			value: func(ev *event.Event) (float64, bool) { return 1, ev.HTTP != nil && ev.HTTP.Status >= 400 }, minCount: "20"},
		{name: "http_requests_by_client", summary: "requests per client address per minute vs. the client's history",
			key: detect.KeySourceIP, kinds: http, entity: event.EntityIP, unit: "requests", techniques: []string{"T1595"},
			value: one, minCount: "30"},
		{name: "dns_queries_by_client", summary: "DNS queries per client per minute vs. the client's history",
			key: detect.KeySourceIP, kinds: dns, actions: []event.Action{event.ActDNSQuery}, entity: event.EntityIP,
			unit: "queries", techniques: []string{"T1071.004"}, value: one, minCount: "30"},
		{name: "dns_queries_by_domain", summary: "DNS queries per registered domain per minute vs. the domain's history",
			key: detect.KeyDomain, kinds: dns, actions: []event.Action{event.ActDNSQuery}, entity: event.EntityDomain,
			unit: "queries", techniques: []string{"T1071.004"}, value: one, minCount: "30"},
		{name: "dns_names_by_domain", summary: "distinct names queried under a registered domain per minute (HyperLogLog; tunnels) vs. its history",
			key: detect.KeyDomain, kinds: dns, actions: []event.Action{event.ActDNSQuery}, entity: event.EntityDomain,
			unit: "distinct names", techniques: []string{"T1071.004"}, minCount: "20",
			distinct: func(ev *event.Event) (string, bool) { return ev.DNS.Name, ev.DNS != nil && ev.DNS.Name != "" }},
	}
}

// Register adds the series family (series.<metric> and the mix tests) to r.
func Register(r *detect.Registry) {
	for _, s := range FamilySpecs() {
		r.MustRegister(s)
	}
}

// FamilySpecs returns the series family's detector specs.
func FamilySpecs() []detect.Spec {
	var out []detect.Spec
	for _, m := range metrics() {
		out = append(out, seriesSpec(m))
	}
	out = append(out, countSpecs()...) // outliercount.go
	return append(out, mixSpecs()...)
}

func seriesParams(m metric) []detect.Param {
	return []detect.Param{
		{Name: "threshold", Default: "0.5", Doc: "ensemble score at which a minute is anomalous (0..1)"},
		{Name: "min_count", Default: m.minCount, Doc: "a minute needs at least this value to alert (a stray event or one ordinary session is never a finding)"},
		{Name: "peak_margin", Default: "0.5", Doc: "a minute must exceed the entity's highest minute of the previous 7 days by this fraction (bursts it has had before are not news)"},
		{Name: "window", Default: "60", Doc: "reference window of the outlier detectors, in minutes"},
		{Name: "warmup", Default: "60", Doc: "minutes since an entity was first seen before it can alert"},
		{Name: "idle", Default: "48h", Doc: "an entity idle this long is forgotten (its history with it)"},
		{Name: "max_idle_fill", Default: "15", Doc: "idle minutes fed to the detectors between two active ones (a longer silence counts as this long: bounded cost per activity)"},
		{Name: "max_entities", Default: "10000", Doc: "entities tracked per shard (≈ 0.3 KB while seen in one minute only, 4 KB once active in two, 11 KB once a day old); beyond it the least recently active is shed (counted)"},
		{Name: "samples", Default: "5", Doc: "evidence lines kept per finding"},
	}
}

// seriesConfig is the ensemble configuration for per-minute counts.
func seriesConfig(window, warmup int) EnsembleConfig {
	c := DefaultEnsembleConfig()
	c.Window = window
	c.Recent = max(4, min(12, window/6))
	c.MinScale = 1 // counts: one event is the smallest meaningful deviation
	c.Warmup = 0   // the family waits for warmup minutes of history itself (idle minutes are compressed)
	c.Suppress = 60
	c.Budget = 0 // the family ends episodes and compares with previous peaks itself
	return c
}

// ScoreCounts scores a whole per-minute count series with the ensemble
// configuration the family uses (an hour's window, one event as the
// smallest deviation, an hour of warm-up).
func ScoreCounts(times []time.Time, values []float64) ([]float64, error) {
	c := seriesConfig(60, 60)
	c.Warmup = 60
	return ScoreSeries(c, times, values)
}

type seriesOpts struct {
	maxIdle   int
	warmup    int
	threshold float64
	minCount  float64
	margin    float64
	idle      time.Duration
	max       int
	samples   int
	cfg       EnsembleConfig
}

func readSeriesOpts(p detect.Params) (seriesOpts, error) {
	var o seriesOpts
	var err error
	if o.threshold, err = p.Float("threshold"); err != nil {
		return o, err
	}
	mc, err := p.Float("min_count")
	if err != nil {
		return o, err
	}
	o.minCount = mc
	if o.margin, err = p.Float("peak_margin"); err != nil {
		return o, err
	}
	if o.margin < 0 || math.IsNaN(o.margin) {
		return o, fmt.Errorf("peak_margin %v: want ≥ 0", o.margin)
	}
	window, err := p.Int("window")
	if err != nil {
		return o, err
	}
	warmup, err := p.Int("warmup")
	if err != nil {
		return o, err
	}
	if o.idle, err = p.Duration("idle"); err != nil {
		return o, err
	}
	if o.maxIdle, err = p.Int("max_idle_fill"); err != nil {
		return o, err
	}
	if o.maxIdle < 0 {
		return o, fmt.Errorf("max_idle_fill %d: want ≥ 0", o.maxIdle)
	}
	if o.max, err = p.Int("max_entities"); err != nil {
		return o, err
	}
	if o.samples, err = p.Int("samples"); err != nil {
		return o, err
	}
	switch {
	case !(o.threshold > 0 && o.threshold <= 1):
		return o, fmt.Errorf("threshold %v: want in (0, 1]", o.threshold)
	case o.minCount < 0 || math.IsNaN(o.minCount):
		return o, fmt.Errorf("min_count %v: want ≥ 0", o.minCount)
	case window < 16 || window > 4096:
		return o, fmt.Errorf("window %d: want 16..4096", window)
	case warmup < 0:
		return o, fmt.Errorf("warmup %d: want ≥ 0", warmup)
	case o.idle <= 0:
		return o, fmt.Errorf("idle %v: want > 0", o.idle)
	case o.max < 1 || o.samples < 0:
		return o, fmt.Errorf("max_entities ≥ 1 and samples ≥ 0 are required")
	}
	o.warmup = warmup
	o.cfg = seriesConfig(window, warmup)
	return o, o.cfg.Validate()
}

func seriesSpec(m metric) detect.Spec {
	return detect.Spec{
		Name: "series." + m.name, Summary: m.summary + " (outlier ensemble per closed minute)",
		Key: m.key, Kinds: m.kinds, Actions: m.actions, Techniques: m.techniques, Params: seriesParams(m),
		New: func(p detect.Params) (detect.Detector, error) {
			o, err := readSeriesOpts(p)
			if err != nil {
				return nil, fmt.Errorf("detector series.%s: %w", m.name, err)
			}
			return newSeriesDetector(m, o), nil
		},
	}
}

const minute = int64(time.Minute)

func minuteOf(t time.Time) int64 {
	ns := t.UnixNano()
	b := ns / minute
	if ns < 0 && ns%minute != 0 {
		b--
	}
	return b
}

func minuteTime(b int64) time.Time { return time.Unix(0, b*minute).UTC() }

// entitySeries is one entity's state.
type entitySeries struct {
	// ens is created at the entity's second active minute (the first is
	// kept in firstMin/firstVal): most source addresses of a flood are
	// seen once, and cost no ensemble.
	ens        *Ensemble
	firstMin   int64 // −1: none kept
	firstVal   float64
	cur        int64 // open minute (−1: none)
	value      float64
	dist       *series.Distinct
	lastClosed int64 // last minute fed to the ensemble (−1: none)
	smp        []event.Sample
	ep         *seriesEpisode
	peaks      peaks
}

// peaks keeps the highest minute of each of the last peakDays days.
type peaks struct {
	day [peakDays]int64
	max [peakDays]float32
}

const peakDays = 7

// before returns the highest minute of the previous peakDays days and of
// today up to now.
func (p *peaks) before(day int64) float64 {
	m := 0.0
	for i := range p.day {
		if p.day[i] > day-peakDays && p.day[i] <= day {
			m = max(m, float64(p.max[i]))
		}
	}
	return m
}

func (p *peaks) add(day int64, v float64) {
	i := int(((day % peakDays) + peakDays) % peakDays)
	if p.day[i] != day {
		p.day[i], p.max[i] = day, 0
	}
	p.max[i] = max(p.max[i], float32(v))
}

// seriesEpisode is a run of anomalous minutes of one entity.
type seriesEpisode struct {
	start, last int64 // minutes
	total       float64
	minutes     int
	peak        float64
	peakAt      int64
	peakBase    float64
	prevPeak    float64
	score       float64
	votes       []Vote
	explained   bool
	samples     []event.Sample
}

type due struct {
	key    string
	minute int64
}

type seriesDetector struct {
	m     metric
	o     seriesOpts
	tab   *detect.Table[entitySeries]
	queue []due // minutes to close, in (nearly) time order
	qhead int
	emit  detect.Emit
	kbuf  [16]byte
	spare []*Ensemble // ensembles of removed entities, for reuse
	fac   *Factory
	door  *detect.Doorkeeper // admission of new addresses (second sighting)
	// deferred counts first sightings left out while the table was near
	// its cap (the ones a larger max_entities would have tracked).
	deferred int64
	// last caches the entry of the last string key (valid until the table
	// next removes entries: Advance and Flush clear it).
	last    *entitySeries
	lastKey string
	lastSec int64
}

func newSeriesDetector(m metric, o seriesOpts) *seriesDetector {
	d := &seriesDetector{m: m, o: o}
	d.fac, _ = NewFactory(o.cfg) // validated by readSeriesOpts
	if m.key == detect.KeySourceIP {
		d.door = detect.NewDoorkeeper(20, time.Hour)
	}
	d.tab = detect.NewTable(o.max, detect.TableOptions[entitySeries]{
		Shed: func(key string, st *entitySeries) {
			if d.emit != nil {
				d.finish(key, st, d.emit)
			}
		},
		Recycle: d.recycle,
	})
	return d
}

func (d *seriesDetector) recycle(st *entitySeries) {
	if st.ens != nil && len(d.spare) < 64 {
		d.spare = append(d.spare, st.ens)
	}
	*st = entitySeries{cur: -1, lastClosed: -1, firstMin: -1}
}

func (d *seriesDetector) newEnsemble() *Ensemble {
	if n := len(d.spare); n > 0 {
		e := d.spare[n-1]
		d.spare = d.spare[:n-1]
		e.Reset()
		return e
	}
	return d.fac.New()
}

// entityKey returns the table key for ev (IP addresses as their 16 bytes,
// without allocating) and whether ev has one.
func (d *seriesDetector) entityKey(ev *event.Event) ([]byte, string, bool) {
	if d.m.key == detect.KeySourceIP {
		if !ev.SrcIP.IsValid() {
			return nil, "", false
		}
		d.kbuf = ev.SrcIP.As16()
		return d.kbuf[:], "", true
	}
	v, ok := detect.KeyValue(d.m.key, ev)
	return nil, v, ok
}

func (d *seriesDetector) entityOf(key string) event.Entity {
	if d.m.key == detect.KeySourceIP && len(key) == 16 {
		var a [16]byte
		copy(a[:], key)
		return event.Entity{Type: event.EntityIP, Value: netip.AddrFrom16(a).Unmap().String()}
	}
	return event.Entity{Type: d.m.entity, Value: key}
}

func (d *seriesDetector) Observe(ev *event.Event, emit detect.Emit) {
	d.emit = emit
	var v float64
	var item string
	if d.m.distinct != nil {
		var ok bool
		if item, ok = d.m.distinct(ev); !ok {
			return
		}
	} else {
		var ok bool
		if v, ok = d.m.value(ev); !ok {
			return
		}
	}
	kb, ks, ok := d.entityKey(ev)
	if !ok {
		return
	}
	var st *entitySeries
	var created bool
	switch sec := ev.Time.Unix(); {
	case kb == nil && d.last != nil && ks == d.lastKey && sec == d.lastSec:
		st = d.last // the same entity within the same second (runs of lines): no lookup
	case kb != nil:
		// Addresses enter on their second sighting within an hour: a flood
		// of one-off sources costs no table entry (nor evicts the sources
		// that keep acting); an address's first event is not counted.
		if d.tab.GetBytes(kb) == nil && !d.door.Admit(kb, ev.Time) {
			// A first sighting is left out by design; it is only worth
			// reporting (Stats.Deferred) when the table is near its cap,
			// where the doorkeeper is what keeps a flood out.
			if d.tab.Len() >= d.tab.Cap()*9/10 {
				d.deferred++
			}
			return
		}
		st, created = d.tab.UpsertBytes(kb, ev.Time)
	default:
		st, created = d.tab.Upsert(ks, ev.Time)
		d.last, d.lastKey, d.lastSec = st, ks, sec
	}
	if created {
		*st = entitySeries{cur: -1, lastClosed: -1, firstMin: -1}
	}
	b := minuteOf(ev.Time)
	if st.cur >= 0 && b > st.cur {
		d.close(d.keyString(kb, ks), st, emit)
	}
	if st.cur < 0 {
		if b <= st.lastClosed { // late for a closed minute: count it in the next
			b = st.lastClosed + 1
		}
		st.cur, st.value = b, 0
		if st.dist != nil {
			st.dist.Reset()
		}
		d.queue = append(d.queue, due{key: d.keyString(kb, ks), minute: b})
	}
	if d.m.distinct != nil {
		if st.dist == nil {
			st.dist = series.NewDistinct(0)
		}
		st.dist.AddString(item)
	} else {
		st.value += v
	}
	if st.ens != nil && len(st.smp) < d.o.samples { // a first minute cannot alert: no samples
		st.smp = append(st.smp, event.SampleOf(ev))
	}
}

// keyString returns the table key as a string; for byte keys it looks up
// the table's own copy so that nothing is allocated per event.
func (d *seriesDetector) keyString(kb []byte, ks string) string {
	if kb == nil {
		return ks
	}
	return string(kb) // only on a new minute of a source: one small allocation
}

// close feeds the entity's open minute (after the idle minutes before it)
// to its ensemble and updates its episode.
func (d *seriesDetector) close(key string, st *entitySeries, emit detect.Emit) {
	if st.cur < 0 {
		return
	}
	v := st.value
	if st.dist != nil {
		v = float64(st.dist.Count())
	}
	switch {
	case st.ens == nil && st.firstMin < 0:
		st.firstMin, st.firstVal, st.lastClosed = st.cur, v, st.cur
	case st.ens == nil:
		st.ens = d.newEnsemble()
		st.ens.Update(minuteTime(st.firstMin), st.firstVal)
		st.lastClosed = st.firstMin
		fallthrough
	default:
		d.feedIdle(key, st, st.cur, emit)
		d.step(key, st, st.cur, v, emit)
	}
	st.cur, st.value = -1, 0
	st.smp = st.smp[:0]
}

// feedIdle feeds zeros for the idle minutes between the last closed one
// and upTo, at most maxIdle of them (the last ones): a long silence
// counts as a short one, so an entity that acts every few hours costs a
// few updates per activity, not one per minute of its life, and a burst
// after the silence is still judged against its activity and quiet.
func (d *seriesDetector) feedIdle(key string, st *entitySeries, upTo int64, emit detect.Emit) {
	from := st.lastClosed + 1
	if st.lastClosed < 0 {
		from = upTo
	}
	if lim := upTo - int64(d.o.maxIdle); from < lim {
		from = lim
	}
	for k := from; k < upTo; k++ {
		d.step(key, st, k, 0, emit)
	}
}

// step scores one minute and opens, extends or ends the episode.
func (d *seriesDetector) step(key string, st *entitySeries, m int64, v float64, emit detect.Emit) {
	day := m / (24 * 60)
	if v < d.o.minCount {
		// Below what could alert: learn it cheaply; it ends any episode.
		st.ens.Learn(minuteTime(m), v)
		st.lastClosed = m
		if v > 0 {
			st.peaks.add(day, v)
		}
		if st.ep != nil {
			d.end(key, st, emit)
		}
		return
	}
	base := st.ens.Baseline()
	prev := st.peaks.before(day)
	res := st.ens.Update(minuteTime(m), v)
	st.lastClosed = m
	st.peaks.add(day, v)
	warm := m-st.firstMin >= int64(d.o.warmup)
	anomalous := warm && res.Score >= d.o.threshold && v >= d.o.minCount && v > base && v > prev*(1+d.o.margin)
	if st.ep == nil {
		if !anomalous {
			return
		}
		st.ep = &seriesEpisode{start: m}
	} else if !anomalous && !(v > base && v >= d.o.minCount && res.Score >= d.o.threshold/2) {
		d.end(key, st, emit)
		return
	}
	if st.ep.minutes == 0 {
		st.ep.prevPeak = prev
	}
	ep := st.ep
	ep.last = m
	ep.total += v
	ep.minutes++
	if v > ep.peak {
		ep.peak, ep.peakAt, ep.peakBase = v, m, base
		ep.votes = st.ens.Votes()
		ep.explained = res.Explained
	}
	ep.score = max(ep.score, res.Score)
	for _, s := range st.smp {
		if len(ep.samples) >= d.o.samples {
			break
		}
		ep.samples = append(ep.samples, s)
	}
	// Check the next minute even if the entity falls silent.
	d.queue = append(d.queue, due{key: key, minute: m + 1})
}

func (d *seriesDetector) end(key string, st *entitySeries, emit detect.Emit) {
	ep := st.ep
	st.ep = nil
	if ep == nil {
		return
	}
	emit(d.alert(key, ep))
}

func (d *seriesDetector) alert(key string, ep *seriesEpisode) event.Alert {
	ent := d.entityOf(key)
	peakT := minuteTime(ep.peakAt)
	desc := fmt.Sprintf("%s had %s %s in the minute at %s (baseline %s per minute, anomaly score %.2f)",
		displayName(ent.Value), num(ep.peak), d.m.unit, peakT.Format("2006-01-02 15:04"), num(ep.peakBase), ep.score)
	if ep.minutes > 1 {
		desc = fmt.Sprintf("%s had %s %s in %d anomalous minutes from %s to %s, peaking at %s in the minute at %s (baseline %s per minute, anomaly score %.2f)",
			displayName(ent.Value), num(ep.total), d.m.unit, ep.minutes, minuteTime(ep.start).Format("2006-01-02 15:04"),
			minuteTime(ep.last).Format("15:04"), num(ep.peak), peakT.Format("15:04"), num(ep.peakBase), ep.score)
	}
	var voted []Vote
	nv := 0
	for _, v := range ep.votes {
		if v.Ready {
			voted = append(voted, v)
			if v.Voted {
				nv++
			}
		}
	}
	sort.SliceStable(voted, func(i, j int) bool { return voted[i].Voted && !voted[j].Voted })
	// Low severity: a change in an entity's behaviour corroborates other
	// findings (and ranks the entity within its band) but is no attack by
	// itself.
	sev := event.SeverityLow
	a := event.Alert{
		Rule: "series." + d.m.name, Description: desc, Entity: ent,
		Start: minuteTime(ep.start), End: minuteTime(ep.last + 1), Severity: sev, Score: round3(ep.score),
		Techniques: d.m.techniques,
		Evidence: map[string]any{
			"metric":          d.m.name,
			"unit":            d.m.unit,
			"resolution":      "1m",
			"peak_value":      ep.peak,
			"peak_minute":     peakT.Format(time.RFC3339),
			"baseline":        round3(ep.peakBase),
			"previous_peak":   ep.prevPeak,
			"total":           ep.total,
			"minutes":         ep.minutes,
			"anomaly_score":   round3(ep.score),
			"detectors_voted": nv,
			"detectors_ready": len(voted),
			"votes":           voted,
		},
		Samples: ep.samples,
	}
	if ep.explained {
		a.Evidence["seasonally_explained"] = true
	}
	if ent.Type == event.EntityIP {
		a.SourceIP, _ = netip.ParseAddr(ent.Value)
	}
	if ent.Type == event.EntityUser {
		a.User = ent.Value
	}
	return a
}

func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// finish closes an entity for good (shed, expired or end of input).
func (d *seriesDetector) finish(key string, st *entitySeries, emit detect.Emit) {
	d.close(key, st, emit)
	if st.ep != nil {
		// One more (empty) minute decides whether the episode had ended;
		// at the end of input it has.
		d.end(key, st, emit)
	}
}

func (d *seriesDetector) Advance(wm time.Time, emit detect.Emit) {
	d.emit = emit
	d.last = nil
	now := minuteOf(wm)
	for d.qhead < len(d.queue) {
		q := d.queue[d.qhead]
		if q.minute >= now { // the minute has not ended yet
			break
		}
		d.qhead++
		st := d.tab.Get(q.key)
		if st == nil {
			continue
		}
		switch {
		case st.cur == q.minute:
			d.close(q.key, st, emit)
		case st.cur < 0 && st.ep != nil && st.ens != nil && st.lastClosed < q.minute:
			// The entity fell silent during an episode: its next minute
			// is a zero.
			d.feedIdle(q.key, st, q.minute, emit)
			d.step(q.key, st, q.minute, 0, emit)
		}
	}
	if d.qhead > 4096 && d.qhead*2 > len(d.queue) {
		n := copy(d.queue, d.queue[d.qhead:])
		clear(d.queue[n:])
		d.queue = d.queue[:n]
		d.qhead = 0
	}
	d.tab.Expire(wm, d.o.idle, func(key string, st *entitySeries) { d.finish(key, st, emit) })
}

func (d *seriesDetector) Flush(emit detect.Emit) {
	d.emit = emit
	d.last = nil
	d.tab.Drain(func(key string, st *entitySeries) { d.finish(key, st, emit) })
	d.queue, d.qhead = nil, 0
}

func (d *seriesDetector) Stats() detect.Stats {
	st := d.tab.Stats()
	st.Deferred = d.deferred
	return st
}

var _ detect.Detector = (*seriesDetector)(nil)

// displayName names an entity in a description as a user would: "-" is
// the site of a web log without virtual hosts.
func displayName(v string) string {
	if v == "-" {
		return "the site"
	}
	return v
}
