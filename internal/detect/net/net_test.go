package net

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func flowEv(at time.Duration, src, dst string, sp, dp uint16, transport, state string, op, rp int64) event.Event {
	proto := map[string]uint8{"tcp": 6, "udp": 17, "icmp": 1}[transport]
	f := &event.Flow{Transport: transport, Proto: proto, State: state, OrigPackets: op, RespPackets: rp,
		OrigBytes: 60 * op, RespBytes: 60 * rp, End: t0.Add(at)}
	if transport == "tcp" {
		f.OrigFlags = event.FlagSYN
		if rp > 0 {
			f.RespFlags = event.FlagSYN | event.FlagACK
		}
	}
	if transport == "icmp" {
		f.ICMPType = 8
	}
	return event.Event{Time: t0.Add(at), Kind: event.KindFlow, Action: event.ActFlow,
		SrcIP: netip.MustParseAddr(src), SrcPort: sp, DstIP: netip.MustParseAddr(dst), DstPort: dp, Flow: f, Count: 1}
}

func spec(name string) detect.Spec {
	for _, s := range Specs() {
		if s.Name == name {
			return s
		}
	}
	panic(name)
}

// A busy server's normal half-open rate (300/s, from clients that give
// up) is learned; twice that is normal noise, a spoofed burst of 20×
// is a flood. A quiet server's first burst above the floor is a flood
// at once.
func TestFloodBaseline(t *testing.T) {
	var evs []event.Event
	add := func(from, to time.Duration, rate int, dst string) {
		for at := from; at < to; at += time.Second / time.Duration(rate) {
			i := len(evs)
			src := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
			evs = append(evs, flowEv(at, src, dst, uint16(1024+i%60000), 443, "tcp", "S0", 1, 0))
		}
	}
	add(0, 10*time.Minute, 80, "192.0.2.1")               // a busy server's background of abandoned handshakes
	add(10*time.Minute, 12*time.Minute, 160, "192.0.2.1") // a busier spell: 2×, above the floor of 100/s
	// The same server under a 2,000/s spoofed flood.
	add(12*time.Minute, 13*time.Minute, 2000, "192.0.2.1")
	// A quiet host's first burst: 500/s for 20 s.
	add(13*time.Minute, 13*time.Minute+20*time.Second, 500, "192.0.2.9")
	as := runEvents(t, evs, spec("net.flood"))
	got := flagged(as)
	if !equal(got["net.flood"], []string{"192.0.2.1", "192.0.2.9"}) {
		t.Fatalf("flagged %v", got)
	}
	for _, a := range as {
		if a.Entity.Value == "192.0.2.1" && a.Start.Before(t0.Add(12*time.Minute)) {
			t.Errorf("the 2× spell was called a flood: %s", a.Description)
		}
	}
}

func TestHeavyHitterBound(t *testing.T) {
	var evs []event.Event
	for i := 0; i < 2000; i++ {
		// One address sends 40,000 packets a minute, a thousand others a few.
		evs = append(evs, flowEv(time.Duration(i)*20*time.Millisecond, "203.0.113.5", "192.0.2.1", 5000, 80, "udp", "S0", 40, 0))
		evs = append(evs, flowEv(time.Duration(i)*20*time.Millisecond, fmt.Sprintf("10.0.%d.%d", i/250, i%250), "192.0.2.2", 5000, 80, "udp", "S0", 2, 0))
	}
	as := runEvents(t, evs, spec("net.heavy_hitter"))
	if len(as) == 0 {
		t.Fatal("no heavy hitter")
	}
	for _, a := range as {
		if a.Entity.Value != "203.0.113.5" && a.Entity.Value != "192.0.2.1" {
			t.Errorf("unexpected heavy hitter %s: %s", a.Entity.Value, a.Description)
		}
		if _, ok := a.Evidence["error_bound_eps_n"]; !ok {
			t.Errorf("no error bound: %v", a.Evidence)
		}
	}
}

