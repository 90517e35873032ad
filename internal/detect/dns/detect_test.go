package dns

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// q builds a DNS query event.
func q(at time.Duration, client, name, qtype, rcode string, opts ...func(*event.DNS)) event.Event {
	x := &event.DNS{Name: name, Registered: Analyze(sharedModel(), name).Registered, QType: qtype, RCode: rcode,
		Answered: rcode != "", QuerySize: int32(30 + len(name)), Transport: "udp"}
	if rcode != "" {
		x.RespSize = x.QuerySize + 16
		if rcode == "NOERROR" {
			x.AnswerCount = 1
			x.Answers = []event.Answer{{Type: "A", TTL: 60, Data: "192.0.2.1", Size: 4}}
		}
	}
	for _, o := range opts {
		o(x)
	}
	return event.Event{Time: t0.Add(at), Kind: event.KindDNS, Action: event.ActDNSQuery, SrcIP: netip.MustParseAddr(client),
		SrcPort: 40000, Count: 1, DNS: x, Ref: event.Ref{File: "test.pcap", Line: int64(at / time.Millisecond)}}
}

func unanswered(x *event.DNS) { x.Orphan = event.OrphanUnanswered; x.Answered = false; x.RCode = "" }

// run feeds events (in order) to a fresh detector of the named spec with
// parameter overrides, advancing the watermark as a Runner would, and
// returns its findings.
func run(t *testing.T, name string, evs []event.Event, set map[string]string) []event.Alert {
	t.Helper()
	var spec *detect.Spec
	for _, s := range Specs() {
		if s.Name == name {
			s := s
			spec = &s
		}
	}
	p, err := detect.NewParams(spec, set)
	if err != nil {
		t.Fatal(err)
	}
	d, err := spec.New(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Alert
	emit := func(a event.Alert) { out = append(out, a) }
	var wm time.Time
	for i := range evs {
		d.Observe(&evs[i], emit)
		if w := evs[i].Time.Add(-time.Minute); w.Sub(wm) >= time.Minute {
			wm = w
			d.Advance(wm, emit)
		}
	}
	d.Flush(emit)
	return out
}

func b32(rng *rand.Rand, n int) string {
	const a = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, n)
	for i := range b {
		b[i] = a[rng.IntN(len(a))]
	}
	return string(b)
}

func TestTunnelDetector(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var evs []event.Event
	at := time.Duration(0)
	for i := 0; i < 300; i++ {
		at += 2 * time.Second
		// Benign traffic: popular names, repeated.
		evs = append(evs, q(at, "10.0.0.9", []string{"www.google.com", "mail.example.org", "cdn.example.net"}[i%3], "A", "NOERROR"))
		// A tunnel: data queries and short polls from one client.
		name := fmt.Sprintf("%s.%s.t.tunnel-example.com", b32(rng, 50), b32(rng, 30))
		if i%3 == 0 {
			name = fmt.Sprintf("p%d.t.tunnel-example.com", i)
		}
		evs = append(evs, q(at+time.Millisecond, "10.0.0.66", name, "TXT", "NOERROR"))
	}
	out := run(t, "dns.tunnel", evs, nil)
	if len(out) != 2 || out[1].Entity != (event.Entity{Type: event.EntityIP, Value: "10.0.0.66"}) ||
		out[1].Related[0].Value != "tunnel-example.com" {
		t.Fatalf("%d findings, want the domain's and the client's: %+v", len(out), out)
	}
	a := out[0]
	if a.Entity != (event.Entity{Type: event.EntityDomain, Value: "tunnel-example.com"}) || a.SourceIP.String() != "10.0.0.66" ||
		a.Severity < event.SeverityHigh || len(a.Samples) == 0 || len(a.Related) != 1 {
		t.Errorf("finding %+v", a)
	}
	ev := a.Evidence
	if ev["queries"].(int64) != 300 || ev["encoded_queries"].(int64) < 190 || ev["rare_type_share"].(float64) < 0.9 {
		t.Errorf("evidence %v", ev)
	}
	if a.Samples[0].File != "test.pcap" || a.Samples[0].Text == "" {
		t.Errorf("sample %+v", a.Samples[0])
	}
	// Allowed domains are never reported.
	if out := run(t, "dns.tunnel", evs, map[string]string{"allow": "tunnel-example.com"}); len(out) != 0 {
		t.Errorf("allowed: %+v", out)
	}
	// A busy CDN domain with random-looking names is not a tunnel.
	var cdn []event.Event
	for i, n := range cdnNames(rand.New(rand.NewPCG(5, 6)), 3000) {
		cdn = append(cdn, q(time.Duration(i)*time.Second, fmt.Sprintf("10.0.1.%d", 1+i%50), n, "A", "NOERROR"))
	}
	if out := run(t, "dns.tunnel", cdn, nil); len(out) != 0 {
		t.Errorf("CDN names: %d findings, first %v", len(out), out[0].Description)
	}
}

