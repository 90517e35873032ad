package web

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// floodSite is a site's baseline: requests per active client-minute.
type floodSite struct {
	rate    quantiles
	minutes int64
	p99     float64 // rate.quantile(0.99), refreshed every p99Every minutes
	stale   int
}

const p99Every = 32

func (st *floodSite) add(c float64) {
	st.rate.add(c)
	st.minutes++
	if st.stale++; st.stale >= p99Every || st.minutes < p99Every {
		st.p99, st.stale = st.rate.quantile(0.99), 0
	}
}

type floodState struct {
	ip       netip.Addr
	minute   int64   // unix minute being counted
	count    int32   // requests in it
	own      float64 // the client's own typical rate (EWMA over its normal minutes)
	normal   int32   // normal minutes seen (the own baseline's weight)
	floodMin int32   // minutes over the threshold in the current flood
	floodReq int64   // requests in those minutes
	peak     int32
	peakTh   float64
	first    int64 // unix nanoseconds of the flood's first and last minute
	last     int64
	quiet    int32 // minutes since the last flood minute
	s5xx     int32 // 5xx and 429 answers during the flood
	s429     int32
	paths    counted[string]
	smp      samples
	// ring counts the client's requests per 5 seconds over the last
	// minute (slot: the unix 5-second slot of the newest bucket), so a
	// burst that straddles two calendar minutes (125 requests in 15 s, 450
	// in 60 s) is seen whole.
	ring      [12]int32
	slot      int64
	minBurst  int32 // the largest trailing-minute count in the current minute
	burstPeak int32 // the largest in the current flood
	crawler   bool  // a search engine's crawler from its published ranges
}

type floodDetector struct {
	c          common
	minRate    int
	siteFactor float64
	ownFactor  float64
	warmup     int
	minClients int
	burstMin   int
	burstSite  float64
	sc         siteClient[floodState]
	sites      *sites[floodSite]
}

func floodSpec() detect.Spec {
	tech := []string{"T1499.002", "T1499.003"}
	return detect.Spec{
		Name:    "web.flood",
		Summary: "a client's request rate jumps far above both the site's usual per-client rate and its own usual rate (an HTTP flood), learned per site and per client in event time",
		Key:     detect.KeySite, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("10m", "the client's minute counters are dropped after this much silence (its own baseline with them)"),
			paramMaxEntities, paramSamples,
			{Name: "min_rate", Default: "300", Doc: "requests per minute below which nothing is a flood (5 per second: a browser loading a heavy page stays below)"},
			{Name: "site_factor", Default: "5", Doc: "a flood minute is above this times the site's 99th percentile of requests per active client-minute (busy API clients and crawlers are part of that percentile)"},
			{Name: "own_factor", Default: "5", Doc: "and above this times the client's own typical rate once it has warmup normal minutes (a steady heavy client is judged against itself)"},
			{Name: "warmup", Default: "10", Doc: "normal minutes before a client's own rate is trusted"},
			{Name: "min_clients", Default: "100", Doc: "client-minutes the site must have before its percentile is used (until then min_rate alone applies)"},
			{Name: "burst_min", Default: "100", Doc: "requests in any 60 seconds (sliding, not per calendar minute) below which no burst is reported; a person loading pages stays far below, an aggressive crawler does 125–450"},
			{Name: "burst_site_factor", Default: "2", Doc: "a burst is above this times the site's per-client p99 (and the client's own usual, by own_factor); search engines' crawlers from their published ranges are reported low"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "min_rate", "warmup", "min_clients", "burst_min")
			if err != nil {
				return nil, err
			}
			f, err := floats(p, "site_factor", "own_factor", "burst_site_factor")
			if err != nil {
				return nil, err
			}
			d := &floodDetector{c: c, minRate: v[0], warmup: v[1], minClients: v[2], burstMin: v[3],
				siteFactor: f[0], ownFactor: f[1], burstSite: f[2]}
			d.sc.eps = newEpisodes(c, d.end)
			d.sites = newSites[floodSite](nil)
			return d, nil
		},
	}
}

var _ detect.Detector = (*floodDetector)(nil)

// floodQuietMinutes ends a flood after this many minutes below threshold.
const floodQuietMinutes = 3

