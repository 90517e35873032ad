package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"winnow/internal/generate/dnsgen"
	"winnow/internal/testdata"
)

// TestDNSTunnelCapturesTopFinding analyzes the real iodine and dns2tcp
// captures end to end: the tunnel domain and the client that ran it are
// the top-ranked incidents, the domain's with the client in its evidence
// and as source.ip.
func TestDNSTunnelCapturesTopFinding(t *testing.T) {
	for _, c := range []struct{ rel, domain, client string }{
		{"elastic-examples/dns_tunnel_detection/dns-tunnel-iodine.pcap", "pirate.sea", "10.0.2.30"},
		{"dns-tunneling/dns2tcp-netrack-2018-03-23.pcap", "hidemyself.org", "172.17.0.3"},
	} {
		t.Run(c.domain, func(t *testing.T) {
			r := analyze(t, []string{testdata.File(t, c.rel)}, nil)
			if r.code != 0 || len(r.docs) == 0 {
				t.Fatalf("exit %d, %d findings: %v\n%s", r.code, len(r.docs), r.err, r.stderr)
			}
			rk := ranks(r.docs)
			if a, b := rk["domain:"+c.domain], rk["ip:"+c.client]; a == 0 || b == 0 || a+b != 3 {
				t.Fatalf("ranks: domain %d, client %d; want 1 and 2", a, b)
			}
			var top doc
			for _, d := range r.docs {
				if d.Winnow.Entity.Value == c.domain {
					top = d
				}
			}
			if top.Rule.Name != "dns.tunnel" || top.Winnow.Entity.Type != "domain" {
				t.Fatalf("domain incident %s on %s:%s", top.Rule.Name, top.Winnow.Entity.Type, top.Winnow.Entity.Value)
			}
			clients, _ := top.Winnow.Evidence["clients"].([]any)
			if len(clients) == 0 || clients[0] != c.client || top.Source == nil || top.Source.IP != c.client {
				t.Errorf("clients %v, source %+v", top.Winnow.Evidence["clients"], top.Source)
			}
			if top.Event.Severity < 73 || len(top.Winnow.Samples) == 0 || !strings.Contains(top.Winnow.Samples[0].File, filepath.Base(c.rel)) {
				t.Errorf("severity %d, samples %+v", top.Event.Severity, top.Winnow.Samples)
			}
			if !strings.Contains(r.stderr, "malformed") || strings.Contains(r.stderr, "error") {
				t.Errorf("summary: %s", r.stderr)
			}
		})
	}
}

