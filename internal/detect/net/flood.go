package net

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/axiomhq/hyperloglog"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// net.flood (per destination) and net.flood_source (per source): SYN,
// UDP and ICMP floods. Each entity's traffic is counted per class in
// tumbling windows; a window is a flood when its count reaches the
// larger of an absolute floor and the entity's learned baseline (mean +
// k standard deviations of its earlier non-flood windows, exponentially
// weighted), so a busy server's normal load does not fire and a quiet
// host's first burst does. SYN floods count TCP attempts that got no
// handshake (half-open), so a server's normal connection rate is not
// counted at all. Distinct sources are counted by HyperLogLog
// (axiomhq/hyperloglog): thousands of sources say spoofed or distributed.

type floodClass uint8

const (
	classSYN floodClass = iota
	classUDP
	classICMP
	classCount
)

var classNames = [classCount]string{"SYN", "UDP", "ICMP"}

func floodParams(perDest bool) []detect.Param {
	who := "destination"
	if !perDest {
		who = "source"
	}
	return []detect.Param{
		{Name: "window", Default: "10s", Doc: "counting window: long enough to smooth bursts of a normal " + who + ", short enough that a flood is seen within seconds"},
		{Name: "min_syn_rate", Default: "100", Doc: "half-open TCP attempts per second that are a flood whatever the baseline: SYN cookies make 100/s harmless, but no legitimate client population leaves that many handshakes unanswered"},
		{Name: "min_udp_rate", Default: "2000", Doc: "UDP packets per second at the least: above a busy DNS or media server's unanswered load"},
		{Name: "min_icmp_rate", Default: "200", Doc: "ICMP echo requests per second at the least: pings come a few a second"},
		{Name: "min_factor", Default: "3", Doc: "a flood window is at least this many times the learned mean: a steady baseline has little variance, and twice the usual load is a busy day"},
		{Name: "sigmas", Default: "6", Doc: "standard deviations above the " + who + "'s learned mean (Chebyshev: under 3% of normal windows exceed 6σ whatever the distribution)"},
		{Name: "baseline_alpha", Default: "0.05", Doc: "weight of each new non-flood window in the learned mean and variance (about the last 20 windows count)"},
		detect.GapParam("1m", "flood windows less than a minute apart are one attack"),
		paramMax("50000"),
		detect.SamplesParam(),
	}
}

func floodSpec() detect.Spec {
	return detect.Spec{
		Name: "net.flood", Key: detect.KeyDestIP,
		Summary:    "a destination receives a SYN, UDP or ICMP flood: far above both an absolute floor and its own learned baseline",
		Kinds:      flowKinds,
		Actions:    flowActions,
		Techniques: []string{"T1498.001"},
		Params:     floodParams(true),
		New:        func(p detect.Params) (detect.Detector, error) { return newFlood(p, true) },
	}
}

func floodSourceSpec() detect.Spec {
	return detect.Spec{
		Name: "net.flood_source", Key: detect.KeySourceIP,
		Summary:    "a source sends a SYN, UDP or ICMP flood (a non-spoofed attacker, or an infected host taking part in a DDoS)",
		Kinds:      flowKinds,
		Actions:    flowActions,
		Techniques: []string{"T1498.001"},
		Params:     floodParams(false),
		New:        func(p detect.Params) (detect.Detector, error) { return newFlood(p, false) },
	}
}

// classify says which flood class a flow counts in and how much.
func classify(f *event.Flow) (floodClass, int64, bool) {
	if f.Reversed {
		return 0, 0, false
	}
	switch f.Transport {
	case "tcp":
		if f.OrigFlags&event.FlagSYN != 0 && failed(f) {
			return classSYN, 1, true
		}
	case "udp":
		return classUDP, f.OrigPackets, true
	case "icmp", "icmp6":
		if f.ICMPType == 8 || f.ICMPType == 128 {
			return classICMP, f.OrigPackets, true
		}
	}
	return 0, 0, false
}

type baseline struct {
	n          int64
	mean, var_ float64
}

func (b *baseline) add(x, alpha float64) {
	if b.n == 0 {
		b.mean, b.var_ = x, 0
	} else {
		d := x - b.mean
		b.mean += alpha * d
		b.var_ = (1 - alpha) * (b.var_ + alpha*d*d)
	}
	b.n++
}

type floodState struct {
	winStart int64 // current window start (unix ns)
	counts   [classCount]int64
	bytes    int64
	base     [classCount]baseline
	// episode
	start, last time.Time
	inFlood     bool
	peak        [classCount]float64 // peak rate per second
	thr         [classCount]float64
	total       [classCount]int64
	windows     int
	srcs        *hyperloglog.Sketch
	peers       map[string]int64 // a few peers with their counts (top shown)
	ports       map[uint16]int64
	samples     []event.Sample
}