func TestDGADetector(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	var evs []event.Event
	for i := 0; i < 60; i++ {
		at := time.Duration(i) * 10 * time.Second
		evs = append(evs, q(at, "10.0.0.5", []string{"www.google.com", "github.com", "en.wikipedia.org"}[i%3], "A", "NOERROR"))
		// Infected host: random .com names, NXDOMAIN but for one.
		rc := "NXDOMAIN"
		name := b32(rng, 14) + ".com"
		if i == 30 {
			rc, name = "NOERROR", "qxkvzjwpmtrhfb.com"
		}
		evs = append(evs, q(at+time.Millisecond, "10.0.0.77", name, "A", rc))
		// A browser's random single-label probes and a LAN name.
		if i < 3 {
			evs = append(evs, q(at+2*time.Millisecond, "10.0.0.5", b32(rng, 10), "A", "NXDOMAIN"))
			evs = append(evs, q(at+3*time.Millisecond, "10.0.0.5", "desktop-7fj3k2l.lan", "A", "NXDOMAIN"))
		}
	}
	out := run(t, "dns.dga", evs, nil)
	if len(out) != 1 {
		t.Fatalf("%d findings: %+v", len(out), out)
	}
	a := out[0]
	if a.Entity.Value != "10.0.0.77" || a.Severity != event.SeverityCritical || len(a.Related) != 1 || a.Related[0].Value != "qxkvzjwpmtrhfb.com" {
		t.Errorf("finding %+v", a)
	}
	if n := a.Evidence["dga_nxdomain_domains"].(int64); n < 40 {
		t.Errorf("evidence %v", a.Evidence)
	}
	// Without responses (a log of queries only) the NXDOMAIN condition is
	// skipped; with min_domains above what the host did, nothing.
	if out := run(t, "dns.dga", evs, map[string]string{"min_domains": "100"}); len(out) != 0 {
		t.Errorf("min_domains 100: %+v", out)
	}
}

func TestOrphanDetector(t *testing.T) {
	var evs []event.Event
	for i := 0; i < 100; i++ {
		at := time.Duration(i) * 5 * time.Second
		evs = append(evs, q(at, "10.0.0.5", "www.example.com", "A", "NOERROR"))
		if i%2 == 0 {
			evs = append(evs, q(at, "10.0.0.8", fmt.Sprintf("beacon%d.sinkholed-example.net", i%7), "A", "", unanswered))
		} else {
			evs = append(evs, q(at, "10.0.0.8", "www.example.com", "A", "NOERROR"))
		}
		if i%40 == 0 { // the odd timeout is normal
			evs = append(evs, q(at, "10.0.0.5", "slow.example.com", "A", "", unanswered))
		}
	}
	out := run(t, "dns.orphan", evs, nil)
	if len(out) != 1 || out[0].Entity.Value != "10.0.0.8" || out[0].Evidence["unanswered"].(int64) != 50 || out[0].Related[0].Value != "sinkholed-example.net" {
		t.Fatalf("findings %+v", out)
	}
}

