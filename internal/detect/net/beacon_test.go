package net

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"winnow/internal/event"
)

func TestBeacon(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var evs []event.Event
	// An implant: every 60 s with ±20% jitter and a missed beat, 2 hours.
	at := time.Duration(0)
	for i := 0; i < 120; i++ {
		at += time.Duration(float64(60*time.Second) * (0.8 + 0.4*rng.Float64()))
		if i == 50 {
			continue
		}
		evs = append(evs, flowEv(at, "10.0.0.5", "198.51.100.20", uint16(40000+i), 443, "tcp", "SF", 6, 5))
	}
	// A person browsing one site: bursts and pauses (exponential gaps).
	at = 0
	for i := 0; i < 120; i++ {
		at += time.Duration(rng.ExpFloat64() * float64(90*time.Second))
		evs = append(evs, flowEv(at, "10.0.0.6", "198.51.100.20", uint16(40000+i), 443, "tcp", "SF", 6, 5))
	}
	// NTP every 64 s: periodic by design, skipped.
	for i := 0; i < 100; i++ {
		evs = append(evs, flowEv(time.Duration(i)*64*time.Second, "10.0.0.7", "198.51.100.30", 123, 123, "udp", "SF", 1, 1))
	}
	sortByTime(evs)
	as := runEvents(t, evs, spec("net.beacon"))
	if got := flagged(as)["net.beacon"]; !equal(got, []string{"10.0.0.5"}) {
		t.Fatalf("flagged %v", got)
	}
	if med := as[0].Evidence["median_interval_seconds"].(float64); med < 50 || med > 70 {
		t.Errorf("median %v", med)
	}
}

func TestPeriodicity(t *testing.T) {
	f := func(iv []float64, wantReg float64) {
		t.Helper()
		ts := []int64{0}
		for _, x := range iv {
			ts = append(ts, ts[len(ts)-1]+int64(x*1e9))
		}
		_, _, reg := Periodicity(ts, 0.25)
		if reg != wantReg {
			t.Errorf("%v: regularity %v, want %v", iv, reg, wantReg)
		}
	}
	f([]float64{60, 60, 60, 60}, 1)
	f([]float64{60, 55, 70, 62}, 1)
	f([]float64{60, 60, 300, 60}, 0.75)
	f([]float64{1, 100, 5, 300}, 0)
}

func TestUnexplainedConnections(t *testing.T) {
	var evs []event.Event
	dnsEv := func(at time.Duration, client, name string, addrs ...string) event.Event {
		x := &event.DNS{Name: name, QType: "A", RCode: "NOERROR", Answered: true}
		for _, a := range addrs {
			x.Answers = append(x.Answers, event.Answer{Type: "A", Data: a, TTL: 300})
		}
		return event.Event{Time: t0.Add(at), Kind: event.KindDNS, Action: event.ActDNSQuery, SrcIP: netip.MustParseAddr(client), DNS: x, Count: 1}
	}
	for i := 0; i < 30; i++ {
		at := time.Duration(i) * 30 * time.Second
		// Both clients resolve and use names.
		for _, c := range []string{"10.0.0.5", "10.0.0.6"} {
			a := fmt.Sprintf("93.184.%d.%d", i, len(c))
			evs = append(evs, dnsEv(at, c, fmt.Sprintf("site%d.example", i), a))
			evs = append(evs, flowEv(at+time.Second, c, a, uint16(40000+i), 443, "tcp", "SF", 6, 5))
		}
		// After the warm-up, 10.0.0.5 also connects to hard-coded addresses.
		if at > 6*time.Minute {
			for k := 0; k < 2; k++ {
				evs = append(evs, flowEv(at+2*time.Second, "10.0.0.5", fmt.Sprintf("203.0.%d.%d", 113+k, i), uint16(50000+i), 8443, "tcp", "SF", 6, 5))
			}
		}
	}
	sortByTime(evs)
	got := flagged(runEvents(t, evs, spec("net.unexplained_connection")))
	if !equal(got["net.unexplained_connection"], []string{"10.0.0.5"}) {
		t.Fatalf("flagged %v", got)
	}
}

func sortByTime(evs []event.Event) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Time.Before(evs[j-1].Time); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}
