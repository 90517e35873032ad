package net

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/state/codec"
)

// net.beacon: a client contacts one service (address, port, transport) at
// regular intervals — the heartbeat of command-and-control implants. Per
// (client, service) pair the start times of its connections are kept (a
// ring of the last max_connections); the periodicity score is the share
// of inter-arrival times within a jitter tolerance of their median (a
// robust, jitter-tolerant measure: implants add ±10–30% random jitter, and
// a few missed or extra beats do not break it), with the median absolute
// deviation and the consistency of the bytes sent as evidence.

func beaconSpec() detect.Spec {
	return detect.Spec{
		Name: "net.beacon", Key: detect.KeySourceIP,
		Summary:    "a client contacts one service at regular intervals (periodic, jitter-tolerant): command-and-control beaconing",
		Kinds:      flowKinds,
		Actions:    flowActions,
		Techniques: []string{"T1071", "T1573"},
		Params: []detect.Param{
			{Name: "min_connections", Default: "12", Doc: "connections to the service before it is judged: a dozen beats establish a rhythm, fewer are chance"},
			{Name: "max_connections", Default: "64", Doc: "start times kept per (client, service): the recent rhythm"},
			{Name: "min_interval", Default: "10s", Doc: "shortest median interval considered: faster repeats are sessions, polling loops and retries, not beacons"},
			{Name: "max_interval", Default: "6h", Doc: "longest median interval considered"},
			{Name: "jitter", Default: "0.25", Doc: "tolerance around the median interval, as a share of it (implants jitter by 10–30%)"},
			{Name: "min_regularity", Default: "0.8", Doc: "share of intervals within the tolerance: browsing and interactive use score far lower"},
			{Name: "skip_ports", Default: "53,123,67,68,137,138,5353,1900", Doc: "destination ports of services that are periodic by design (DNS, NTP, DHCP, NetBIOS, mDNS, SSDP)"},
			detect.GapParam("2h", "a pair idle this long ends its episode (and is judged)"),
			paramMax("20000"),
			detect.SamplesParam(),
		},
		New: newBeacon,
	}
}

type beaconState struct {
	times   []int64 // start times, ring
	next    int
	n       int64 // connections seen
	bytes   []int64
	first   time.Time
	last    time.Time
	samples []event.Sample
}

type beacon struct {
	minConn, maxConn int
	minIv, maxIv     time.Duration
	jitter, reg      float64
	skip             map[uint16]bool
	gap              time.Duration
	samples          int
	tab              *detect.Table[beaconState]
	door             *detect.Doorkeeper
	key              [37]byte
	emit             detect.Emit
}

var _ detect.Detector = (*beacon)(nil)

func newBeacon(p detect.Params) (detect.Detector, error) {
	e, err := p.Episode()
	if err != nil {
		return nil, err
	}
	d := &beacon{gap: e.Gap, samples: e.Samples, skip: map[uint16]bool{}}
	if d.minConn, err = p.PositiveInt("min_connections"); err != nil {
		return nil, err
	}
	if d.maxConn, err = p.PositiveInt("max_connections"); err != nil {
		return nil, err
	}
	if d.maxConn < d.minConn || d.minConn < 3 {
		return nil, fmt.Errorf("parameters: need 3 ≤ min_connections ≤ max_connections")
	}
	if d.minIv, err = p.PositiveDuration("min_interval"); err != nil {
		return nil, err
	}
	if d.maxIv, err = p.PositiveDuration("max_interval"); err != nil {
		return nil, err
	}
	if d.jitter, err = unitParam(p, "jitter"); err != nil {
		return nil, err
	}
	if d.reg, err = unitParam(p, "min_regularity"); err != nil {
		return nil, err
	}
	for _, s := range p.Strings("skip_ports") {
		var n uint16
		if _, err := fmt.Sscan(s, &n); err != nil {
			return nil, fmt.Errorf("parameter skip_ports: %q is not a port", s)
		}
		d.skip[n] = true
	}
	d.tab = detect.NewTable(e.Max, detect.TableOptions[beaconState]{
		Shed:    func(k string, s *beaconState) { d.end(k, s) },
		Recycle: func(s *beaconState) { *s = beaconState{times: s.times[:0], bytes: s.bytes[:0]} },
	})
	d.door = detect.NewDoorkeeper(20, d.gap)
	return d, nil
}