func TestVolumeDetector(t *testing.T) {
	var evs []event.Event
	// 12 hours of a client asking ~30 names per 10 minutes, then an hour of
	// 3,000 per 10 minutes to one domain, then normal again.
	for m := 0; m < 14*60; m++ {
		n := 3
		if m >= 12*60 && m < 13*60 {
			n = 300
		}
		for k := 0; k < n; k++ {
			at := time.Duration(m)*time.Minute + time.Duration(k)*time.Minute/time.Duration(n)
			name := "www.example.com"
			if n > 3 {
				name = fmt.Sprintf("x%d.burst-example.org", k)
			}
			evs = append(evs, q(at, "10.0.0.5", name, "A", "NOERROR"))
			if k == 0 {
				evs = append(evs, q(at, "10.0.0.6", "www.example.com", "A", "NOERROR"))
			}
		}
	}
	out := run(t, "dns.client_volume", evs, nil)
	if len(out) != 1 {
		t.Fatalf("%d findings: %+v", len(out), out)
	}
	a := out[0]
	if a.Entity.Value != "10.0.0.5" || a.Evidence["intervals"].(int64) != 6 || a.Evidence["ratio_to_baseline"].(float64) < 50 ||
		a.Related[0].Value != "burst-example.org" || len(a.Samples) == 0 {
		t.Errorf("finding %+v", a)
	}
}

func TestParams(t *testing.T) {
	for _, c := range []struct{ det, param, val string }{
		{"dns.tunnel", "threshold", "2"}, {"dns.tunnel", "episode_gap", "0s"}, {"dns.dga", "min_domains", "0"},
		{"dns.dga", "threshold", "1"}, {"dns.orphan", "min_unused_share", "0"}, {"dns.client_volume", "factor", "0.5"},
		{"dns.client_volume", "step", "x"}, {"dns.tunnel", "max_entities", "0"},
		{"dns.dga_nxdomain", "min_evidence", "0"}, {"dns.dga_nxdomain", "threshold", "1"}, {"dns.dga_nxdomain", "short_ttl", "0s"},
	} {
		for _, s := range Specs() {
			if s.Name != c.det {
				continue
			}
			p, err := detect.NewParams(&s, map[string]string{c.param: c.val})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.New(p); err == nil {
				t.Errorf("%s %s=%s accepted", c.det, c.param, c.val)
			}
		}
	}
	r := &detect.Registry{}
	Register(r)
	if len(r.Specs()) != 6 {
		t.Errorf("%d specs", len(r.Specs()))
	}
}

// TestResolverDetector: 10.0.0.53 re-asks upstream, within milliseconds,
// what two clients asked it: it is reported once as a resolver (info, with
// the role). A client that merely asks the same popular names as others,
// and a server that answers without asking anything, are not resolvers.
func TestResolverDetector(t *testing.T) {
	srv := func(ip string) func(*event.DNS) { return func(x *event.DNS) { x.ServerIP = netip.MustParseAddr(ip) } }
	var evs []event.Event
	at := time.Duration(0)
	for i := 0; i < 12; i++ {
		at += 3 * time.Second
		name := fmt.Sprintf("host%d.example.org", i)
		client := []string{"10.0.1.1", "10.0.1.2"}[i%2]
		evs = append(evs, q(at, client, name, "A", "NOERROR", srv("10.0.0.53")))
		evs = append(evs, q(at+2*time.Millisecond, "10.0.0.53", name, "A", "NOERROR", srv("9.9.9.9")))
		// another client asks a popular name of its own accord, later
		evs = append(evs, q(at+time.Second, "10.0.1.3", name, "A", "NOERROR", srv("10.0.0.54")))
	}
	out := run(t, "dns.resolver", evs, nil)
	if len(out) != 1 {
		t.Fatalf("%d findings: %+v", len(out), out)
	}
	a := out[0]
	if a.Entity.Value != "10.0.0.53" || a.Role != event.RoleDNSResolver || a.Severity != event.SeverityInfo ||
		a.Evidence["client_count"] != 2 || a.Evidence["reasked_names"] != 5 {
		t.Errorf("finding %+v", a)
	}
	// re-asks too slow to be forwarding are not counted
	out = run(t, "dns.resolver", evs, map[string]string{"window": "1ms"})
	if len(out) != 0 {
		t.Errorf("window 1ms: %+v", out)
	}
}
