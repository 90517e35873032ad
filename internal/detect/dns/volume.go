package dns

import (
	"fmt"
	"math"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// dns.client_volume: a client's query volume departs from its own
// baseline. Each client's queries are counted per interval (step); an
// exponentially weighted mean and variance of its past intervals is the
// baseline, learnt per client once it has min_history intervals. An
// interval is anomalous when its count is at least min_queries, factor
// times the baseline mean and z standard deviations above it (the
// standard deviation floored at the Poisson √mean, so a very regular
// client does not alarm at small bumps). Anomalous intervals do not feed
// the baseline (an attacker cannot teach it a tunnel's volume by running
// it); consecutive ones form one episode, reported when the client returns
// to normal, falls silent, or the input ends.

var volumeTechniques = []string{"T1071.004", "T1048"}

func volumeSpec() detect.Spec {
	return detect.Spec{
		Name:       "dns.client_volume",
		Summary:    "a client's DNS query volume jumps far above its own learnt baseline",
		Key:        detect.KeySourceIP,
		Kinds:      dnsKinds,
		Actions:    []event.Action{event.ActDNSQuery},
		Techniques: volumeTechniques,
		Params: []detect.Param{
			{Name: "step", Default: "10m", Doc: "counting interval"},
			{Name: "min_history", Default: "6", Doc: "intervals of a client's history before its baseline is trusted"},
			{Name: "alpha", Default: "0.1", Doc: "weight of the newest interval in the moving baseline (about the last 10 intervals count)"},
			{Name: "factor", Default: "5", Doc: "an anomalous interval has at least this many times the baseline mean"},
			{Name: "z", Default: "4", Doc: "and is this many standard deviations above it"},
			{Name: "min_queries", Default: "300", Doc: "and has at least this many queries (small clients' bursts are noise)"},
			{Name: "idle", Default: "24h", Doc: "a client's baseline is forgotten after this much event time without queries"},
			paramMaxEntities, paramSamples,
		},
		New: newVolume,
	}
}

type volState struct {
	cur, count   int64 // current interval index and its query count
	bytes        int64
	doms         counter
	n            int64 // intervals in the baseline
	mean, vari   float64
	anom         bool
	aStart, aEnd int64 // anomaly episode: first and last interval index
	aCount       int64
	aPeak        int64
	aBytes       int64
	aMean, aSD   float64 // baseline when the anomaly began
	aDoms        counter
	smp          samples
	first, last  int64 // event times of the anomaly's evidence
}

type volume struct {
	tab       *detect.Table[volState]
	step      int64
	idle      time.Duration
	minHist   int64
	alpha     float64
	factor, z float64
	minQ      int64
	samples   int
	open      map[string]struct{} // clients with an open anomaly
	emit      detect.Emit
}

func newVolume(p detect.Params) (detect.Detector, error) {
	ns, err := ints(p, "max_entities", "samples", "min_history", "min_queries")
	if err != nil {
		return nil, err
	}
	ds, err := durations(p, "step", "idle")
	if err != nil {
		return nil, err
	}
	alpha, err := unitFloat(p, "alpha")
	if err != nil {
		return nil, err
	}
	factor, err := p.Float("factor")
	if err != nil || factor < 1 {
		return nil, paramError("parameter factor must be at least 1")
	}
	z, err := p.Float("z")
	if err != nil || z <= 0 {
		return nil, paramError("parameter z must be positive")
	}
	d := &volume{step: int64(ds[0]), idle: ds[1], minHist: int64(ns[2]), alpha: alpha, factor: factor, z: z,
		minQ: int64(ns[3]), samples: ns[1], open: map[string]struct{}{}}
	d.tab = detect.NewTable(ns[0], detect.TableOptions[volState]{
		Shed: func(key string, s *volState) { d.closeAnomaly(key, s, d.emit) },
	})
	return d, nil
}

func (d *volume) Observe(ev *event.Event, emit detect.Emit) {
	if ev.DNS == nil || !ev.SrcIP.IsValid() {
		return
	}
	d.emit = emit
	key := ipKey(ev)
	s, created := d.tab.Upsert(key, ev.Time)
	idx := ev.Time.UnixNano() / d.step
	if created {
		*s = volState{cur: idx}
	}
	if idx > s.cur {
		d.roll(key, s, idx, emit)
	}
	s.count++
	s.bytes += int64(ev.DNS.QuerySize + ev.DNS.RespSize)
	if ev.DNS.Registered != "" {
		s.doms.add(ev.DNS.Registered, 1, 64)
	}
	if s.anom || (s.n >= d.minHist && float64(s.count) >= d.limit(s)) {
		// Keep evidence of what may be an anomalous interval.
		s.smp.add(ev, d.samples)
		if s.first == 0 {
			s.first = ev.Time.UnixNano()
		}
		s.last = ev.Time.UnixNano()
	}
}

// limit is the count at which the current interval is anomalous.
func (d *volume) limit(s *volState) float64 {
	sd := math.Max(math.Sqrt(s.vari), math.Sqrt(math.Max(s.mean, 1)))
	return math.Max(float64(d.minQ), math.Max(d.factor*s.mean, s.mean+d.z*sd))
}

// roll closes the current interval and every empty one before idx.
func (d *volume) roll(key string, s *volState, idx int64, emit detect.Emit) {
	d.closeInterval(key, s, emit)
	gap := idx - s.cur - 1 // empty intervals in between
	if gap > 0 {
		if s.anom {
			d.closeAnomaly(key, s, emit)
		}
		// Each empty interval pulls the baseline towards zero (after 60
		// of them what is left is negligible).
		for i := int64(0); i < min(gap, 60); i++ {
			diff := -s.mean
			s.mean += d.alpha * diff
			s.vari = (1 - d.alpha) * (s.vari + d.alpha*diff*diff)
		}
		s.n += gap
	}
	s.cur, s.count, s.bytes = idx, 0, 0
	s.doms = counter{}
}

func (d *volume) closeInterval(key string, s *volState, emit detect.Emit) {
	c := float64(s.count)
	if s.n >= d.minHist && c >= d.limit(s) {
		if !s.anom {
			s.anom = true
			s.aStart, s.aCount, s.aPeak, s.aBytes = s.cur, 0, 0, 0
			s.aMean, s.aSD = s.mean, math.Sqrt(s.vari)
			s.aDoms = counter{}
			d.open[key] = struct{}{}
		}
		s.aEnd = s.cur
		s.aCount += s.count
		s.aBytes += s.bytes
		s.aPeak = max(s.aPeak, s.count)
		for k, v := range s.doms.m {
			s.aDoms.add(k, v, 64)
		}
		return
	}
	if s.anom {
		d.closeAnomaly(key, s, emit)
	}
	s.smp = samples{}
	s.first, s.last = 0, 0
	// The baseline learns from normal intervals only.
	diff := c - s.mean
	s.mean += d.alpha * diff
	s.vari = (1 - d.alpha) * (s.vari + d.alpha*diff*diff)
	s.n++
}

func (d *volume) closeAnomaly(key string, s *volState, emit detect.Emit) {
	if !s.anom {
		return
	}
	s.anom = false
	delete(d.open, key)
	if emit == nil {
		return
	}
	ip := ipOfKey(key)
	top := s.aDoms.top(5)
	intervals := s.aEnd - s.aStart + 1
	perInterval := float64(s.aCount) / float64(intervals)
	ratio := perInterval / math.Max(s.aMean, 1)
	a := event.Alert{
		Rule:       "dns.client_volume",
		Entity:     event.Entity{Type: event.EntityIP, Value: ip},
		SourceIP:   mustAddr(ip),
		Start:      unix(s.aStart * d.step),
		End:        unix((s.aEnd + 1) * d.step),
		Techniques: volumeTechniques,
		Samples:    s.smp.list,
		Severity:   event.SeverityMedium,
		Score:      strength(ratio, d.factor),
		Related:    domainEntities(keys(top[:min(3, len(top))])),
	}
	if s.first != 0 {
		a.Start, a.End = unix(s.first), unix(s.last)
	}
	a.Evidence = map[string]any{
		"queries":               s.aCount,
		"intervals":             intervals,
		"interval_minutes":      round2(float64(d.step) / float64(time.Minute)),
		"queries_per_interval":  round2(perInterval),
		"peak_interval_queries": s.aPeak,
		"baseline_mean":         round2(s.aMean),
		"baseline_stddev":       round2(s.aSD),
		"ratio_to_baseline":     round2(ratio),
		"bytes":                 s.aBytes,
		"top_domains":           top,
		"factor":                d.factor,
		"z":                     d.z,
	}
	dom := ""
	if len(top) > 0 {
		dom = fmt.Sprintf(", mostly %s (%d)", top[0].Key, top[0].Count)
	}
	a.Description = fmt.Sprintf("%s made %d DNS queries in %d × %s (%.0f per interval, %.1f× its baseline of %.1f)%s",
		ip, s.aCount, intervals, time.Duration(d.step), perInterval, ratio, s.aMean, dom)
	s.smp = samples{}
	s.first, s.last = 0, 0
	emit(a)
}

// Advance closes the intervals of clients with an open anomaly that ended
// before t, and forgets idle clients.
func (d *volume) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	idx := t.UnixNano() / d.step
	for key := range d.open {
		if s := d.tab.Get(key); s != nil && idx > s.cur {
			d.roll(key, s, idx, emit)
		}
	}
	d.tab.Expire(t, d.idle, func(key string, s *volState) { d.closeAnomaly(key, s, emit) })
}

// Flush closes every client's current interval (an anomaly in the last
// interval is reported).
func (d *volume) Flush(emit detect.Emit) {
	d.tab.Drain(func(key string, s *volState) {
		d.closeInterval(key, s, emit)
		d.closeAnomaly(key, s, emit)
	})
}

func (d *volume) Stats() detect.Stats { return d.tab.Stats() }
