package net

import (
	"fmt"
	"net/netip"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/sketch"
	"winnow/internal/event"
)

// net.heavy_hitter: per sensor and per window, the sources and
// destinations that carry a large share of the bytes or packets (the
// volume per IP that DDoS and exfiltration show), found without a
// per-address table: a count-min sketch (conservative update) counts every
// address in fixed memory and a top-k list keeps the candidates. The
// finding states the sketch's error bound: the true count is at most the
// estimate and, with probability 1−δ, at least the estimate minus ε·N.
// Keyed by the sensor, so one shard sees a sensor's whole stream and the
// shares are of its total.

func heavyHitterSpec() detect.Spec {
	return detect.Spec{
		Name: "net.heavy_hitter", Key: detect.KeySensor,
		Summary:    "an address carries a large share of a sensor's bytes or packets in a window (count-min sketch + top-k, error bound stated)",
		Kinds:      flowKinds,
		Actions:    flowActions,
		Techniques: []string{"T1498", "T1048"},
		Params: []detect.Param{
			{Name: "window", Default: "1m", Doc: "tumbling window the shares are computed over"},
			{Name: "min_share", Default: "0.3", Doc: "share of the window's total an address must carry (φ): a third of a link's traffic is one address's business only in an attack or a bulk transfer"},
			{Name: "min_packets", Default: "30000", Doc: "packets in the window at the least (500/s): below it nothing is heavy, whatever its share"},
			{Name: "min_bytes", Default: "500000000", Doc: "bytes in the window at the least (≈67 Mbit/s)"},
			{Name: "epsilon", Default: "0.001", Doc: "count-min error ε relative to the window's total: width ⌈e/ε⌉ = 2,719 counters per row"},
			{Name: "delta", Default: "0.01", Doc: "count-min failure probability δ: depth ⌈ln 1/δ⌉ = 5 rows (4 sketches of 109 KB per sensor)"},
			{Name: "top_k", Default: "10", Doc: "candidates kept per metric"},
		},
		New: newHeavy,
	}
}

type hhMetric struct {
	name  string // "source bytes", ...
	cm    *sketch.CountMin
	top   *sketch.TopK
	first map[uint64]time.Time
}

type heavy struct {
	window           time.Duration
	share            float64
	minPkts, minByte uint64
	eps, delta       float64
	sensors          map[string]*hhSensor
	emit             detect.Emit
	k                int
}

type hhSensor struct {
	name     string
	winStart int64
	m        [4]*hhMetric // src bytes, src packets, dst bytes, dst packets
	samples  map[uint64]event.Sample
}

var _ detect.Detector = (*heavy)(nil)

func newHeavy(p detect.Params) (detect.Detector, error) {
	d := &heavy{sensors: map[string]*hhSensor{}}
	var err error
	if d.window, err = p.PositiveDuration("window"); err != nil {
		return nil, err
	}
	if d.share, err = unitParam(p, "min_share"); err != nil {
		return nil, err
	}
	n, err := p.PositiveInt("min_packets")
	if err != nil {
		return nil, err
	}
	d.minPkts = uint64(n)
	b, err := positiveFloat(p, "min_bytes")
	if err != nil {
		return nil, err
	}
	d.minByte = uint64(b)
	if d.eps, err = unitParam(p, "epsilon"); err != nil || d.eps == 0 || d.eps == 1 {
		return nil, fmt.Errorf("parameter epsilon must be in (0, 1)")
	}
	if d.delta, err = unitParam(p, "delta"); err != nil || d.delta == 0 || d.delta == 1 {
		return nil, fmt.Errorf("parameter delta must be in (0, 1)")
	}
	if d.k, err = p.PositiveInt("top_k"); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *heavy) sensor(name string) *hhSensor {
	s := d.sensors[name]
	if s == nil {
		if len(d.sensors) >= 64 { // sensors are configured, not attacker-made; still bounded
			return nil
		}
		s = &hhSensor{name: name, samples: map[uint64]event.Sample{}}
		for i, n := range []string{"source bytes", "source packets", "destination bytes", "destination packets"} {
			s.m[i] = &hhMetric{name: n, cm: sketch.NewCountMin(d.eps, d.delta), top: sketch.NewTopK(d.k), first: map[uint64]time.Time{}}
		}
		d.sensors[name] = s
	}
	return s
}

