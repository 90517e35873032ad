package outlier

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/stattest"
	"winnow/internal/event"
)

// mixMetric is a categorical distribution tested per micro-batch.
type mixMetric struct {
	techniques []string
	name       string
	summary    string
	key        detect.Key
	kinds      []event.Kind
	actions    []event.Action
	entity     event.EntityType
	what       string // "login outcomes"
	category   func(ev *event.Event) (string, bool)
}

func mixMetrics() []mixMetric {
	return []mixMetric{
		{name: "auth_outcome_mix_by_host", summary: "mix of login outcomes (logged in, failed, invalid user, ...) per host per batch vs. the host's history (chi-square)",
			key: detect.KeyHost, kinds: []event.Kind{event.KindAuth}, entity: event.EntityHost, what: "login outcomes", techniques: []string{"T1110"},
			actions:  []event.Action{event.ActLoginSuccess, event.ActLoginFailure, event.ActInvalidUser, event.ActMaxAuthAttempts, event.ActAuthFailurePAM},
			category: func(ev *event.Event) (string, bool) { return ev.Action.String(), true }},
		{name: "http_status_mix_by_site", summary: "mix of HTTP status codes per site per batch vs. the site's history (chi-square)",
			key: detect.KeySite, kinds: []event.Kind{event.KindHTTP}, entity: event.EntityDomain, what: "status codes", techniques: []string{"T1595.002"},
			category: func(ev *event.Event) (string, bool) {
				if ev.HTTP == nil {
					return "", false
				}
				return strconv.Itoa(ev.HTTP.Status), true
			}},
		{name: "dns_qtype_mix_by_client", summary: "mix of DNS query types per client per batch vs. the client's history (chi-square)",
			key: detect.KeySourceIP, kinds: []event.Kind{event.KindDNS}, actions: []event.Action{event.ActDNSQuery}, entity: event.EntityIP,
			what: "query types", techniques: []string{"T1071.004"},
			category: func(ev *event.Event) (string, bool) {
				if ev.DNS == nil || ev.DNS.QType == "" {
					return "", false
				}
				return ev.DNS.QType, true
			}},
	}
}

var mixParams = []detect.Param{
	{Name: "batch", Default: "10m", Doc: "micro-batch length: each batch is tested against the entity's history of batches"},
	{Name: "alpha", Default: "1e-10", Doc: "p-value below which a batch is a finding (small: thousands of batches are tested)"},
	{Name: "min_batch", Default: "20", Doc: "observations a batch needs to be tested"},
	{Name: "min_history", Default: "6", Doc: "batches of history an entity needs before its batches are tested"},
	{Name: "decay", Default: "0.98", Doc: "weight of the history at each batch (0.98: a half-life of about 34 batches)"},
	{Name: "max_categories", Default: "32", Doc: "categories kept per entity; the rest count as other"},
	{Name: "idle", Default: "48h", Doc: "an entity idle this long is forgotten"},
	{Name: "max_entities", Default: "10000", Doc: "entities tracked per shard; beyond it the least recently active is shed (counted)"},
	{Name: "samples", Default: "5", Doc: "evidence lines kept per finding"},
}

func mixSpecs() []detect.Spec {
	var out []detect.Spec
	for _, m := range mixMetrics() {
		m := m
		out = append(out, detect.Spec{
			Name: "series." + m.name, Summary: m.summary, Key: m.key, Kinds: m.kinds, Actions: m.actions, Params: mixParams,
			Techniques: m.techniques,
			New: func(p detect.Params) (detect.Detector, error) {
				d, err := newMixDetector(m, p)
				if err != nil {
					return nil, fmt.Errorf("detector series.%s: %w", m.name, err)
				}
				return d, nil
			},
		})
	}
	return out
}

type mixState struct {
	mix   *stattest.Mix
	batch int64 // index of the open batch (time / batch length)
	open  bool
	smp   []event.Sample
}

