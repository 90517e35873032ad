package capture

import (
	"os"
	"testing"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/dnspcap"
	"winnow/internal/parse/flow"
	"winnow/internal/testdata"
)

func decodeFile(t *testing.T, dec parse.Decoder, path string) ([]event.Event, parse.DecodeStats) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []event.Event
	st, err := dec(f, path, parse.Options{}, func(ev *event.Event) error {
		evs = append(evs, *ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, st
}

// One pass yields exactly what the DNS decoder and the flow assembler
// yield on their own, merged in event-time order, with per-protocol counts.
func TestDNSAndFlowsTogether(t *testing.T) {
	for _, rel := range []string{
		"attack-pcaps/chrissanders-packets/ppa1e/dns.cap",
		"attack-pcaps/chrissanders-packets/dns_isp_hijack.pcapng",
		"dns-tunneling/dns2tcp-netrack-2018-03-23.pcap",
		"elastic-examples/dns_tunnel_detection/dns-tunnel-iodine.pcap",
	} {
		t.Run(rel, func(t *testing.T) {
			path := testdata.File(t, rel)
			both, st := decodeFile(t, NewDecoder(Config{}), path)
			dnsOnly, _ := decodeFile(t, dnspcap.NewDecoder(dnspcap.Config{}), path)
			flows, _ := decodeFile(t, flow.NewDecoder(flow.Config{}), path)
			var nd, nf int
			for i, ev := range both {
				if i > 0 && ev.Time.Before(both[i-1].Time) {
					t.Fatalf("event %d (%s) at %v before the previous one at %v", i, ev.Kind, ev.Time, both[i-1].Time)
				}
				switch ev.Kind {
				case event.KindDNS:
					nd++
				case event.KindFlow:
					nf++
				}
			}
			if nd != len(dnsOnly) || nf != len(flows) || int64(len(both)) != st.Events {
				t.Errorf("dns %d (alone %d), flows %d (alone %d), events %d counted %d", nd, len(dnsOnly), nf, len(flows), len(both), st.Events)
			}
			if nd > 0 && st.Detail["dns_events"] != int64(nd) {
				t.Errorf("detail %v", st.Detail)
			}
			if st.Detail["udp_packets"] == 0 {
				t.Errorf("no per-protocol counts: %v", st.Detail)
			}
		})
	}
}
