package net

import (
	"os"
	"sort"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/capture"
	"winnow/internal/testdata"
)

// runCapture decodes a capture (DNS and flows, as analyze does) and runs
// the given specs over its events with one instance each; it returns the
// findings.
func runCapture(t testing.TB, path string, specs ...detect.Spec) []event.Alert {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []event.Event
	if _, err := capture.NewDecoder(capture.Config{})(f, path, parse.Options{}, func(ev *event.Event) error {
		evs = append(evs, *ev)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return runEvents(t, evs, specs...)
}

func runEvents(t testing.TB, evs []event.Event, specs ...detect.Spec) []event.Alert {
	t.Helper()
	var out []event.Alert
	emit := func(a event.Alert) { out = append(out, a) }
	for _, s := range specs {
		p, err := detect.NewParams(&s, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.New(p)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[event.Kind]bool{}
		for _, k := range s.Kinds {
			kinds[k] = true
		}
		for i := range evs {
			if kinds[evs[i].Kind] {
				d.Observe(&evs[i], emit)
			}
		}
		d.Flush(emit)
	}
	return out
}

// flagged maps rule → sorted entity values.
func flagged(as []event.Alert) map[string][]string {
	m := map[string][]string{}
	for _, a := range as {
		m[a.Rule] = append(m[a.Rule], a.Entity.Value)
	}
	for _, v := range m {
		sort.Strings(v)
	}
	return m
}

// TestAttackCaptures runs every network detector over the real attack and
// benign captures in ../shared/data/attack-pcaps and asserts, per file,
// which entities each rule flags — and that nothing else is flagged.
func TestAttackCaptures(t *testing.T) {
	dir := testdata.Dir(t) + "/attack-pcaps/"
	cases := []struct {
		file string
		want map[string][]string
	}{
		// Scans (the README of each collection says what the file holds).
		{"chrissanders-packets/synscan.pcapng", map[string][]string{"net.port_scan": {"172.16.0.8"}}},
		{"chrissanders-packets/ppa1e/portscan.pcap", map[string][]string{"net.port_scan": {"10.100.25.14"}}},
		{"lucaderi-sgr/2011-2020/2020/BoschiCarliPetri/portScan_1_to_10000.pcapng", map[string][]string{"net.port_scan": {"192.168.1.7"}}},
		{"lucaderi-sgr/2022/Favilli/tests/hs-arpScan.pcap", map[string][]string{"net.host_sweep": {"10.0.0.128"}}},
		{"lucaderi-sgr/2022/Favilli/tests/hs-icmpScan.pcap", map[string][]string{"net.host_sweep": {"10.0.0.128"}}},
		{"lucaderi-sgr/2022/Favilli/tests/hs-tcp_ackPingSweepRand.pcapng", map[string][]string{"net.host_sweep": {"10.0.0.128"}}},
		{"lucaderi-sgr/2022/Favilli/tests/hs-tcp_synPingSweepRand.pcapng", map[string][]string{"net.host_sweep": {"10.0.0.128"}}},
		{"lucaderi-sgr/2022/Favilli/tests/hs-udpScan.pcap", map[string][]string{"net.host_sweep": {"246.237.45.150"}}},
		// An IP protocol scan seen only through the target's ICMP
		// protocol-unreachable replies: the quoted probes name the scanner.
		{"lucaderi-sgr/2022/Favilli/tests/hs-sh-IPscan.pcapng", map[string][]string{"net.port_scan": {"192.168.231.128"}}},
		// Floods (StopDDoS collection: one-way captures at the victim,
		// anonymised to 10.10.10.10).
		{"stopddos/pkt.TCP.synflood.spoofed.pcap", map[string][]string{"net.flood": {"10.10.10.10"}, "net.heavy_hitter": {"10.10.10.10"}}},
		{"stopddos/amp.UDP.isakmp.pcap", map[string][]string{"net.reflection": {"10.10.10.10"}}},
		{"stopddos/amp.TCP.reflection.SYNACK.pcap", map[string][]string{"net.reflection": {"10.10.10.10"}}},
		// 100 packets with random sources and destinations: no entity
		// stands out, so no finding names one.
		{"chrissanders-packets/ppa1e/dosattack.pcap", nil},
		// Benign traffic: nothing.
		{"chrissanders-packets/http_dvwa_clearlogin.pcapng", nil},
		{"chrissanders-packets/dns_isp_hijack.pcapng", nil},
		{"chrissanders-packets/dns_lab.pcapng", nil},
		{"chrissanders-packets/dns_tcp.pcapng", nil},
		{"chrissanders-packets/arppoison.pcapng", nil},
		{"chrissanders-packets/sessionhijacking.pcapng", nil},
		{"chrissanders-packets/ppa1e/dns.cap", nil},
		// An FTP password guesser: one client, one server, 1,398
		// successful connections — not a scan.
		{"chrissanders-packets/ppa1e/ftp-crack.pcap", nil},
		// nmap OS detection probes a handful of ports: below scan size.
		{"chrissanders-packets/activeosfingerprinting.pcapng", nil},
		{"chrissanders-packets/ppa1e/osfingerprinting.pcap", nil},
	}
	specs := Specs()
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			got := flagged(runCapture(t, dir+c.file, specs...))
			want := c.want
			if want == nil {
				want = map[string][]string{}
			}
			for rule, ents := range want {
				if !equal(got[rule], ents) {
					t.Errorf("%s flagged %v, want %v", rule, got[rule], ents)
				}
			}
			for rule, ents := range got {
				if _, ok := want[rule]; !ok {
					t.Errorf("unexpected %s findings on %v", rule, ents)
				}
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