type flood struct {
	perDest bool
	rule    string
	window  time.Duration
	floors  [classCount]float64
	sigmas  float64
	factor  float64
	alpha   float64
	gap     time.Duration
	samples int
	tab     *detect.Table[floodState]
	door    *detect.Doorkeeper
	key     [16]byte
	emit    detect.Emit
}

var _ detect.Detector = (*flood)(nil)

func newFlood(p detect.Params, perDest bool) (detect.Detector, error) {
	e, err := p.Episode()
	if err != nil {
		return nil, err
	}
	d := &flood{perDest: perDest, rule: "net.flood", gap: e.Gap, samples: e.Samples}
	if !perDest {
		d.rule = "net.flood_source"
	}
	if d.window, err = p.PositiveDuration("window"); err != nil {
		return nil, err
	}
	for i, n := range []string{"min_syn_rate", "min_udp_rate", "min_icmp_rate"} {
		if d.floors[i], err = positiveFloat(p, n); err != nil {
			return nil, err
		}
	}
	if d.sigmas, err = positiveFloat(p, "sigmas"); err != nil {
		return nil, err
	}
	if d.factor, err = positiveFloat(p, "min_factor"); err != nil {
		return nil, err
	}
	if d.alpha, err = unitParam(p, "baseline_alpha"); err != nil {
		return nil, err
	}
	d.tab = detect.NewTable(e.Max, detect.TableOptions[floodState]{Shed: func(k string, s *floodState) { d.end(k, s) }})
	d.door = detect.NewDoorkeeper(20, time.Minute)
	return d, nil
}

func (d *flood) Observe(ev *event.Event, emit detect.Emit) {
	f := ev.Flow
	if f == nil {
		return
	}
	c, n, ok := classify(f)
	if !ok {
		return
	}
	d.emit = emit
	entity, peer := ev.DstIP, ev.SrcIP
	if !d.perDest {
		entity, peer = ev.SrcIP, ev.DstIP
	}
	if !entity.IsValid() {
		return
	}
	d.key = entity.As16()
	s := d.tab.GetBytes(d.key[:])
	if s == nil && d.tab.Len() >= d.tab.Cap()*3/4 && !d.door.Admit(d.key[:], ev.Time) {
		return
	}
	s, _ = d.tab.UpsertBytes(d.key[:], ev.Time)
	t := ev.Time.UnixNano()
	w := int64(d.window)
	if s.winStart == 0 {
		s.winStart = t - t%w
	}
	if t >= s.winStart+w {
		d.close(string(d.key[:]), s, t)
	}
	s.counts[c] += n
	s.bytes += f.OrigBytes
	if s.inFlood || s.counts[c] >= int64(d.floors[c]*d.window.Seconds()/4) {
		// Only a window that may become a flood records its sources.
		d.note(s, ev, peer)
	}
}

// note records a suspicious window's sources, peers and samples.
func (d *flood) note(s *floodState, ev *event.Event, peer netip.Addr) {
	if s.srcs == nil {
		s.srcs = hyperloglog.New14()
		s.peers = make(map[string]int64, 8)
		s.ports = make(map[uint16]int64, 8)
	}
	b := peer.As16()
	s.srcs.Insert(b[:])
	ps := peer.String()
	if _, ok := s.peers[ps]; ok || len(s.peers) < 64 {
		s.peers[ps]++
	}
	port := ev.DstPort
	if _, ok := s.ports[port]; ok || len(s.ports) < 32 {
		s.ports[port]++
	}
	if len(s.samples) < d.samples {
		s.samples = append(s.samples, sampleOf(ev))
	}
}

// close ends the current window at time t (the first event past it):
// decide flood or not, learn from a normal window, move on.
func (d *flood) close(key string, s *floodState, t int64) {
	w := int64(d.window)
	secs := d.window.Seconds()
	flooded := false
	focused := d.focused(s)
	for c := range classCount {
		x := float64(s.counts[c])
		b := &s.base[c]
		thr := d.floors[c] * secs
		if b.n >= 3 {
			thr = math.Max(thr, math.Max(b.mean+d.sigmas*math.Sqrt(b.var_), d.factor*b.mean))
		}
		switch {
		case x >= thr && focused:
			flooded = true
			s.peak[c] = math.Max(s.peak[c], x/secs)
			s.thr[c] = thr / secs
			s.total[c] += s.counts[c]
		case x < thr:
			b.add(x, d.alpha)
		}
	}
	end := time.Unix(0, s.winStart+w).UTC()
	if flooded {
		if s.inFlood && end.Sub(s.last) > d.gap+d.window {
			d.end(key, s)
		}
		if !s.inFlood {
			s.inFlood = true
			s.start = time.Unix(0, s.winStart).UTC()
		}
		s.last = end
		s.windows++
	} else if s.inFlood && end.Sub(s.last) > d.gap {
		d.end(key, s)
	}
	if !s.inFlood {
		s.srcs, s.peers, s.ports, s.samples = nil, nil, nil, nil
	}
	s.counts = [classCount]int64{}
	s.bytes = 0
	s.winStart = t - t%w
}