type mixDetector struct {
	m          mixMetric
	batch      time.Duration
	alpha      float64
	minBatch   float64
	minHistory int
	decay      float64
	maxCat     int
	idle       time.Duration
	samples    int
	tab        *detect.Table[mixState]
	queue      []due // batches to close, in time order (minute holds the batch index)
	qhead      int
	kbuf       [16]byte
	emit       detect.Emit
	last       *mixState // entry of the last string key; cleared when the table may remove entries
	lastKey    string
	lastSec    int64
}

func newMixDetector(m mixMetric, p detect.Params) (*mixDetector, error) {
	d := &mixDetector{m: m}
	var err error
	if d.batch, err = p.Duration("batch"); err != nil {
		return nil, err
	}
	if d.alpha, err = p.Float("alpha"); err != nil {
		return nil, err
	}
	if d.minBatch, err = p.Float("min_batch"); err != nil {
		return nil, err
	}
	if d.minHistory, err = p.Int("min_history"); err != nil {
		return nil, err
	}
	if d.decay, err = p.Float("decay"); err != nil {
		return nil, err
	}
	if d.maxCat, err = p.Int("max_categories"); err != nil {
		return nil, err
	}
	if d.idle, err = p.Duration("idle"); err != nil {
		return nil, err
	}
	max, err := p.Int("max_entities")
	if err != nil {
		return nil, err
	}
	if d.samples, err = p.Int("samples"); err != nil {
		return nil, err
	}
	switch {
	case d.batch < time.Second || d.idle <= 0:
		return nil, fmt.Errorf("batch ≥ 1s and idle > 0 are required")
	case !(d.alpha > 0 && d.alpha < 1):
		return nil, fmt.Errorf("alpha %v: want in (0, 1)", d.alpha)
	case !(d.decay > 0 && d.decay <= 1):
		return nil, fmt.Errorf("decay %v: want in (0, 1]", d.decay)
	case d.minBatch < 1 || d.minHistory < 1 || d.maxCat < 2 || max < 1 || d.samples < 0:
		return nil, fmt.Errorf("min_batch ≥ 1, min_history ≥ 1, max_categories ≥ 2, max_entities ≥ 1 and samples ≥ 0 are required")
	}
	d.tab = detect.NewTable(max, detect.TableOptions[mixState]{
		Shed: func(key string, st *mixState) {
			if d.emit != nil {
				d.closeBatch(key, st, d.emit)
			}
		},
	})
	return d, nil
}

func (d *mixDetector) batchOf(t time.Time) int64 {
	ns, b := t.UnixNano(), int64(d.batch)
	k := ns / b
	if ns < 0 && ns%b != 0 {
		k--
	}
	return k
}

func (d *mixDetector) Observe(ev *event.Event, emit detect.Emit) {
	d.emit = emit
	c, ok := d.m.category(ev)
	if !ok {
		return
	}
	var st *mixState
	if d.m.key == detect.KeySourceIP {
		if !ev.SrcIP.IsValid() {
			return
		}
		d.kbuf = ev.SrcIP.As16()
		st, _ = d.tab.UpsertBytes(d.kbuf[:], ev.Time)
	} else {
		k, ok := detect.KeyValue(d.m.key, ev)
		if !ok {
			return
		}
		if sec := ev.Time.Unix(); d.last != nil && k == d.lastKey && sec == d.lastSec {
			st = d.last // the same entity within the same second: no lookup
		} else {
			st, _ = d.tab.Upsert(k, ev.Time)
			d.last, d.lastKey, d.lastSec = st, k, sec
		}
	}
	if st.mix == nil {
		st.mix = stattest.NewMix(d.maxCat)
	}
	b := d.batchOf(ev.Time)
	if st.open && b > st.batch {
		key := d.m.keyString(d.kbuf[:], ev)
		d.closeBatch(key, st, emit)
		// Idle batches in between count as empty ones in the history.
	}
	if !st.open {
		st.open, st.batch = true, b
		d.queue = append(d.queue, due{key: d.m.keyString(d.kbuf[:], ev), minute: b})
	}
	n := 1.0
	if ev.Count > 1 {
		n = float64(ev.Count)
	}
	st.mix.Add(c, n)
	if len(st.smp) < d.samples {
		st.smp = append(st.smp, event.SampleOf(ev))
	}
}