// A spoofed SYN flood from distinct sources through every network
// detector: memory stays bounded (the tables' caps and the doorkeeper),
// what was not tracked is counted, and the flood is still reported.
func TestSpoofedFloodBoundedMemory(t *testing.T) {
	const n = 300_000
	dets := map[string]detect.Detector{}
	var found []event.Alert
	emit := func(a event.Alert) { found = append(found, a) }
	for _, s := range Specs() {
		p, _ := detect.NewParams(&s, map[string]string{"max_entities": "10000"})
		if s.Name == "net.heavy_hitter" {
			p, _ = detect.NewParams(&s, nil)
		}
		d, err := s.New(p)
		if err != nil {
			t.Fatal(err)
		}
		dets[s.Name] = d
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ev := flowEv(0, "10.0.0.1", "192.0.2.1", 1, 80, "tcp", "S0", 1, 0)
	f := *ev.Flow
	for i := 0; i < n; i++ {
		ev.Time = t0.Add(time.Duration(i) * 50 * time.Microsecond) // 20,000/s
		ev.SrcIP = netip.AddrFrom4([4]byte{byte(1 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
		ev.SrcPort = uint16(i)
		fc := f
		ev.Flow = &fc
		for _, d := range dets {
			d.Observe(&ev, emit)
		}
		if i%100000 == 0 {
			for _, d := range dets {
				d.Advance(ev.Time.Add(-time.Minute), emit)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	var shed, deferred int64
	for _, d := range dets {
		st := d.Stats()
		shed += st.Shed
		deferred += st.Deferred
		if st.Entities > 10000 {
			t.Errorf("%d entities tracked, cap 10000", st.Entities)
		}
	}
	for _, d := range dets {
		d.Flush(emit)
	}
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d spoofed sources: heap grew %d KiB, shed %d, deferred %d, %d findings", n, grown>>10, shed, deferred, len(found))
	if grown > 40<<20 {
		t.Errorf("heap grew %d MiB for %d sources", grown>>20, n)
	}
	if got := flagged(found)["net.flood"]; !equal(got, []string{"192.0.2.1"}) {
		t.Errorf("flood findings %v", got)
	}
}

// BenchmarkSpoofedFlood10M sends ten million SYNs from ten million
// distinct spoofed sources to one victim through every network detector
// (caps at their defaults) and reports the live heap afterwards and what
// was shed or never tracked: memory stays bounded whatever the number of
// sources. Run with -benchtime 1x (one pass of 10M flows).
func BenchmarkSpoofedFlood10M(b *testing.B) {
	const n = 10_000_000
	for range b.N {
		var dets []detect.Detector
		for _, s := range Specs() {
			p, _ := detect.NewParams(&s, nil)
			d, err := s.New(p)
			if err != nil {
				b.Fatal(err)
			}
			dets = append(dets, d)
		}
		var found int
		emit := func(event.Alert) { found++ }
		ev := flowEv(0, "10.0.0.1", "192.0.2.1", 1, 80, "tcp", "S0", 1, 0)
		var peak uint64
		var ms runtime.MemStats
		for i := 0; i < n; i++ {
			ev.Time = t0.Add(time.Duration(i) * 10 * time.Microsecond) // 100,000 SYN/s
			ev.SrcIP = netip.AddrFrom4([4]byte{byte(1 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
			ev.SrcPort = uint16(i)
			for _, d := range dets {
				d.Observe(&ev, emit)
			}
			if i%1_000_000 == 999_999 {
				for _, d := range dets {
					d.Advance(ev.Time.Add(-time.Minute), emit)
				}
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
		var shed, deferred int64
		for _, d := range dets {
			st := d.Stats()
			shed += st.Shed
			deferred += st.Deferred
		}
		for _, d := range dets {
			d.Flush(emit)
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(shed), "shed")
		b.ReportMetric(float64(deferred), "not-tracked")
		b.ReportMetric(float64(found), "findings")
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "flows/s")
	}
}
