package net

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/sketch"
	"winnow/internal/event"
)

// net.port_scan and net.host_sweep: per source, the distinct services
// (transport and destination port) or the distinct destination hosts that
// its failed probes reached, estimated by a sliding HyperLogLog over a
// fast window (a scan at tool speed) and a slow one (a few probes a minute
// over an hour, below any per-minute threshold). A probe failed when it
// got no handshake (SYN only, rejected by RST, ICMP unreachable, no reply
// at all): a benign client rarely fails, so the detector also requires the
// failed share of the source's attempts in the window. UDP scans show as
// unanswered datagrams and, against closed ports, as ICMP port-unreachable
// replies that the flow assembler attributes to the probe.

func portScanSpec() detect.Spec {
	return scanSpec(scanPorts, "net.port_scan",
		"a source probes many distinct services (ports) without getting a connection: a port scan, fast or slow",
		[]string{"T1046"}, "20", "50",
		"distinct services (transport/port) with failed probes in the fast window; nmap's default scan tries 1,000, and 20 failing services a minute is not what clients do (the smallest real scan in the test captures probes 29)",
		"distinct failed services in the slow window: a scanner pacing itself to a few probes a minute reaches this within the hour, a client with a few broken services does not")
}

func hostSweepSpec() detect.Spec {
	return scanSpec(scanHosts, "net.host_sweep",
		"a source probes many distinct hosts without getting an answer: a ping, ARP, SYN or UDP sweep of a network",
		[]string{"T1018"}, "32", "64",
		"distinct destination hosts with failed probes in the fast window (a /27 of dead addresses); clients and servers that contact many hosts mostly succeed",
		"distinct hosts with failed probes in the slow window: a slow sweep of a /24 over an hour")
}

type scanMode uint8

const (
	scanPorts scanMode = iota
	scanHosts
)

func scanSpec(mode scanMode, name, summary string, tech []string, fastDef, slowDef, fastDoc, slowDoc string) detect.Spec {
	return detect.Spec{
		Name: name, Summary: summary, Key: detect.KeySourceIP,
		Kinds: flowKinds, Actions: flowActions, Techniques: tech,
		Params: []detect.Param{
			{Name: "window", Default: "1m", Doc: "fast window: tools scan hundreds of ports a second, and a minute holds the slower default timings of nmap (-T3)"},
			{Name: "min_distinct", Default: fastDef, Doc: fastDoc},
			{Name: "slow_window", Default: "1h", Doc: "slow window, for scans paced to evade per-minute thresholds"},
			{Name: "slow_min_distinct", Default: slowDef, Doc: slowDoc},
			{Name: "min_failed_share", Default: "0.5", Doc: "share of the source's attempts in the window that must have failed: a scanner's probes mostly fail (closed, filtered or absent), a busy client's mostly succeed"},
			detect.GapParam("10m", "a scan's probes are seconds to minutes apart"),
			paramMax("20000"),
			detect.SamplesParam(),
		},
		New: func(p detect.Params) (detect.Detector, error) { return newScan(mode, name, p) },
	}
}

type scanState struct {
	fast, slow   *sketch.SlidingHLL // distinct failed services/hosts (from the second failure on)
	fastC, slowC windowCounts       // attempts and failures per bucket (from the second failure on)
	firstHash    uint64             // the first failure's item, until the sketches exist
	firstAt      int64
	start, last  time.Time
	fired        bool
	peakFast     float64
	peakSlow     float64
	probes, fail int64
	unreach      int64
	synOnly, rej int64
	other        map[uint32]struct{} // a few distinct services/hosts, for the description
	otherHosts   map[netip.Addr]struct{}
	samples      []event.Sample
}

type scan struct {
	mode             scanMode
	rule             string
	window, slowWin  time.Duration
	minFast, minSlow int
	share            float64
	gap              time.Duration
	samples          int
	tab              *detect.Table[scanState]
	door             *detect.Doorkeeper
	keyBuf           [16]byte
	emit             detect.Emit
}

var _ detect.Detector = (*scan)(nil)