func (m mixMetric) keyString(kb []byte, ev *event.Event) string {
	if m.key == detect.KeySourceIP {
		return string(kb)
	}
	k, _ := detect.KeyValue(m.key, ev)
	return k
}

// closeBatch tests the open batch against the history and merges it.
func (d *mixDetector) closeBatch(key string, st *mixState, emit detect.Emit) {
	if !st.open {
		return
	}
	res, tested := st.mix.Close(d.decay, d.minHistory, d.minBatch)
	start := time.Unix(0, st.batch*int64(d.batch)).UTC()
	st.open = false
	smp := st.smp
	st.smp = nil
	if !tested || res.P >= d.alpha {
		return
	}
	emit(d.alert(key, start, res, smp))
}

func (d *mixDetector) alert(key string, start time.Time, res stattest.ChiSquare, smp []event.Sample) event.Alert {
	ent := event.Entity{Type: d.m.entity, Value: key}
	if d.m.key == detect.KeySourceIP && len(key) == 16 {
		var a [16]byte
		copy(a[:], key)
		ent.Value = netip.AddrFrom16(a).Unmap().String()
	}
	top := res.Table[0]
	desc := fmt.Sprintf("%s's %s in the %s from %s differ from its history (chi-square %.1f, %d df, p = %.2g): %s %s observed vs. %.1f expected",
		displayName(ent.Value), d.m.what, shortDur(d.batch), start.Format("2006-01-02 15:04"), res.Stat, res.DF, res.P, num(top.Observed), top.Category, top.Expected)
	table := make([]stattest.Cell, 0, len(res.Table))
	for _, c := range res.Table {
		table = append(table, stattest.Cell{Category: c.Category, Observed: c.Observed, Expected: round3(c.Expected),
			Contribution: round3(c.Contribution)})
	}
	score := min(1, -log10(res.P)/40)
	sev := event.SeverityLow // corroborating, as series anomalies are
	a := event.Alert{
		Rule: "series." + d.m.name, Description: desc, Entity: ent, Start: start, End: start.Add(d.batch),
		Severity: sev, Score: round3(score), Techniques: d.m.techniques,
		Evidence: map[string]any{
			"test": "chi-square goodness of fit", "statistic": round3(res.Stat), "df": res.DF, "p_value": res.P,
			"batch": shortDur(d.batch), "observations": res.N, "table": table,
		},
		Samples: smp,
	}
	if ent.Type == event.EntityIP {
		a.SourceIP, _ = netip.ParseAddr(ent.Value)
	}
	return a
}

func (d *mixDetector) Advance(wm time.Time, emit detect.Emit) {
	d.emit = emit
	d.last = nil
	cur := d.batchOf(wm)
	for d.qhead < len(d.queue) && d.queue[d.qhead].minute < cur {
		q := d.queue[d.qhead]
		d.qhead++
		if st := d.tab.Get(q.key); st != nil && st.open && st.batch == q.minute {
			d.closeBatch(q.key, st, emit)
		}
	}
	if d.qhead > 4096 && d.qhead*2 > len(d.queue) {
		n := copy(d.queue, d.queue[d.qhead:])
		clear(d.queue[n:])
		d.queue = d.queue[:n]
		d.qhead = 0
	}
	d.tab.Expire(wm, d.idle, func(key string, st *mixState) { d.closeBatch(key, st, emit) })
}

func (d *mixDetector) Flush(emit detect.Emit) {
	d.emit = emit
	d.last = nil
	d.tab.Drain(func(key string, st *mixState) { d.closeBatch(key, st, emit) })
	d.queue, d.qhead = nil, 0
}

func (d *mixDetector) Stats() detect.Stats { return d.tab.Stats() }

func log10(x float64) float64 {
	if x <= 0 {
		return -300
	}
	return math.Log10(x)
}

var _ detect.Detector = (*mixDetector)(nil)

// shortDur renders 10m0s as 10m and 1h0m0s as 1h.
func shortDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