func (d *beacon) Observe(ev *event.Event, emit detect.Emit) {
	f := ev.Flow
	if f == nil || f.Reversed || f.Partial || !ev.SrcIP.IsValid() || !ev.DstIP.IsValid() || d.skip[ev.DstPort] ||
		ev.DstIP.IsMulticast() || !ev.DstIP.IsGlobalUnicast() && !ev.DstIP.IsPrivate() {
		return
	}
	d.emit = emit
	s16, d16 := ev.SrcIP.As16(), ev.DstIP.As16()
	copy(d.key[:16], s16[:])
	copy(d.key[16:32], d16[:])
	binary.BigEndian.PutUint16(d.key[32:], ev.DstPort)
	d.key[34] = f.Proto
	s := d.tab.GetBytes(d.key[:35])
	if s == nil && d.tab.Len() >= d.tab.Cap()*3/4 && !d.door.Admit(d.key[:35], ev.Time) {
		return
	}
	s, _ = d.tab.UpsertBytes(d.key[:35], ev.Time)
	if s.n > 0 && ev.Time.Sub(s.last) > d.gap {
		d.end(string(d.key[:35]), s)
		*s = beaconState{times: s.times[:0], bytes: s.bytes[:0]}
	}
	if s.n == 0 {
		s.first = ev.Time
	}
	s.last = ev.Time
	t := ev.Time.UnixNano()
	if len(s.times) < d.maxConn {
		s.times = append(s.times, t)
		s.bytes = append(s.bytes, f.OrigBytes)
	} else {
		s.times[s.next], s.bytes[s.next] = t, f.OrigBytes
		s.next = (s.next + 1) % d.maxConn
	}
	s.n++
	if len(s.samples) < d.samples {
		s.samples = append(s.samples, sampleOf(ev))
	}
}

func (d *beacon) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	d.tab.Expire(t, d.gap, func(k string, s *beaconState) { d.end(k, s) })
}

func (d *beacon) Flush(emit detect.Emit) {
	d.emit = emit
	d.tab.Drain(func(k string, s *beaconState) { d.end(k, s) })
}

func (d *beacon) Stats() detect.Stats {
	st := d.tab.Stats()
	st.Deferred = d.door.Deferred()
	return st
}

// Periodicity measures a series of start times: the median interval, the
// median absolute deviation, and the share of intervals within tol·median
// of the median.
func Periodicity(times []int64, tol float64) (median, mad time.Duration, regular float64) {
	ts := slices.Clone(times)
	slices.Sort(ts)
	iv := make([]float64, 0, len(ts))
	for i := 1; i < len(ts); i++ {
		iv = append(iv, float64(ts[i]-ts[i-1]))
	}
	if len(iv) == 0 {
		return 0, 0, 0
	}
	m := medianOf(iv)
	dev := make([]float64, len(iv))
	in := 0
	for i, x := range iv {
		dev[i] = math.Abs(x - m)
		if dev[i] <= tol*m {
			in++
		}
	}
	return time.Duration(m), time.Duration(medianOf(dev)), float64(in) / float64(len(iv))
}

func medianOf(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (d *beacon) end(key string, s *beaconState) {
	if d.emit == nil || len(s.times) < d.minConn {
		return
	}
	med, mad, reg := Periodicity(s.times, d.jitter)
	if med < d.minIv || med > d.maxIv || reg < d.reg {
		return
	}
	k := []byte(key)
	src := netip.AddrFrom16([16]byte(k[:16])).Unmap()
	dst := netip.AddrFrom16([16]byte(k[16:32])).Unmap()
	port := binary.BigEndian.Uint16(k[32:])
	svc := serviceName(uint32(k[34])<<16 | uint32(port))
	bs := make([]float64, len(s.bytes))
	var sum float64
	for i, b := range s.bytes {
		bs[i] = float64(b)
		sum += bs[i]
	}
	mean := sum / float64(len(bs))
	var v float64
	for _, b := range bs {
		v += (b - mean) * (b - mean)
	}
	cv := 0.0
	if mean > 0 {
		cv = math.Sqrt(v/float64(len(bs))) / mean
	}
	d.emit(event.Alert{
		Rule: "net.beacon",
		Description: fmt.Sprintf("beaconing from %s to %s %s: %d connections every %s (median; ±%s MAD, %.0f%% within ±%.0f%%) over %s",
			src, dst, svc, s.n, med.Round(time.Second), mad.Round(time.Second), 100*reg, 100*d.jitter, s.last.Sub(s.first).Round(time.Second)),
		Entity:     event.Entity{Type: event.EntityIP, Value: src.String()},
		Start:      s.first,
		End:        s.last,
		Severity:   event.SeverityMedium,
		Score:      reg,
		Techniques: []string{"T1071", "T1573"},
		SourceIP:   src,
		Related:    []event.Entity{{Type: event.EntityIP, Value: dst.String()}},
		Evidence: map[string]any{"destination": dst.String(), "service": svc, "connections": s.n,
			"median_interval_seconds": round3(med.Seconds()), "mad_seconds": round3(mad.Seconds()), "regularity": round3(reg),
			"jitter_tolerance": d.jitter, "bytes_sent_cv": round3(cv), "bytes_sent_mean": math.Round(mean)},
		Samples: s.samples,
	})
}

var _ detect.Snapshotter = (*beacon)(nil)

// Snapshot writes the pairs' start times (routed by the client, the
// key's first 16 bytes) and the doorkeeper (detect.Snapshotter).
func (d *beacon) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[beaconState](), func(key string, _ *beaconState) string { return key[:16] })
	w.ShardState(d.door)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *beacon) Restore(r *detect.SnapshotReader) error {
	if err := r.RestoreShard(d.door); err != nil {
		return err
	}
	return d.tab.Restore(r, 0, codec.MustFor[beaconState](), nil)
}