func newScan(mode scanMode, rule string, p detect.Params) (detect.Detector, error) {
	e, err := p.Episode()
	if err != nil {
		return nil, err
	}
	d := &scan{mode: mode, rule: rule, gap: e.Gap, samples: e.Samples}
	if d.window, err = p.PositiveDuration("window"); err != nil {
		return nil, err
	}
	if d.slowWin, err = p.PositiveDuration("slow_window"); err != nil {
		return nil, err
	}
	if d.minFast, err = p.PositiveInt("min_distinct"); err != nil {
		return nil, err
	}
	if d.minSlow, err = p.PositiveInt("slow_min_distinct"); err != nil {
		return nil, err
	}
	if d.share, err = unitParam(p, "min_failed_share"); err != nil {
		return nil, err
	}
	if d.slowWin < d.window {
		return nil, fmt.Errorf("parameter slow_window must not be shorter than window")
	}
	d.tab = detect.NewTable(e.Max, detect.TableOptions[scanState]{
		Shed: func(k string, s *scanState) { d.end(k, s) },
	})
	d.door = detect.NewDoorkeeper(20, d.gap)
	return d, nil
}

// Observe counts one flow of its source.
func (d *scan) Observe(ev *event.Event, emit detect.Emit) {
	f := ev.Flow
	if f == nil || !probe(f) || !ev.SrcIP.IsValid() || !ev.DstIP.IsValid() {
		return
	}
	d.emit = emit
	d.keyBuf = ev.SrcIP.As16()
	fail := failed(f)
	s := d.tab.GetBytes(d.keyBuf[:])
	if s == nil {
		// Only a failed probe opens state; under pressure a source needs
		// a second sighting (a flood of one-off spoofed sources never
		// enters).
		if !fail {
			return
		}
		if d.tab.Len() >= d.tab.Cap()*3/4 && !d.door.Admit(d.keyBuf[:], ev.Time) {
			return
		}
		s, _ = d.tab.UpsertBytes(d.keyBuf[:], ev.Time)
	} else {
		d.tab.UpsertBytes(d.keyBuf[:], ev.Time)
	}
	if !s.start.IsZero() && ev.Time.Sub(s.last) > d.gap {
		d.end(string(d.keyBuf[:]), s)
		d.reset(s)
	}
	if s.start.IsZero() {
		s.start = ev.Time
	}
	if ev.Time.After(s.last) {
		s.last = ev.Time
	}
	t := ev.Time.UnixNano()
	if s.fast != nil {
		s.fastC.add(t, fail)
		s.slowC.add(t, fail)
	}
	s.probes++
	if !fail {
		return
	}
	s.fail++
	if f.Unreachable {
		s.unreach++
	}
	switch f.State {
	case "S0":
		if f.Transport == "tcp" {
			s.synOnly++
		}
	case "REJ":
		s.rej++
	}
	var h uint64
	if d.mode == scanPorts {
		svc := service(ev)
		h = serviceHash(svc)
		if len(s.other) < 12 {
			if s.other == nil {
				s.other = make(map[uint32]struct{}, 12)
			}
			s.other[svc] = struct{}{}
		}
	} else {
		h = addrHash(ev.DstIP.As16())
		if len(s.otherHosts) < 8 {
			if s.otherHosts == nil {
				s.otherHosts = make(map[netip.Addr]struct{}, 8)
			}
			s.otherHosts[ev.DstIP] = struct{}{}
		}
	}
	if len(s.samples) < d.samples {
		s.samples = append(s.samples, sampleOf(ev))
	}
	if s.fast == nil {
		// A source with one failure (every source of a spoofed flood)
		// keeps only that; the sketches come with the second.
		if s.fail == 1 {
			s.firstHash, s.firstAt = h, t
			return
		}
		s.fast = sketch.NewSlidingHLL(6, 6, int64(d.window))
		s.slow = sketch.NewSlidingHLL(6, 12, int64(d.slowWin))
		s.fastC = newWindowCounts(6, d.window)
		s.slowC = newWindowCounts(12, d.slowWin)
		for _, c := range []*windowCounts{&s.fastC, &s.slowC} {
			for i := int64(0); i < s.probes-2; i++ {
				c.add(s.firstAt, false)
			}
			c.add(s.firstAt, true)
			c.add(t, true)
		}
		s.fast.Insert(s.firstHash, s.firstAt)
		s.slow.Insert(s.firstHash, s.firstAt)
	}
	s.fast.Insert(h, t)
	s.slow.Insert(h, t)
	// Estimate only when the window's failed count could reach a
	// threshold (distinct ≤ failed probes).
	fp, ff := s.fastC.sum(t)
	if ff >= int64(d.minFast) && float64(ff) >= d.share*float64(fp) {
		if e := s.fast.Estimate(t); e >= float64(d.minFast) {
			s.fired = true
			s.peakFast = max(s.peakFast, e)
		}
	}
	sp, sf := s.slowC.sum(t)
	if sf >= int64(d.minSlow) && float64(sf) >= d.share*float64(sp) {
		if e := s.slow.Estimate(t); e >= float64(d.minSlow) {
			s.fired = true
			s.peakSlow = max(s.peakSlow, e)
		}
	}
}