func (d *floodDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || !ev.SrcIP.IsValid() {
		return
	}
	site := siteOf(ev)
	st := d.sites.get(site, ev.Time)
	e := d.sc.touch(ev, site, emit)
	s := &e.v
	s.ip = ev.SrcIP
	m := ev.Time.Unix() / 60
	if s.minute == 0 {
		s.minute = m
	}
	if m < s.minute {
		return // out of order: its minute is closed (a shuffled log cannot show a rate)
	}
	if m > s.minute {
		d.closeMinute(st, e, site, emit)
		gap := m - s.minute - 1 // silent minutes in between
		if s.floodMin > 0 {
			s.quiet += int32(min(gap, 1000))
			if s.quiet >= floodQuietMinutes {
				d.report(site, e, emit)
			}
		}
		s.minute, s.count = m, 0
	}
	s.count++
	if !s.crawler && s.count == 1 {
		if info := classifyUA(h.UserAgent); info.kind == uaCrawler && info.claimed != "" && verifiedCrawler(info.claimed, ev.SrcIP) {
			s.crawler = true
		}
	}
	// Bursts count pages, not the assets a browser fetches with them (a
	// slide deck's fonts and images): a crawler asks for pages.
	if !staticExts[h.Ext] {
		if burst := d.window(s, ev.Time.Unix()); float64(burst) >= d.burstBar(st, s) {
			s.minBurst = max(s.minBurst, burst)
		}
	}
	if s.floodMin > 0 || float64(s.count) >= d.threshold(st, s) || s.minBurst > 0 {
		// keep what the flooding requests were
		if h.Status >= 500 {
			s.s5xx++
		}
		if h.Status == 429 {
			s.s429++
		}
		s.paths.Add(h.Path, 1, 32)
		s.smp.add(ev, d.c.samples)
	}
}

// window counts the request at unix second sec in the client's ring and
// returns its requests in the trailing 60 seconds.
func (d *floodDetector) window(s *floodState, sec int64) int32 {
	slot := sec / 5
	if s.slot == 0 || slot-s.slot >= int64(len(s.ring)) {
		s.ring = [12]int32{}
	} else {
		for k := s.slot + 1; k <= slot; k++ {
			s.ring[k%int64(len(s.ring))] = 0
		}
	}
	if slot > s.slot {
		s.slot = slot
	}
	s.ring[slot%int64(len(s.ring))]++
	var n int32
	for _, c := range s.ring {
		n += c
	}
	return n
}

// burstBar is the bar for requests in any 60 seconds: burst_min, the
// site's per-client p99 times burst_site_factor once learned, the client's
// own usual times own_factor once warm.
func (d *floodDetector) burstBar(st *floodSite, s *floodState) float64 {
	bar := float64(d.burstMin)
	if st != nil && st.minutes >= int64(d.minClients) {
		bar = max(bar, d.burstSite*st.p99)
	}
	if int(s.normal) >= d.warmup {
		bar = max(bar, d.ownFactor*s.own)
	}
	return bar
}

// threshold is the flood bar for a client of site st.
func (d *floodDetector) threshold(st *floodSite, s *floodState) float64 {
	th := float64(d.minRate)
	if st != nil && st.minutes >= int64(d.minClients) {
		th = max(th, d.siteFactor*st.p99)
	}
	if int(s.normal) >= d.warmup {
		th = max(th, d.ownFactor*s.own)
	}
	return th
}

// closeMinute judges the client's finished minute.
func (d *floodDetector) closeMinute(st *floodSite, e *ep[floodState], site string, emit detect.Emit) {
	s := &e.v
	if s.count == 0 {
		return
	}
	th := d.threshold(st, s)
	c := s.count
	burst := s.minBurst
	s.minBurst = 0
	if float64(c) < th && burst > 0 && s.peak == 0 && int(s.floodMin) >= d.warmup {
		// Bursts below the flood rate for warmup minutes on end are this
		// client's steady pace (an API client, a sync job), not a
		// crawler's rush: forget them and learn the pace.
		s.floodMin, s.floodReq, s.burstPeak, s.peakTh, s.quiet = 0, 0, 0, 0, 0
		s.paths = counted[string]{}
		s.smp = samples{}
		burst = 0
	}
	if float64(c) >= th || burst > 0 {
		if s.floodMin == 0 {
			s.first = s.minute * int64(time.Minute)
		}
		s.floodMin++
		s.floodReq += int64(c)
		s.last = s.minute * int64(time.Minute)
		s.quiet = 0
		if float64(c) >= th && c > s.peak {
			s.peak, s.peakTh = c, th
		}
		if burst > s.burstPeak {
			s.burstPeak = burst
			if s.peakTh == 0 || float64(s.peak) < s.peakTh {
				s.peakTh = d.burstBar(st, s)
			}
		}
		return // flood minutes teach neither baseline
	}
	if s.floodMin > 0 {
		s.quiet++
		if s.quiet >= floodQuietMinutes {
			d.report(site, e, emit)
		}
	}
	// a normal minute: teach the site and the client
	if st != nil {
		st.add(float64(c))
	}
	alpha := 0.1
	if s.normal < 10 {
		alpha = 1 / float64(s.normal+1)
	}
	s.own += alpha * (float64(c) - s.own)
	s.normal++
}

