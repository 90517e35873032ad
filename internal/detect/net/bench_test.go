package net

import (
	"fmt"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// BenchmarkDetectors measures flow events through every network detector
// on one core (one instance each, as one shard runs them): mixed traffic
// of 2,000 clients to 200 servers, mostly completed, some failing.
func BenchmarkDetectors(b *testing.B) {
	const n = 100000
	evs := make([]event.Event, n)
	for i := range evs {
		state, rp := "SF", int64(5)
		if i%17 == 0 {
			state, rp = "S0", 0
		}
		tr := "tcp"
		if i%5 == 0 {
			tr = "udp"
		}
		evs[i] = flowEv(time.Duration(i)*time.Millisecond, fmt.Sprintf("10.0.%d.%d", i%2000/250, i%250), fmt.Sprintf("192.0.2.%d", i%200), uint16(1024+i%50000), uint16(80+i%7), tr, state, 6, rp)
	}
	var dets []detect.Detector
	for _, s := range Specs() {
		p, _ := detect.NewParams(&s, nil)
		d, err := s.New(p)
		if err != nil {
			b.Fatal(err)
		}
		dets = append(dets, d)
	}
	emit := func(event.Alert) {}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &evs[i%n]
		for _, d := range dets {
			d.Observe(ev, emit)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
}
