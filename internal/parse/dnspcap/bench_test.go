package dnspcap

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// benchCapture is a capture of n packets: query/response pairs from 200
// clients over 2,000 names, Ethernet framed, with A, AAAA and TXT answers
// and some NXDOMAINs; every tenth pair is followed by a TCP packet to the
// answer (other traffic).
func benchCapture(b testing.TB, n int) []byte {
	var pkts []pkt
	for i := 0; len(pkts) < n; i++ {
		c := netip4(fmt.Sprintf("10.1.%d.%d", i%200/250, 1+i%200))
		e := ends{c, server4, uint16(20000 + i%30000), 53}
		name := fmt.Sprintf("host%d.site%d.example.com", i%2000, i%300)
		at := time.Duration(i) * 100 * time.Microsecond
		qm := query(uint16(i), name, []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT}[i%3], i%2 == 0)
		var rm []byte
		switch i % 7 {
		case 0:
			rm = answer(qm, dns.RcodeNameError)
		default:
			rm = answer(qm, dns.RcodeSuccess, name+". 300 IN CNAME edge.example.net.", "edge.example.net. 60 IN A 192.0.2.1")
		}
		pkts = append(pkts, pkt{at, ether(udpIP(e, qm))}, pkt{at + 50*time.Microsecond, ether(udpIP(e.reverse(), rm))})
		if i%10 == 0 {
			pkts = append(pkts, pkt{at + 60*time.Microsecond, ether(tcpIP(ends{c, netip4("192.0.2.1"), 50000, 443}, 1, true, false, nil))})
		}
	}
	return writePcap(b, layers.LinkTypeEthernet, pkts[:n])
}

// BenchmarkDecode measures pcap bytes → DNS events (matching, registered
// domains and answers included) on one core.
func BenchmarkDecode(b *testing.B) {
	capture := benchCapture(b, 100000)
	dec := NewDecoder(Config{})
	b.SetBytes(int64(len(capture)))
	b.ReportAllocs()
	b.ResetTimer()
	var packets, events int64
	for i := 0; i < b.N; i++ {
		st, err := dec(bytes.NewReader(capture), "bench.pcap", parse.Options{}, func(*event.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		packets += st.Records
		events += st.Events
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(packets)/s, "packets/s")
	b.ReportMetric(float64(events)/s, "events/s")
}
