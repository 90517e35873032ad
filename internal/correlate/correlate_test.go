package correlate

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"winnow/internal/event"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func ipEnt(s string) event.Entity   { return event.Entity{Type: event.EntityIP, Value: s} }
func userEnt(s string) event.Entity { return event.Entity{Type: event.EntityUser, Value: s} }

func fixture() []event.Alert {
	ip := netip.MustParseAddr("203.0.113.7")
	return []event.Alert{
		{Rule: "auth.brute_force", Entity: ipEnt("203.0.113.7"), SourceIP: ip, Severity: 73, Score: 0.9,
			Start: t0, End: t0.Add(10 * time.Minute), Related: []event.Entity{userEnt("deploy"), userEnt("root")}},
		{Rule: "auth.success_after_failures", Entity: ipEnt("203.0.113.7"), SourceIP: ip, User: "deploy",
			Severity: 99, Score: 1, Start: t0.Add(9 * time.Minute), End: t0.Add(11 * time.Minute)},
		{Rule: "auth.sudo_sensitive", Entity: userEnt("deploy"), User: "deploy", Severity: 47, Score: 0.8,
			Start: t0.Add(12 * time.Minute), End: t0.Add(12 * time.Minute)},
		{Rule: "auth.invalid_user_enumeration", Entity: ipEnt("198.51.100.9"), Severity: 47, Score: 0.6,
			Start: t0, End: t0.Add(time.Hour)},
		{Rule: "auth.account_change", Entity: event.Entity{Type: event.EntityHost, Value: "web-01"}, Severity: 21, Score: 1,
			Start: t0.Add(20 * time.Minute), End: t0.Add(20 * time.Minute), Related: []event.Entity{userEnt("support")}},
	}
}

func TestCorrelateRiskAndLinks(t *testing.T) {
	got := Correlate(fixture())
	if len(got) != 4 {
		t.Fatalf("%d entities, want 4", len(got))
	}
	order := []string{"ip:203.0.113.7", "user:deploy", "ip:198.51.100.9", "host:web-01"}
	for i, want := range order {
		if got[i].Entity.String() != want {
			t.Errorf("rank %d = %s, want %s", i+1, got[i].Entity, want)
		}
	}
	ip := got[0]
	wantOwn := 1 - (1-0.9*0.73)*(1-1*0.99)
	if math.Abs(ip.Own-wantOwn) > 1e-9 {
		t.Errorf("own risk = %v, want %v", ip.Own, wantOwn)
	}
	userOwn := 0.8 * 0.47
	wantRisk := 1 - (1-wantOwn)*(1-LinkWeight*userOwn)
	if math.Abs(ip.Risk-wantRisk) > 1e-9 {
		t.Errorf("risk = %v, want %v", ip.Risk, wantRisk)
	}
	if ip.Severity != 99 || ip.Findings[0].Rule != "auth.success_after_failures" {
		t.Errorf("severity %d, first finding %s", ip.Severity, ip.Findings[0].Rule)
	}
	if !reflect.DeepEqual(ip.Linked, []event.Entity{userEnt("deploy")}) {
		t.Errorf("linked = %v, want only user:deploy (root has no findings)", ip.Linked)
	}
	if !reflect.DeepEqual(got[1].Linked, []event.Entity{ipEnt("203.0.113.7")}) {
		t.Errorf("user linked = %v", got[1].Linked)
	}
	if !ip.Start.Equal(t0) || !ip.End.Equal(t0.Add(11*time.Minute)) {
		t.Errorf("range %v–%v", ip.Start, ip.End)
	}
}

func TestCorrelateDeterministic(t *testing.T) {
	want := Correlate(fixture())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		in := fixture()
		rng.Shuffle(len(in), func(a, b int) { in[a], in[b] = in[b], in[a] })
		if got := Correlate(in); !reflect.DeepEqual(got, want) {
			t.Fatalf("order-dependent result on shuffle %d", i)
		}
	}
}

func TestCorrelateEmpty(t *testing.T) {
	if got := Correlate(nil); len(got) != 0 {
		t.Errorf("got %v", got)
	}
}