func (d *scan) reset(s *scanState) { *s = scanState{} }

// Advance closes the episodes of sources idle for longer than the gap.
func (d *scan) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	d.tab.Expire(t, d.gap, func(k string, s *scanState) { d.end(k, s) })
}

// Flush reports every open episode.
func (d *scan) Flush(emit detect.Emit) {
	d.emit = emit
	d.tab.Drain(func(k string, s *scanState) { d.end(k, s) })
}

// Stats reports the table's counters.
func (d *scan) Stats() detect.Stats {
	st := d.tab.Stats()
	st.Deferred = d.door.Deferred()
	return st
}

func (d *scan) end(key string, s *scanState) {
	if !s.fired || d.emit == nil {
		return
	}
	src := netip.AddrFrom16([16]byte([]byte(key))).Unmap()
	what, list := "services", ""
	if d.mode == scanPorts {
		names := make([]string, 0, len(s.other))
		keys := make([]uint32, 0, len(s.other))
		for k := range s.other {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		for _, k := range keys {
			names = append(names, serviceName(k))
		}
		list = strings.Join(names, ", ")
	} else {
		what = "hosts"
		addrs := make([]netip.Addr, 0, len(s.otherHosts))
		for a := range s.otherHosts {
			addrs = append(addrs, a)
		}
		sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
		names := make([]string, len(addrs))
		for i, a := range addrs {
			names[i] = a.String()
		}
		list = strings.Join(names, ", ")
	}
	pace, peak, win, min := "fast", s.peakFast, d.window, d.minFast
	if s.peakFast == 0 {
		pace, peak, win, min = "slow", s.peakSlow, d.slowWin, d.minSlow
	}
	share := float64(s.fail) / float64(max(s.probes, 1))
	kind := "port scan"
	if d.mode == scanHosts {
		kind = "host sweep"
	}
	a := event.Alert{
		Rule: d.rule,
		Description: fmt.Sprintf("%s from %s: ≈%.0f distinct %s probed without success within %s (threshold %d, %s), %.0f%% of %d attempts failed; e.g. %s",
			kind, src, peak, what, win, min, pace, 100*share, s.probes, list),
		Entity:     event.Entity{Type: event.EntityIP, Value: src.String()},
		Start:      s.start,
		End:        s.last,
		Severity:   event.SeverityMedium,
		Score:      min1(peak / float64(4*min)),
		Techniques: d.techniques(),
		SourceIP:   src,
		Evidence: map[string]any{
			"distinct_" + what: int64(peak + 0.5),
			"window":           win.String(),
			"pace":             pace,
			"threshold":        min,
			"attempts":         s.probes,
			"failed":           s.fail,
			"failed_share":     round3(share),
			"syn_only":         s.synOnly,
			"rejected":         s.rej,
			"icmp_unreachable": s.unreach,
			"estimator":        "sliding HyperLogLog, 64 registers (linear counting below 160)",
			"fast_window_peak": int64(s.peakFast + 0.5),
			"slow_window_peak": int64(s.peakSlow + 0.5),
		},
		Samples: s.samples,
	}
	if peak >= float64(10*min) {
		a.Severity = event.SeverityHigh
	}
	d.emit(a)
}

func (d *scan) techniques() []string {
	if d.mode == scanPorts {
		return []string{"T1046"}
	}
	return []string{"T1018"}
}

func min1(x float64) float64 {
	if x > 1 {
		return 1
	}
	return x
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }
