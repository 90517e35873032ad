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

// net.reflection: a destination receives responses it never asked for —
// UDP from amplifier service ports (DNS, NTP, SNMP, SSDP, CLDAP,
// memcached, ISAKMP, ...) or TCP SYN-ACKs without its SYN — from many
// reflectors: someone spoofed its address in requests to those services
// (reflection/amplification DDoS). Per window, the reflected packets are
// compared with an absolute floor and the destination's learned baseline;
// the finding names the services, the reflectors (HyperLogLog), the bytes
// and the amplification factor: measured where the capture holds the
// requests too, else the published factor for the service.

// amplifiers are UDP services abused for reflection, with the bandwidth
// amplification factors published by US-CERT (TA14-017A) and later
// advisories (the upper figure where a range is given).
var amplifiers = map[uint16]struct {
	name   string
	factor float64
}{
	7: {"echo", 1}, 17: {"qotd", 140.3}, 19: {"chargen", 358.8}, 53: {"dns", 54},
	69: {"tftp", 60}, 111: {"portmap", 28}, 123: {"ntp", 556.9}, 137: {"netbios", 3.8},
	161: {"snmp", 6.3}, 389: {"cldap", 70}, 500: {"isakmp", 9}, 520: {"rip", 131.2},
	1434: {"mssql", 25}, 1900: {"ssdp", 30.8}, 3283: {"ard", 35.5}, 3702: {"ws-discovery", 500},
	4500: {"ipsec-nat-t", 9}, 5353: {"mdns", 10}, 5683: {"coap", 34}, 10001: {"ubiquiti", 30},
	11211: {"memcached", 51000}, 27015: {"steam", 5.5}, 37810: {"dvr-dhcpdiscover", 153},
}

func reflectionSpec() detect.Spec {
	return detect.Spec{
		Name: "net.reflection", Key: detect.KeyDestIP,
		Summary:    "a destination receives responses it never requested (UDP from amplifier ports, TCP SYN-ACKs) from many reflectors: reflection/amplification DDoS",
		Kinds:      flowKinds,
		Actions:    flowActions,
		Techniques: []string{"T1498.002"},
		Params: []detect.Param{
			{Name: "window", Default: "10s", Doc: "counting window, as net.flood"},
			{Name: "min_rate", Default: "100", Doc: "unsolicited response packets per second at the least: a host whose capture started late sees a few replies without requests, not a hundred a second"},
			{Name: "min_reflectors", Default: "20", Doc: "distinct reflecting sources in the flood windows: reflection attacks use thousands; a single server answering late is not one"},
			{Name: "sigmas", Default: "6", Doc: "standard deviations above the destination's learned mean of unsolicited responses"},
			{Name: "baseline_alpha", Default: "0.05", Doc: "weight of each new normal window in the learned baseline"},
			detect.GapParam("1m", "reflected windows less than a minute apart are one attack"),
			paramMax("50000"),
			detect.SamplesParam(),
		},
		New: newReflection,
	}
}

// unsolicited reports whether a flow is a response without its request:
// a reply the assembler saw first (Reversed), or UDP from an amplifier
// port, and the destination never answered.
func unsolicited(ev *event.Event) bool {
	f := ev.Flow
	if f.RespPackets > 0 {
		return false
	}
	if f.Reversed && (f.Transport == "tcp" || f.Transport == "udp") {
		return true
	}
	if f.Transport == "udp" {
		_, amp := amplifiers[ev.SrcPort]
		return amp
	}
	return false
}

type reflState struct {
	winStart    int64
	pkts, bytes int64
	base        baseline
	start, last time.Time
	inFlood     bool
	peak, thr   float64
	totalPkts   int64
	totalBytes  int64
	windows     int
	refl        *hyperloglog.Sketch
	services    map[string]int64
	samples     []event.Sample
}

type reflection struct {
	window   time.Duration
	floor    float64
	minRefl  int
	sigmas   float64
	alpha    float64
	gap      time.Duration
	samples  int
	tab      *detect.Table[reflState]
	door     *detect.Doorkeeper
	key      [16]byte
	emit     detect.Emit
	requests map[uint16][2]int64 // per amplifier port: request and response bytes of answered flows (measured factor)
}

var _ detect.Detector = (*reflection)(nil)

func newReflection(p detect.Params) (detect.Detector, error) {
	e, err := p.Episode()
	if err != nil {
		return nil, err
	}
	d := &reflection{gap: e.Gap, samples: e.Samples, requests: map[uint16][2]int64{}}
	if d.window, err = p.PositiveDuration("window"); err != nil {
		return nil, err
	}
	if d.floor, err = positiveFloat(p, "min_rate"); err != nil {
		return nil, err
	}
	if d.minRefl, err = p.PositiveInt("min_reflectors"); err != nil {
		return nil, err
	}
	if d.sigmas, err = positiveFloat(p, "sigmas"); err != nil {
		return nil, err
	}
	if d.alpha, err = unitParam(p, "baseline_alpha"); err != nil {
		return nil, err
	}
	d.tab = detect.NewTable(e.Max, detect.TableOptions[reflState]{Shed: func(k string, s *reflState) { d.end(k, s) }})
	d.door = detect.NewDoorkeeper(20, time.Minute)
	return d, nil
}

