package dnspcap

import (
	"os"
	"path/filepath"
	"testing"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/testdata"
)

func decodeFile(t *testing.T, path string) ([]event.Event, parse.DecodeStats) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []event.Event
	st, err := NewDecoder(Config{})(f, filepath.Base(path), parse.Options{}, func(ev *event.Event) error {
		evs = append(evs, *ev)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return evs, st
}

// TestRealTunnelCaptures decodes the iodine and dns2tcp captures: every
// packet is DNS, every query is under the tunnel's domain, and responses
// are matched to their queries.
func TestRealTunnelCaptures(t *testing.T) {
	cases := []struct {
		rel, domain string
		minQueries  int
		qtype       string
	}{
		{"elastic-examples/dns_tunnel_detection/dns-tunnel-iodine.pcap", "pirate.sea", 200, "NULL"},
		{"dns-tunneling/dns2tcp-netrack-2018-03-23.pcap", "hidemyself.org", 4400, "TXT"},
	}
	for _, c := range cases {
		t.Run(c.domain, func(t *testing.T) {
			evs, st := decodeFile(t, testdata.File(t, c.rel))
			if st.Malformed != 0 {
				t.Errorf("malformed %d: %v", st.Malformed, st.Samples)
			}
			queries, answered, types := 0, 0, map[string]int{}
			for i := range evs {
				x := evs[i].DNS
				if evs[i].Action == event.ActDNSQuery {
					queries++
					if x.Answered {
						answered++
					}
				}
				types[x.QType]++
				if x.Registered != c.domain && x.QType != "A" {
					t.Errorf("event %d: registered %q", i, x.Registered)
				}
			}
			if queries < c.minQueries || float64(answered) < 0.9*float64(queries) || types[c.qtype] < queries/2 {
				t.Errorf("%d queries, %d answered, types %v (stats %+v)", queries, answered, types, st)
			}
			t.Logf("%d events, %d queries (%d answered), types %v, detail %v", len(evs), queries, answered, types, st.Detail)
		})
	}
}

// TestRealBenignCaptures decodes every capture in chrissanders-packets
// (pcap and pcapng, DNS and other protocols): none may fail, and the DNS
// ones yield their queries.
func TestRealBenignCaptures(t *testing.T) {
	dir := filepath.Dir(testdata.File(t, "attack-pcaps/chrissanders-packets/dns_tcp.pcapng"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	more, _ := filepath.Glob(filepath.Join(dir, "ppa1e", "*"))
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("only %d captures in %s", len(files), dir)
	}
	total := 0
	for _, p := range files {
		evs, _ := decodeFile(t, p)
		total += len(evs)
		if filepath.Base(p) == "dns_tcp.pcapng" && (len(evs) != 2 || evs[1].DNS.Transport != "tcp") {
			t.Errorf("dns_tcp.pcapng: %d events", len(evs))
		}
	}
	if total < 20 {
		t.Errorf("only %d DNS events in %d captures", total, len(files))
	}
}
