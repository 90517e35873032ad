package campaign

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
)

var t0 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

func failAuth(ip, user string, at time.Duration) event.Event {
	return event.Event{Time: t0.Add(at), Kind: event.KindAuth, Action: event.ActLoginFailure, Outcome: event.OutcomeFailure,
		SrcIP: netip.MustParseAddr(ip), User: user, InvalidUser: true}
}

func probe(ip, path, ua string, at time.Duration) event.Event {
	return event.Event{Time: t0.Add(at), Kind: event.KindHTTP, SrcIP: netip.MustParseAddr(ip),
		HTTP: &event.HTTP{Method: "GET", Path: path, PathDecoded: path, Status: 404, UserAgent: ua}}
}

func profile(evs []event.Event) *Profile {
	p := NewProfile(evs[0].SrcIP.String())
	for i := range evs {
		if Failed(&evs[i]) {
			p.Add(&evs[i])
		}
	}
	return p
}

func TestCluster(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	list := []string{"admin", "test", "oracle", "guest", "pi", "ubnt", "user", "ftp", "support", "info", "mysql", "postgres"}
	var ps []*Profile
	// Three bots with one list, own pace and networks, at different times.
	for b, ip := range []string{"198.51.100.7", "203.0.113.50", "192.0.2.99"} {
		var evs []event.Event
		for i, u := range list {
			evs = append(evs, failAuth(ip, u, time.Duration(b)*time.Hour+time.Duration(i*3)*time.Second))
		}
		ps = append(ps, profile(evs))
	}
	// Ten scanners each with their own random names.
	for s := range 10 {
		var evs []event.Event
		for i := range 12 {
			evs = append(evs, failAuth(fmt.Sprintf("10.1.%d.1", s), fmt.Sprintf("n%d", r.IntN(1000)), time.Duration(i)*time.Second))
		}
		ps = append(ps, profile(evs))
	}
	// Two users who mistype their own password from two addresses each.
	for _, u := range []string{"alice", "bob"} {
		for k := range 2 {
			var evs []event.Event
			for i := range 6 {
				evs = append(evs, failAuth(fmt.Sprintf("172.16.%d.%d", len(u), k), u, time.Duration(i)*time.Minute))
			}
			ps = append(ps, profile(evs))
		}
	}
	got := Cluster(ps, Options{})
	if len(got) != 1 {
		for _, c := range got {
			t.Log(c.Describe())
		}
		t.Fatalf("%d campaigns, want 1", len(got))
	}
	c := got[0]
	if len(c.Members) != 3 || len(c.Shared) != len(list) || !strings.Contains(c.Describe(), "the same 12-name account list") {
		t.Errorf("campaign %+v\n%s", c, c.Describe())
	}
}

func TestWebCampaign(t *testing.T) {
	paths := make([]string, 30)
	for i := range paths {
		paths[i] = fmt.Sprintf("/admin/backup%d.zip", i)
	}
	var ps []*Profile
	for k, ip := range []string{"198.51.100.7", "198.51.100.8"} {
		var evs []event.Event
		for i, p := range paths {
			evs = append(evs, probe(ip, p, "sqlmap/1.7", time.Duration(k*600+i)*time.Second))
		}
		ps = append(ps, profile(evs))
	}
	// A browser with its own 404s.
	var evs []event.Event
	for i := range 12 {
		evs = append(evs, probe("192.0.2.1", fmt.Sprintf("/img/%d.png", i), "Mozilla/5.0", time.Duration(i)*time.Minute))
	}
	ps = append(ps, profile(evs))
	got := Cluster(ps, Options{})
	if len(got) != 1 || len(got[0].Members) != 2 {
		t.Fatalf("campaigns %+v", got)
	}
	var attrs []string
	for _, r := range got[0].Reasons {
		attrs = append(attrs, r.Attr)
	}
	want := "paths user_agents prefix timing"
	if strings.Join(attrs, " ") != want {
		t.Errorf("reasons %v, want %s", attrs, want)
	}
}

// Past 256 names the sets are compared by MinHash.
func TestMinHash(t *testing.T) {
	a, b, c := NewProfile("192.0.2.1"), NewProfile("192.0.2.2"), NewProfile("192.0.2.3")
	for i := range 2000 {
		ea, eb := failAuth("192.0.2.1", fmt.Sprintf("u%d", i), 0), failAuth("192.0.2.2", fmt.Sprintf("u%d", i+500), 0)
		ec := failAuth("192.0.2.3", fmt.Sprintf("x%d", i), 0)
		a.Add(&ea)
		b.Add(&eb)
		c.Add(&ec)
	}
	// |a ∩ b| = 1500, |a ∪ b| = 2500: 0.6.
	if j := jaccard(&a.names, &b.names); j < 0.45 || j > 0.75 {
		t.Errorf("MinHash Jaccard %.2f, want ≈ 0.6", j)
	}
	if j := jaccard(&a.names, &c.names); j > 0.1 {
		t.Errorf("disjoint sets: %.2f", j)
	}
}

func BenchmarkSimilarity(b *testing.B) {
	var ps []*Profile
	for k := range 2 {
		p := NewProfile(fmt.Sprintf("192.0.2.%d", k))
		for i := range 100 {
			ev := failAuth(p.Entity, fmt.Sprintf("u%d", i+k*10), time.Duration(i)*time.Second)
			p.Add(&ev)
		}
		ps = append(ps, p)
	}
	b.ReportAllocs()
	for b.Loop() {
		Similarity(ps[0], ps[1])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}