// TestResolverCaptureAttributesToClients: a capture that sees both the
// clients' queries to the resolver and the resolver's queries upstream.
// The resolver is identified as infrastructure: no incident at medium or
// above is about it, and its DGA-looking upstream traffic is context of a
// resolver incident; each tunnel is reported under its domain with the
// client that ran it as source.ip, and each client has an incident of its
// own.
func TestResolverCaptureAttributesToClients(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dns.pcap")
	cfg := dnsgen.DefaultConfig()
	cfg.Upstream, cfg.Tunnels = true, 2
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	truth, err := dnsgen.WritePcap(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(truth.Tunnels) != 2 || truth.Upstream == "" {
		t.Fatalf("truth %+v", truth)
	}
	r := analyze(t, []string{path}, nil)
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	byEnt := map[string]doc{}
	for _, d := range incidents(r.docs) {
		byEnt[d.Winnow.Entity.Type+":"+d.Winnow.Entity.Value] = d
		if d.Winnow.Entity.Value == truth.Resolver || (d.Source != nil && d.Source.IP == truth.Resolver) {
			t.Errorf("incident attributed to the resolver: %s on %s (source %+v): %s", d.Rule.Name, d.Winnow.Entity.Value, d.Source, d.Rule.Description)
		}
	}
	for _, tun := range truth.Tunnels {
		dom, ok := byEnt["domain:"+tun.Domains[0]]
		if !ok || dom.Source == nil || dom.Source.IP != tun.Client {
			t.Errorf("tunnel %s: domain incident %v with source %+v, want source.ip %s", tun.Domains[0], ok, dom.Source, tun.Client)
		}
		cl, ok := byEnt["ip:"+tun.Client]
		if !ok || !slices.Contains(cl.rules(), "dns.tunnel") || cl.Event.Severity < 73 {
			t.Errorf("client %s: incident %v rules %v severity %d, want dns.tunnel at high", tun.Client, ok, cl.rules(), cl.Event.Severity)
		}
	}
	if d, ok := byEnt["ip:"+truth.DGAClient]; !ok || !slices.Contains(d.rules(), "dns.dga") {
		t.Errorf("DGA client %s: %v %v", truth.DGAClient, ok, d.rules())
	}
	// the resolver is known for what it is, at info
	all := analyze(t, []string{path}, func(o *AnalyzeOptions) { o.MinSeverity = "info" })
	found := false
	for _, d := range incidents(all.docs) {
		if d.Winnow.Entity.Value == truth.Resolver {
			found = d.Rule.Name == "dns.resolver" && d.Event.Severity < 21 && slices.Contains(d.rules(), "dns.dga")
		}
	}
	if !found {
		t.Error("no informational resolver incident holding its DGA-looking upstream traffic as context")
	}
}

// TestBenignCapturesNoTunnel: the benign captures of chrissanders-packets
// (DNS lookups, zone transfer, DNS over TCP, ISP hijack, web and scans)
// give no tunnel or DGA finding.
func TestBenignCapturesNoTunnel(t *testing.T) {
	dir := filepath.Dir(testdata.File(t, "attack-pcaps/chrissanders-packets/dns_tcp.pcapng"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	more, _ := filepath.Glob(filepath.Join(dir, "ppa1e", "*"))
	files = append(files, more...)
	r := analyze(t, files, func(o *AnalyzeOptions) { o.MinSeverity = "info" })
	if r.code != 0 {
		t.Fatalf("exit %d: %v\n%s", r.code, r.err, r.stderr)
	}
	for _, d := range r.docs {
		if d.Rule.Name == "dns.tunnel" || d.Rule.Name == "dns.dga" || d.Rule.Name == "dns.dga_nxdomain" {
			t.Errorf("%s on %s: %s", d.Rule.Name, d.Winnow.Entity.Value, d.Rule.Description)
		}
	}
	if !strings.Contains(r.stderr, "events") {
		t.Errorf("summary: %s", r.stderr)
	}
}

// TestGeneratedNetworkFindsEveryAttack analyzes the generated network as a
// pcap and as a Zeek dns.log: every embedded attack is reported by its
// rule on its client or domain, and no benign client has a finding at
// medium or above.
func TestGeneratedNetworkFindsEveryAttack(t *testing.T) {
	dir := t.TempDir()
	cfg := dnsgen.DefaultConfig()
	cfg.Seed = 11
	var truth dnsgen.Truth
	for _, zeek := range []bool{false, true} {
		path := filepath.Join(dir, "net.pcap")
		write := dnsgen.WritePcap
		if zeek {
			path, write = filepath.Join(dir, "dns.log"), dnsgen.WriteZeek
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if truth, err = write(f, cfg); err != nil {
			t.Fatal(err)
		}
		f.Close()
		r := analyze(t, []string{path}, nil)
		if r.code != 0 {
			t.Fatalf("%s: exit %d %v\n%s", path, r.code, r.err, r.stderr)
		}
		found := map[string]bool{}
		for _, d := range r.docs {
			found[d.Rule.Name+" "+d.Winnow.Entity.Value] = true
			ip := d.Winnow.Entity.Value
			if d.Winnow.Entity.Type == "ip" && d.Event.Severity >= 47 && ip != truth.TunnelClient && ip != truth.DGAClient && ip != truth.OrphanClient {
				t.Errorf("%s: benign client %s: %s", path, ip, d.Rule.Description)
			}
		}
		for _, want := range []string{"dns.tunnel " + truth.TunnelDomain, "dns.dga " + truth.DGAClient, "dns.orphan " + truth.OrphanClient} {
			if !found[want] {
				t.Errorf("%s: %s not reported; got %v", path, want, found)
			}
		}
		for _, d := range r.docs {
			if d.Rule.Name == "dns.dga" {
				if res, _ := d.Winnow.Evidence["resolved_dga_domains"].([]any); len(res) != 1 || res[0] != truth.DGAResolved {
					t.Errorf("%s: resolved %v, want %s", path, res, truth.DGAResolved)
				}
			}
		}
	}
}

// TestScoreDNSContract: one JSON line per input name, in input order, with
// the fields and ranges of the contract.
func TestScoreDNSContract(t *testing.T) {
	in := "www.example.com\n\n1,q+Z8BnweCORdAGL4+W7DB5xH1cUwcwM1gejAQoJF8hbs2Jf6p3n1rvyEqOo+YbO.hidemyself.org.\nxjkqwpzvbnmtrlq.biz\nwww.example.com\n"
	var out, errb bytes.Buffer
	code, err := ScoreDNS(context.Background(), ScoreDNSOptions{Args: []string{"-"}, Stdin: strings.NewReader(in), Stdout: &out, Stderr: &errb})
	if code != 0 || err != nil {
		t.Fatalf("exit %d: %v %s", code, err, errb.String())
	}
	type line struct {
		Name    string   `json:"name"`
		Tunnel  *float64 `json:"tunnel"`
		DGA     *float64 `json:"dga"`
		Verdict string   `json:"verdict"`
	}
	var got []line
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var l line
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		if l.Tunnel == nil || l.DGA == nil || *l.Tunnel < 0 || *l.Tunnel > 1 || *l.DGA < 0 || *l.DGA > 1 {
			t.Fatalf("bad scores: %q", sc.Text())
		}
		got = append(got, l)
	}
	want := []struct{ name, verdict string }{
		{"www.example.com", "benign"},
		{"q+Z8BnweCORdAGL4+W7DB5xH1cUwcwM1gejAQoJF8hbs2Jf6p3n1rvyEqOo+YbO.hidemyself.org.", "tunnel"},
		{"xjkqwpzvbnmtrlq.biz", "dga"},
		{"www.example.com", "benign"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines: %+v", len(got), got)
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Verdict != w.verdict {
			t.Errorf("line %d: %+v, want %s %s", i+1, got[i], w.name, w.verdict)
		}
	}
	// A missing file is reported; the others are still scored.
	out.Reset()
	errb.Reset()
	code, _ = ScoreDNS(context.Background(), ScoreDNSOptions{Args: []string{"/nonexistent/names.txt", "-"}, Stdin: strings.NewReader("a.example.com\n"), Stdout: &out, Stderr: &errb})
	if code != ExitInputErr || strings.Count(out.String(), "\n") != 1 || !strings.Contains(errb.String(), "nonexistent") {
		t.Errorf("exit %d, out %q, err %q", code, out.String(), errb.String())
	}
}

// TestScoreDNSValidate scores dns-tunneling/validate.csv through the
// command (the file as it is: "label,name" lines) and checks the figures
// the README reports.
func TestScoreDNSValidate(t *testing.T) {
	path := testdata.File(t, "dns-tunneling/validate.csv")
	var out bytes.Buffer
	code, err := ScoreDNS(context.Background(), ScoreDNSOptions{Args: []string{path}, Stdout: &out, Stderr: os.Stderr})
	if code != 0 || err != nil {
		t.Fatal(code, err)
	}
	b, _ := os.ReadFile(path)
	labels := strings.Split(strings.TrimSpace(string(b)), "\n")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(labels) {
		t.Fatalf("%d output lines for %d names", len(lines), len(labels))
	}
	var tp, fp, fn int
	for i, l := range lines {
		tunnel := strings.Contains(l, `"verdict":"tunnel"`)
		truth := strings.HasPrefix(labels[i], "1,")
		switch {
		case tunnel && truth:
			tp++
		case tunnel:
			fp++
		case truth:
			fn++
		}
	}
	p, r := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
	f1 := 2 * p * r / (p + r)
	t.Logf("validate.csv through winnow score dns: precision %.4f recall %.4f F1 %.4f (fp %d, fn %d)", p, r, f1, fp, fn)
	if f1 < 0.99 || fp > 1 {
		t.Errorf("F1 %.4f, %d false positives", f1, fp)
	}
}

func TestDemoIncludesDNS(t *testing.T) {
	var out, errb bytes.Buffer
	dir := t.TempDir()
	code, err := Demo(context.Background(), DemoOptions{Seed: 1, Save: filepath.Join(dir, "auth.log"), SaveDNS: filepath.Join(dir, "dns.pcap"),
		Analyze: AnalyzeOptions{Output: "json", Stdout: &out, Stderr: &errb, Now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}})
	if code != 0 || err != nil {
		t.Fatalf("exit %d: %v\n%s", code, err, errb.String())
	}
	for _, rule := range []string{`"dns.tunnel"`, `"dns.dga"`, `"dns.orphan"`, `"auth.brute_force"`} {
		if !strings.Contains(out.String(), rule) {
			t.Errorf("demo output lacks %s", rule)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "dns.pcap")); err != nil {
		t.Error(err)
	}
}
