package dns

import (
	"fmt"
	"testing"
	"time"

	"winnow/internal/event"
)

// TestDGANXDomainDetector: a host that asks for fifteen word-list DGA
// names (suppobox's: words, which the name model lets through) in a
// few minutes, none existing, is found; one generated-looking name
// resolving with a 60 s TTL makes it critical. A host that mistypes a
// name every quarter of an hour all day, and one that retries one dead
// name, are not; a domain that fails once and then resolves is not
// evidence.
func TestDGANXDomainDetector(t *testing.T) {
	words := []string{"journeyvalley", "madecolor", "knowsure", "weightanger", "seasonmountain", "thoughtbright",
		"lawyerfinish", "receiveloud", "alwaysrather", "triedpeace", "riverspeak", "wholesend", "soundmeant", "thirdbelieve", "figurebroad"}
	var evs []event.Event
	for i, w := range words {
		evs = append(evs, q(time.Duration(i)*20*time.Second, "10.0.0.7", w+".net", "A", "NXDOMAIN"))
	}
	evs = append(evs, q(6*time.Minute, "10.0.0.7", "xkqjzvwpqhrtbn.com", "A", "NOERROR"))
	// Benign: a typo every 15 minutes for 10 hours; a dead name retried.
	for i := 0; i < 40; i++ {
		evs = append(evs, q(time.Duration(i)*15*time.Minute+time.Second, "10.0.0.8", fmt.Sprintf("gooogle%d.com", i), "A", "NXDOMAIN"))
		evs = append(evs, q(time.Duration(i)*15*time.Minute+2*time.Second, "10.0.0.9", "oldcorp-intranet.com", "A", "NXDOMAIN"))
	}
	// A flaky domain: NXDOMAIN, then it resolves (twelve such).
	for i := 0; i < 12; i++ {
		n := fmt.Sprintf("flakyshop%d.com", i)
		evs = append(evs, q(time.Duration(i)*time.Second+3*time.Second, "10.0.0.10", n, "A", "NXDOMAIN"),
			q(time.Duration(i)*time.Second+4*time.Second, "10.0.0.10", n, "A", "NOERROR"))
	}
	sortEvents(evs)
	out := run(t, "dns.dga_nxdomain", evs, nil)
	if len(out) != 1 {
		for _, a := range out {
			t.Logf("%s %s", a.Entity.Value, a.Description)
		}
		t.Fatalf("%d findings, want 1 (10.0.0.7)", len(out))
	}
	a := out[0]
	if a.Entity.Value != "10.0.0.7" || a.Evidence["nxdomain_domains"].(int) != 15 || a.Severity != event.SeverityCritical ||
		len(a.Related) != 1 || a.Related[0].Value != "xkqjzvwpqhrtbn.com" || len(a.Samples) == 0 {
		t.Errorf("finding %+v", a)
	}
	if ev := a.Evidence["peak_evidence"].(float64); ev < 10 {
		t.Errorf("peak evidence %v", ev)
	}
	// Ten of the names alone are not enough: word-like names count 0.5
	// to about 1 each.
	if out := run(t, "dns.dga_nxdomain", evs[:10], nil); len(out) != 0 {
		t.Errorf("ten word-like names: %d findings", len(out))
	}
}

func sortEvents(evs []event.Event) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Time.Before(evs[j-1].Time); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

func TestNXEvidenceDecays(t *testing.T) {
	var x NXEvidence
	h := 20 * time.Minute
	n0 := t0.UnixNano()
	x.Add(n0, 8, h)
	if v := x.Value(n0+int64(h), h); v < 3.99 || v > 4.01 {
		t.Errorf("after a half-life: %v, want 4", v)
	}
	if v := x.Add(n0+int64(2*h), 1, h); v < 2.99 || v > 3.01 {
		t.Errorf("after two half-lives plus 1: %v, want 3", v)
	}
	if NXWeight(0, 0.9) != 0.5 || NXWeight(0.9, 0.9) != 1.5 || NXWeight(0.99, 0.9) != 1.5 {
		t.Error("NXWeight")
	}
}