func (d *heavy) Observe(ev *event.Event, emit detect.Emit) {
	f := ev.Flow
	if f == nil {
		return
	}
	d.emit = emit
	s := d.sensor(detect.SensorName(ev))
	if s == nil {
		return
	}
	t := ev.Time.UnixNano()
	w := int64(d.window)
	if s.winStart == 0 {
		s.winStart = t - t%w
	}
	if t >= s.winStart+w {
		d.close(s)
		s.winStart = t - t%w
	}
	// Each direction's volume is its sender's (source) and its receiver's
	// (destination).
	d.add(s, ev, ev.SrcIP, ev.DstIP, uint64(f.OrigBytes), uint64(f.OrigPackets))
	d.add(s, ev, ev.DstIP, ev.SrcIP, uint64(f.RespBytes), uint64(f.RespPackets))
}

func (d *heavy) add(s *hhSensor, ev *event.Event, from, to netip.Addr, bytes, pkts uint64) {
	if pkts == 0 || !from.IsValid() || !to.IsValid() {
		return
	}
	for i, a := range [2]netip.Addr{from, to} {
		b := a.As16()
		h := addrHash(b)
		for j, n := range [2]uint64{bytes, pkts} {
			m := s.m[2*i+j]
			est := m.cm.Add(h, n)
			if est > m.top.Min() {
				m.top.Offer(h, est, func() string { return a.String() })
				if _, ok := m.first[h]; !ok && len(m.first) < 4*d.k {
					m.first[h] = ev.Time
				}
				if _, ok := s.samples[h]; !ok && len(s.samples) < 16*d.k {
					s.samples[h] = sampleOf(ev)
				}
			}
		}
	}
}

// close reports the window's heavy hitters and starts a new window.
func (d *heavy) close(s *hhSensor) {
	start := time.Unix(0, s.winStart).UTC()
	end := start.Add(d.window)
	for i, m := range s.m {
		total := m.cm.Total()
		floor := d.minByte
		if i%2 == 1 {
			floor = d.minPkts
		}
		eps, delta := m.cm.Bound()
		for _, it := range m.top.Items() {
			if it.Count < floor || float64(it.Count) < d.share*float64(total) {
				continue
			}
			addr := it.Key
			lo := float64(it.Count) - eps
			if lo < 0 {
				lo = 0
			}
			unit := "bytes"
			if i%2 == 1 {
				unit = "packets"
			}
			a := event.Alert{
				Rule: "net.heavy_hitter",
				Description: fmt.Sprintf("heavy hitter on sensor %s: %s carried ≈%d %s as %s in %s, %.0f%% of the total %d (count-min estimate: true count in [%.0f, %d] with probability %.0f%%)",
					s.name, addr, it.Count, unit, m.name[:len(m.name)-len(unit)-1], d.window, 100*float64(it.Count)/float64(max(total, 1)), total, lo, it.Count, 100*(1-delta)),
				Entity:     event.Entity{Type: event.EntityIP, Value: addr},
				Start:      start,
				End:        end,
				Severity:   event.SeverityLow,
				Score:      min1(float64(it.Count) / float64(max(total, 1))),
				Techniques: []string{"T1498"},
				Evidence: map[string]any{
					"metric": m.name, "estimate": it.Count, "window_total": total,
					"share": round3(float64(it.Count) / float64(max(total, 1))), "min_share": d.share,
					"error_bound_eps_n": round3(eps), "error_probability_delta": delta,
					"sensor": s.name, "window": d.window.String(),
				},
			}
			if ip, err := netip.ParseAddr(addr); err == nil {
				if i < 2 {
					a.SourceIP = ip
				}
			}
			if smp, ok := s.samples[it.Hash]; ok {
				a.Samples = []event.Sample{smp}
			}
			if d.emit != nil {
				d.emit(a)
			}
		}
		m.cm.Reset()
		m.top.Reset()
		clear(m.first)
	}
	clear(s.samples)
}

func (d *heavy) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	for _, s := range d.sensors {
		if s.winStart != 0 && t.UnixNano() >= s.winStart+int64(d.window) {
			d.close(s)
			s.winStart = 0
		}
	}
}

func (d *heavy) Flush(emit detect.Emit) {
	d.emit = emit
	for _, s := range d.sensors {
		if s.winStart != 0 {
			d.close(s)
			s.winStart = 0
		}
	}
}

func (d *heavy) Stats() detect.Stats { return detect.Stats{Entities: len(d.sensors)} }