func (d *floodDetector) Advance(t time.Time, emit detect.Emit) { d.sc.eps.advance(t, emit) }
func (d *floodDetector) Flush(emit detect.Emit)                { d.sc.eps.flush(emit) }
func (d *floodDetector) Stats() detect.Stats {
	return combined(d.sc.eps.stats(), detect.Stats{Shed: d.sites.tab.Stats().Shed})
}

func (d *floodDetector) end(key string, e *ep[floodState], emit detect.Emit) {
	site, _ := splitSiteClient(key)
	d.closeMinute(d.sites.peek(site), e, site, emit)
	d.report(site, e, emit)
}

// report emits the client's flood, if one is open, and resets it.
func (d *floodDetector) report(site string, e *ep[floodState], emit detect.Emit) {
	s := &e.v
	if s.floodMin == 0 {
		return
	}
	defer func() {
		s.floodMin, s.floodReq, s.peak, s.peakTh, s.quiet, s.s5xx, s.s429, s.burstPeak = 0, 0, 0, 0, 0, 0, 0, 0
		s.paths = counted[string]{}
		s.smp = samples{}
	}()
	a := event.Alert{
		Rule:       "web.flood",
		Entity:     event.Entity{Type: event.EntityIP, Value: s.ip.String()},
		Start:      unix(s.first),
		End:        unix(s.last + int64(time.Minute) - 1),
		Techniques: []string{"T1499.002"},
		Samples:    s.smp.take(),
	}
	a.SourceIP = s.ip
	if e.user != "" {
		a.User = e.user
		a.Related = []event.Entity{{Type: event.EntityUser, Value: e.user}}
	}
	peak := max(s.peak, s.burstPeak)
	a.Severity = event.SeverityMedium
	if float64(peak) >= 10*s.peakTh || s.floodMin >= 10 {
		a.Severity = event.SeverityHigh
	}
	if s.crawler {
		a.Severity = event.SeverityLow // a search engine's crawler from its published ranges
	}
	a.Score = strength(float64(peak), s.peakTh)
	st := d.sites.peek(site)
	sp99 := 0.0
	if st != nil {
		sp99 = st.p99
	}
	paths := names(top(&s.paths, 5, ident))
	a.Evidence = map[string]any{
		"site":                 site,
		"flood_minutes":        s.floodMin,
		"flood_requests":       s.floodReq,
		"peak_per_minute":      s.peak,
		"peak_in_60_seconds":   s.burstPeak,
		"burst_min":            d.burstMin,
		"verified_crawler":     s.crawler,
		"threshold_per_minute": round2(s.peakTh),
		"site_p99_per_minute":  sp99,
		"own_rate_per_minute":  round2(s.own),
		"own_normal_minutes":   s.normal,
		"answers_5xx":          s.s5xx,
		"answers_429":          s.s429,
		"top_paths":            paths,
		"min_rate":             d.minRate,
	}
	a.Description = fmt.Sprintf("%s flooded %s with %d requests in %s (peak %d per minute; the bar was %.0f: %g× the site's per-client p99 of %.0f, %g× its own usual %.1f), mostly %s",
		a.Entity.Value, siteName(site), s.floodReq, plural(int(s.floodMin), "minute", "minutes"), s.peak, s.peakTh,
		d.siteFactor, sp99, d.ownFactor, s.own, strings.Join(first(paths, 2), ", "))
	if s.burstPeak > 0 && float64(s.peak) < s.peakTh*0.999 || s.peak == 0 {
		a.Description = fmt.Sprintf("%s sent %d requests to %s within 60 seconds (%d in %s; the bar was %.0f: at least %d, %g× the site's per-client p99 of %.0f, %g× its own usual %.1f), mostly %s",
			a.Entity.Value, s.burstPeak, siteName(site), s.floodReq, plural(int(s.floodMin), "minute", "minutes"), s.peakTh,
			d.burstMin, d.burstSite, sp99, d.ownFactor, s.own, strings.Join(first(paths, 2), ", "))
	}
	if s.crawler {
		a.Description += " (a search engine's crawler from its published ranges)"
	}
	if s.s5xx+s.s429 > 0 {
		a.Description += fmt.Sprintf("; the server answered %d 5xx and %d 429", s.s5xx, s.s429)
	}
	emit(a)
}
