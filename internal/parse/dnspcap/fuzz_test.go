package dnspcap

import (
	"bytes"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"winnow/internal/event"
	"winnow/internal/parse"
)

func seedCaptures(f *testing.F) {
	e := ends{client4, server4, 40000, 53}
	q, r := exchange(e, 1, "a.example.com", dns.TypeA, 0, "a.example.com. 60 IN A 192.0.2.1")
	q6, r6 := exchange(ends{client6, server6, 40000, 53}, 2, "b.example.com", dns.TypeTXT, time.Millisecond, `b.example.com. 60 IN TXT "hello"`)
	f.Add(writePcap(f, layers.LinkTypeEthernet, []pkt{{0, ether(q.data, 5)}, {1, ether(r.data)}}))
	f.Add(writePcap(f, layers.LinkTypeRaw, []pkt{q6, r6}))
	f.Add(writePcapng(f, layers.LinkTypeLinuxSLL, []pkt{{0, sll(q.data)}, {1, sll(r.data)}}))
	f.Add(writePcap(f, layers.LinkTypeRaw, []pkt{{0, tcpIP(e, 1, false, false, append([]byte{0, byte(len(query(1, "t.example", 1, false)))}, query(1, "t.example", 1, false)...))}}))
}

// FuzzDecodeCapture feeds arbitrary bytes to the capture reader and the
// whole decoding stack: it must never panic, and the counts must add up.
func FuzzDecodeCapture(f *testing.F) {
	seedCaptures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		n := int64(0)
		st, _ := NewDecoder(Config{MaxPending: 8, MaxTCPFlows: 4})(bytes.NewReader(b), "fuzz.pcap", parse.Options{}, func(ev *event.Event) error {
			n++
			if ev.DNS == nil || ev.Kind != event.KindDNS {
				t.Fatalf("bad event %+v", ev)
			}
			return nil
		})
		if n != st.Events || st.Malformed > st.Records {
			t.Fatalf("events %d vs stats %+v", n, st)
		}
	})
}

// FuzzMessage feeds arbitrary bytes to the DNS message decoder.
func FuzzMessage(f *testing.F) {
	f.Add(query(1, "www.example.com", dns.TypeA, true))
	qm := query(2, "x.example.org", dns.TypeMX, false)
	f.Add(answer(qm, dns.RcodeSuccess, "x.example.org. 60 IN MX 10 mail.example.org.", "x.example.org. 60 IN CNAME y.example.org."))
	f.Add(answer(qm, dns.RcodeNameError))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m msg
		if err := m.decode(b); err != nil {
			return
		}
		if len(m.name) > maxNameLen || m.nans > maxAnswers {
			t.Fatalf("name %d bytes, %d answers", len(m.name), m.nans)
		}
		for i := 0; i < m.nans; i++ {
			_ = answerData(b, &m.answers[i], nil)
			_, _ = answerAddr(b, &m.answers[i])
		}
	})
}