func (d *reflection) Observe(ev *event.Event, emit detect.Emit) {
	f := ev.Flow
	if f == nil || !ev.DstIP.IsValid() {
		return
	}
	if f.Transport == "udp" && !f.Reversed && f.RespPackets > 0 && f.OrigBytes > 0 {
		// A request to an amplifier that was answered: measures the
		// service's amplification where the capture holds both sides.
		if _, amp := amplifiers[ev.DstPort]; amp {
			r := d.requests[ev.DstPort]
			d.requests[ev.DstPort] = [2]int64{r[0] + f.OrigBytes, r[1] + f.RespBytes}
		}
	}
	if !unsolicited(ev) {
		return
	}
	d.emit = emit
	d.key = ev.DstIP.As16()
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
	s.pkts += f.OrigPackets
	s.bytes += f.OrigBytes
	if s.refl == nil {
		s.refl = hyperloglog.New14()
		s.services = make(map[string]int64, 4)
	}
	b := ev.SrcIP.As16()
	s.refl.Insert(b[:])
	svc := serviceName(uint32(f.Proto)<<16 | uint32(ev.SrcPort))
	if f.Transport == "tcp" {
		svc = "syn-ack from " + svc
	}
	if _, ok := s.services[svc]; ok || len(s.services) < 16 {
		s.services[svc] += f.OrigPackets
	}
	if len(s.samples) < d.samples {
		s.samples = append(s.samples, sampleOf(ev))
	}
}

func (d *reflection) close(key string, s *reflState, t int64) {
	w := int64(d.window)
	secs := d.window.Seconds()
	x := float64(s.pkts)
	thr := d.floor * secs
	if s.base.n >= 3 {
		thr = math.Max(thr, math.Max(s.base.mean+d.sigmas*math.Sqrt(s.base.var_), 3*s.base.mean))
	}
	end := time.Unix(0, s.winStart+w).UTC()
	if x >= thr && s.refl != nil && s.refl.Estimate() >= uint64(d.minRefl) {
		if s.inFlood && end.Sub(s.last) > d.gap+d.window {
			d.end(key, s)
		}
		if !s.inFlood {
			s.inFlood, s.start = true, time.Unix(0, s.winStart).UTC()
		}
		s.last = end
		s.windows++
		s.peak = math.Max(s.peak, x/secs)
		s.thr = thr / secs
		s.totalPkts += s.pkts
		s.totalBytes += s.bytes
	} else {
		s.base.add(x, d.alpha)
		if s.inFlood && end.Sub(s.last) > d.gap {
			d.end(key, s)
		}
		if !s.inFlood {
			s.refl, s.services, s.samples = nil, nil, nil
		}
	}
	s.pkts, s.bytes = 0, 0
	s.winStart = t - t%w
}

func (d *reflection) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	d.tab.Expire(t, d.gap+d.window, func(k string, s *reflState) {
		d.close(k, s, t.UnixNano())
		d.end(k, s)
	})
}

func (d *reflection) Flush(emit detect.Emit) {
	d.emit = emit
	d.tab.Drain(func(k string, s *reflState) {
		d.close(k, s, s.winStart+int64(d.window))
		d.end(k, s)
	})
}

func (d *reflection) Stats() detect.Stats {
	st := d.tab.Stats()
	st.Deferred = d.door.Deferred()
	return st
}

func (d *reflection) end(key string, s *reflState) {
	defer func() {
		s.inFlood, s.windows, s.peak, s.thr, s.totalPkts, s.totalBytes = false, 0, 0, 0, 0, 0
		s.refl, s.services, s.samples = nil, nil, nil
	}()
	if !s.inFlood || d.emit == nil {
		return
	}
	victim := netip.AddrFrom16([16]byte([]byte(key))).Unmap()
	refl := s.refl.Estimate()
	// The main service and its amplification factor.
	svcs := make([]string, 0, len(s.services))
	for k := range s.services {
		svcs = append(svcs, k)
	}
	sort.Slice(svcs, func(i, j int) bool { return s.services[svcs[i]] > s.services[svcs[j]] })
	ev := map[string]any{
		"window": d.window.String(), "flood_windows": s.windows,
		"peak_packets_per_second": math.Round(s.peak), "threshold_per_second": math.Round(s.thr),
		"unsolicited_packets": s.totalPkts, "unsolicited_bytes": s.totalBytes,
		"distinct_reflectors": refl, "distinct_estimator": "HyperLogLog p=14 (±0.8%)",
		"services": topOf(s.services, 5),
	}
	if s.base.n > 0 {
		ev["baseline_mean_per_second"] = round3(s.base.mean / d.window.Seconds())
	}
	factor := ""
	if len(svcs) > 0 {
		var port uint16
		fmt.Sscanf(svcs[0], "%d/udp", &port)
		if a, ok := amplifiers[port]; ok {
			if r := d.requests[port]; r[0] > 0 {
				ev["amplification_factor_measured"] = round3(float64(r[1]) / float64(r[0]))
				factor = fmt.Sprintf("; %s amplifies ×%.1f in this capture's answered requests", a.name, float64(r[1])/float64(r[0]))
			} else {
				ev["amplification_factor_published"] = a.factor
				factor = fmt.Sprintf("; %s amplifies up to ×%.0f (published)", a.name, a.factor)
			}
		}
	}
	d.emit(event.Alert{
		Rule: "net.reflection",
		Description: fmt.Sprintf("reflection flood at %s: %d unsolicited responses (%s) from ≈%d reflectors, peak %.0f packets/s (threshold %.0f/s), mostly %s%s",
			victim, s.totalPkts, byteSize(s.totalBytes), refl, s.peak, s.thr, strings.Join(svcs[:min(2, len(svcs))], " and "), factor),
		Entity:     event.Entity{Type: event.EntityIP, Value: victim.String()},
		Start:      s.start,
		End:        s.last,
		Severity:   event.SeverityHigh,
		Score:      min1(s.peak / (4 * math.Max(s.thr, 1))),
		Techniques: []string{"T1498.002"},
		Evidence:   ev,
		Samples:    s.samples,
	})
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