// focused reports whether the suspicious traffic aims at one service (and,
// per source, one victim): a flood hammers a port, a scan spreads over
// many ports or hosts and is the scan detectors' business.
func (d *flood) focused(s *floodState) bool {
	if len(s.ports) == 0 {
		return false
	}
	var top, sum int64
	for _, n := range s.ports {
		top, sum = max(top, n), sum+n
	}
	if 2*top < sum {
		return false
	}
	if d.perDest {
		return true
	}
	top, sum = 0, 0
	for _, n := range s.peers {
		top, sum = max(top, n), sum+n
	}
	return 2*top >= sum
}

func (d *flood) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	d.tab.Expire(t, d.gap+d.window, func(k string, s *floodState) {
		d.close(k, s, t.UnixNano())
		d.end(k, s)
	})
}

func (d *flood) Flush(emit detect.Emit) {
	d.emit = emit
	d.tab.Drain(func(k string, s *floodState) {
		d.close(k, s, s.winStart+int64(d.window))
		d.end(k, s)
	})
}

func (d *flood) Stats() detect.Stats {
	st := d.tab.Stats()
	st.Deferred = d.door.Deferred()
	return st
}

func (d *flood) end(key string, s *floodState) {
	defer func() {
		s.inFlood, s.windows = false, 0
		s.peak, s.thr, s.total = [classCount]float64{}, [classCount]float64{}, [classCount]int64{}
		s.srcs, s.peers, s.ports, s.samples = nil, nil, nil, nil
	}()
	if !s.inFlood || d.emit == nil {
		return
	}
	ent := netip.AddrFrom16([16]byte([]byte(key))).Unmap()
	var kinds []string
	ev := map[string]any{"window": d.window.String(), "flood_windows": s.windows}
	for c := range classCount {
		if s.peak[c] == 0 {
			continue
		}
		kinds = append(kinds, classNames[c])
		n := strings.ToLower(classNames[c])
		ev[n+"_peak_per_second"] = math.Round(s.peak[c])
		ev[n+"_threshold_per_second"] = math.Round(s.thr[c])
		ev[n+"_total"] = s.total[c]
		if b := s.base[c]; b.n > 0 {
			ev[n+"_baseline_mean_per_second"] = round3(b.mean / d.window.Seconds())
		}
	}
	var distinct uint64
	if s.srcs != nil {
		distinct = s.srcs.Estimate()
	}
	who, peersName := "to", "sources"
	if !d.perDest {
		who, peersName = "from", "destinations"
	}
	ev["distinct_"+peersName] = distinct
	ev["distinct_estimator"] = "HyperLogLog p=14 (±0.8%)"
	top := topOf(s.peers, 5)
	ev["top_"+peersName] = top
	ports := make([]string, 0, len(s.ports))
	for p, n := range s.ports {
		if n*20 >= int64(sumOf(s.ports)) {
			ports = append(ports, fmt.Sprint(p))
		}
	}
	sort.Strings(ports)
	ev["destination_ports"] = strings.Join(ports, ",")
	c := floodClass(0)
	for i := range classCount {
		if s.peak[i] > 0 && s.peak[i]/math.Max(s.thr[i], 1) > s.peak[c]/math.Max(s.thr[c], 1) {
			c = i
		}
	}
	a := event.Alert{
		Rule: d.rule,
		Description: fmt.Sprintf("%s flood %s %s: peak %.0f/s (threshold %.0f/s: floor %.0f/s or the learned baseline), %d flood windows of %s, ≈%d distinct %s",
			strings.Join(kinds, "+"), who, ent, s.peak[c], s.thr[c], d.floors[c], s.windows, d.window, distinct, peersName),
		Entity:     event.Entity{Type: event.EntityIP, Value: ent.String()},
		Start:      s.start,
		End:        s.last,
		Severity:   event.SeverityHigh,
		Score:      min1(s.peak[c] / (4 * math.Max(s.thr[c], 1))),
		Techniques: []string{"T1498.001"},
		Evidence:   ev,
		Samples:    s.samples,
	}
	if !d.perDest {
		a.SourceIP = ent
	}
	d.emit(a)
}

func sumOf(m map[uint16]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// topOf renders the n largest entries of m as "key (count)".
func topOf(m map[string]int64, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%s (%d)", k, m[k])
	}
	return strings.Join(out, ", ")
}
