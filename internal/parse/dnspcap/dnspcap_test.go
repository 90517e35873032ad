package dnspcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/miekg/dns"

	"winnow/internal/event"
)

// exchange is a query and its answer between c and the server.
func exchange(e ends, id uint16, name string, qtype uint16, at time.Duration, rrs ...string) (q, r pkt) {
	qm := query(id, name, qtype, true)
	return pkt{at, udpIP(e, qm)}, pkt{at + 20*time.Millisecond, udpIP(e.reverse(), answer(qm, dns.RcodeSuccess, rrs...))}
}

func TestLinkLayers(t *testing.T) {
	e4 := ends{client4, server4, 40000, 53}
	e6 := ends{client6, server6, 40001, 53}
	cases := []struct {
		name string
		lt   layers.LinkType
		wrap func([]byte) []byte
		e    ends
	}{
		{"ethernet ipv4", layers.LinkTypeEthernet, func(b []byte) []byte { return ether(b) }, e4},
		{"ethernet ipv6", layers.LinkTypeEthernet, func(b []byte) []byte { return ether(b) }, e6},
		{"vlan", layers.LinkTypeEthernet, func(b []byte) []byte { return ether(b, 7) }, e4},
		{"qinq", layers.LinkTypeEthernet, func(b []byte) []byte { return ether(b, 100, 7) }, e6},
		{"linux sll", layers.LinkTypeLinuxSLL, sll, e4},
		{"linux sll2", 276, sll2, e6},
		{"raw ip", layers.LinkTypeRaw, func(b []byte) []byte { return b }, e4},
		{"raw ipv6 (DLT 229)", 229, func(b []byte) []byte { return b }, e6},
		{"bsd loopback", layers.LinkTypeNull, func(b []byte) []byte { return append([]byte{2, 0, 0, 0}, b...) }, e4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, r := exchange(c.e, 0x1234, "www.Example.co.uk", dns.TypeA, 0, "www.example.co.uk. 300 IN A 192.0.2.7")
			q.data, r.data = c.wrap(q.data), c.wrap(r.data)
			for _, ng := range []bool{false, true} {
				var capture []byte
				if ng {
					capture = writePcapng(t, c.lt, []pkt{q, r})
				} else {
					capture = writePcap(t, c.lt, []pkt{q, r})
				}
				if !Magic(capture[:min(len(capture), 64)]) {
					t.Fatalf("Magic does not recognise the capture (pcapng=%v)", ng)
				}
				evs, st, err := decodeAll(t, Config{}, capture)
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) != 1 || st.Malformed != 0 || st.Records != 2 {
					t.Fatalf("pcapng=%v: %d events, stats %+v", ng, len(evs), st)
				}
				ev := evs[0]
				x := ev.DNS
				if ev.Action != event.ActDNSQuery || ev.SrcIP != c.e.src || ev.SrcPort != c.e.sport || x.ServerIP != c.e.dst {
					t.Errorf("addresses: %v %v:%d → %v", ev.Action, ev.SrcIP, ev.SrcPort, x.ServerIP)
				}
				if x.Name != "www.Example.co.uk" || x.Registered != "example.co.uk" || x.QType != "A" || x.ID != 0x1234 {
					t.Errorf("question: %+v", x)
				}
				if !x.Answered || x.RCode != "NOERROR" || x.RTT != 20*time.Millisecond || len(x.Answers) != 1 ||
					x.Answers[0] != (event.Answer{Type: "A", TTL: 300, Data: "192.0.2.7", Size: 4}) {
					t.Errorf("response: %+v", x)
				}
				if !x.EDNS || x.EDNSSize != 1232 || x.QuerySize <= 12 || x.RespSize <= x.QuerySize || x.Transport != "udp" {
					t.Errorf("sizes/EDNS: %+v", x)
				}
				if !ev.Time.Equal(t0) || ev.Ref.Line != 1 || ev.Ref.File != "test.pcap" {
					t.Errorf("time/ref: %v %+v", ev.Time, ev.Ref)
				}
			}
		})
	}
}

func TestIPv6ExtensionHeaders(t *testing.T) {
	e := ends{client6, server6, 40001, 53}
	qm := query(9, "a.example.org", dns.TypeAAAA, false)
	// Hand-made hop-by-hop header (PadN) between IPv6 and UDP.
	u := udpIP(e, qm)
	hbh := []byte{17, 0, 1, 4, 0, 0, 0, 0}
	p := append(append(append([]byte(nil), u[:40]...), hbh...), u[40:]...)
	p[6] = 0 // next header: hop-by-hop
	binary.BigEndian.PutUint16(p[4:], uint16(len(p)-40))
	evs, st, err := decodeAll(t, Config{}, writePcap(t, layers.LinkTypeRaw, []pkt{{0, p}}))
	if err != nil || len(evs) != 1 || evs[0].DNS.Name != "a.example.org" || st.Malformed != 0 {
		t.Fatalf("events %v stats %+v err %v", evs, st, err)
	}
}

func TestTCP(t *testing.T) {
	e := ends{client4, server4, 45000, 53}
	q1 := query(1, "one.example.com", dns.TypeA, false)
	q2 := query(2, "two.example.com", dns.TypeTXT, false)
	r1 := answer(q1, dns.RcodeSuccess, "one.example.com. 60 IN A 192.0.2.1")
	r2 := answer(q2, dns.RcodeNameError)
	frame := func(m []byte) []byte { return append(binary.BigEndian.AppendUint16(nil, uint16(len(m))), m...) }
	both := append(frame(q1), frame(q2)...) // two queries in one segment
	resp := append(frame(r1), frame(r2)...)
	cut := 7 // responses split across segments, mid length prefix of the second
	split := len(frame(r1)) + 1
	pkts := []pkt{
		{0, ether(tcpIP(e, 1000, true, false, nil))},
		{time.Millisecond, ether(tcpIP(e.reverse(), 5000, true, false, nil))},
		{2 * time.Millisecond, ether(tcpIP(e, 1001, false, false, both))},
		{2 * time.Millisecond, ether(tcpIP(e, 1001, false, false, both[:cut]))}, // retransmission
		{3 * time.Millisecond, ether(tcpIP(e.reverse(), 5001, false, false, resp[:split]))},
		{4 * time.Millisecond, ether(tcpIP(e.reverse(), 5001+uint32(split), false, false, resp[split:]))},
		{5 * time.Millisecond, ether(tcpIP(e, 1001+uint32(len(both)), false, true, nil))},
	}
	evs, st, err := decodeAll(t, Config{}, writePcap(t, layers.LinkTypeEthernet, pkts))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || st.Malformed != 0 {
		t.Fatalf("%d events, stats %+v", len(evs), st)
	}
	if x := evs[0].DNS; x.Name != "one.example.com" || x.Transport != "tcp" || !x.Answered || x.Answers[0].Data != "192.0.2.1" {
		t.Errorf("first: %+v", x)
	}
	if x := evs[1].DNS; x.Name != "two.example.com" || x.RCode != "NXDOMAIN" || x.QType != "TXT" {
		t.Errorf("second: %+v", x)
	}

	// A lost segment: counted, the stream resynchronises on the next one.
	gap := []pkt{
		{0, ether(tcpIP(e, 1001, false, false, frame(q1)[:5]))},
		{time.Millisecond, ether(tcpIP(e, 1001+100, false, false, frame(q2)))},
	}
	evs, st, _ = decodeAll(t, Config{}, writePcap(t, layers.LinkTypeEthernet, gap))
	if len(evs) != 1 || evs[0].DNS.Name != "two.example.com" || st.Detail["tcp_gaps"] != 1 {
		t.Errorf("gap: %d events, stats %+v", len(evs), st)
	}
}

func TestOrphans(t *testing.T) {
	e := ends{client4, server4, 40000, 53}
	other := netip4("198.51.100.9")
	qA, rA := exchange(e, 1, "used.example.com", dns.TypeA, 0, "used.example.com. 60 IN A 192.0.2.10")
	qB, rB := exchange(e, 2, "unused.example.com", dns.TypeA, time.Second, "unused.example.com. 60 IN A 192.0.2.20")
	qC := pkt{2 * time.Second, udpIP(e, query(3, "never.example.com", dns.TypeA, false))}
	qD := pkt{30 * time.Second, udpIP(e, query(4, "late.example.com", dns.TypeA, false))}
	tcpTo := func(dst string, at time.Duration) pkt {
		return pkt{at, tcpIP(ends{client4, netip4(dst), 50000, 443}, 1, true, false, nil)}
	}
	pkts := []pkt{qA, rA, tcpTo("192.0.2.10", 100*time.Millisecond), qB, rB, qC,
		tcpTo(other.String(), 20*time.Second), qD}
	evs, st, err := decodeAll(t, Config{}, writePcap(t, layers.LinkTypeRaw, pkts))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]event.Orphan{}
	for _, ev := range evs {
		got[ev.DNS.Name] = ev.DNS.Orphan
	}
	want := map[string]event.Orphan{
		"used.example.com":   event.OrphanNone,
		"unused.example.com": event.OrphanUnused,
		"never.example.com":  event.OrphanUnanswered,
		"late.example.com":   event.OrphanNone, // the capture ended before its timeout
	}
	for n, w := range want {
		if g, ok := got[n]; !ok || g != w {
			t.Errorf("%s: orphan %v (present %v), want %v", n, g, ok, w)
		}
	}
	if st.Detail["unanswered"] != 1 || st.Detail["unanswered_at_end"] != 1 || st.Detail["unused_answers"] != 1 {
		t.Errorf("detail %v", st.Detail)
	}
	// Events come out in query order.
	for i := 1; i < len(evs); i++ {
		if evs[i].Time.Before(evs[i-1].Time) {
			t.Errorf("event %d out of order", i)
		}
	}
	// Without other traffic from the client, no answer is "unused".
	evs, _, _ = decodeAll(t, Config{}, writePcap(t, layers.LinkTypeRaw, []pkt{qB, rB, qD}))
	for _, ev := range evs {
		if ev.DNS.Orphan == event.OrphanUnused {
			t.Errorf("%s unused without any other traffic in the capture", ev.DNS.Name)
		}
	}
}

func TestUnmatchedResponseAndRetransmission(t *testing.T) {
	e := ends{client4, server4, 40000, 53}
	q, r := exchange(e, 7, "x.example.net", dns.TypeMX, 0, "x.example.net. 60 IN MX 10 mail.example.net.")
	evs, st, _ := decodeAll(t, Config{}, writePcap(t, layers.LinkTypeRaw, []pkt{q, q, r, r}))
	if len(evs) != 2 || evs[0].Action != event.ActDNSQuery || evs[1].Action != event.ActDNSResponse {
		t.Fatalf("events %+v", evs)
	}
	if evs[1].SrcIP != client4 || evs[1].DNS.Answers[0].Data != "mail.example.net" {
		t.Errorf("response event: %v %+v", evs[1].SrcIP, evs[1].DNS)
	}
	if st.Detail["retransmissions"] != 1 || st.Detail["unmatched_responses"] != 1 {
		t.Errorf("detail %v", st.Detail)
	}
}

func TestMalformedCountedNotFatal(t *testing.T) {
	e := ends{client4, server4, 40000, 53}
	good, _ := exchange(e, 1, "ok.example.com", dns.TypeA, 0)
	garbage := udpIP(e, []byte{1, 2, 3})
	badName := udpIP(e, []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1}) // self-pointer
	frag := udpIP(e, query(5, "frag.example.com", dns.TypeA, false))
	frag[6] |= 0x20 // more fragments
	shortIP := []byte{0x45, 0, 0}
	arp := append(make([]byte, 12), 0x08, 0x06, 0, 1)
	pkts := []pkt{{0, ether(garbage)}, {0, ether(badName)}, {0, ether(frag)}, {0, shortIP}, {0, arp}, {time.Millisecond, ether(good.data)}}
	pkts[3].data = append(append(make([]byte, 12), 0x08, 0x00), shortIP...)
	evs, st, err := decodeAll(t, Config{}, writePcap(t, layers.LinkTypeEthernet, pkts))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].DNS.Name != "ok.example.com" {
		t.Fatalf("events %+v", evs)
	}
	if st.Malformed != 4 || st.Detail["fragments"] != 1 || st.Skipped != 1 || len(st.Samples) != 4 {
		t.Errorf("stats %+v", st)
	}
	if st.Samples[0].Line != 1 || st.Samples[0].File != "test.pcap" {
		t.Errorf("sample %+v", st.Samples[0])
	}
}

func TestSnapLengthTruncation(t *testing.T) {
	e := ends{client4, server4, 40000, 53}
	q, r := exchange(e, 1, "t.example.com", dns.TypeA, 0, "t.example.com. 60 IN A 192.0.2.1")
	capture := writePcap(t, layers.LinkTypeRaw, []pkt{q, r})
	// Cut the response's record to 60 bytes (snap length), keeping its
	// original length: the question survives, the answer does not.
	off := 24 + 16 + len(q.data)
	binary.LittleEndian.PutUint32(capture[off+8:], 60)
	capture = append(capture[:off+16+60:off+16+60], []byte{}...)
	evs, st, err := decodeAll(t, Config{}, capture)
	if err != nil || len(evs) != 1 || !evs[0].DNS.Answered {
		t.Fatalf("events %+v stats %+v err %v", evs, st, err)
	}
	if st.Detail["truncated_packets"] != 1 {
		t.Errorf("detail %v", st.Detail)
	}
}

func TestTruncatedFile(t *testing.T) {
	e := ends{client4, server4, 40000, 53}
	q, r := exchange(e, 1, "a.example.com", dns.TypeA, 0)
	q2, _ := exchange(e, 2, "b.example.com", dns.TypeA, time.Second)
	capture := writePcap(t, layers.LinkTypeRaw, []pkt{q, r, q2})
	evs, st, err := decodeAll(t, Config{}, capture[:len(capture)-5])
	if err != nil || len(evs) != 1 || st.Malformed != 1 || st.Detail["truncated_file"] != 1 {
		t.Fatalf("events %d stats %+v err %v", len(evs), st, err)
	}
	// A corrupt record header is an error, after the events before it.
	bad := append([]byte(nil), capture...)
	off := 24 + 16 + len(q.data) + 16 + len(r.data)
	binary.LittleEndian.PutUint32(bad[off+8:], 1<<30)
	evs, _, err = decodeAll(t, Config{}, bad)
	if err == nil || len(evs) != 1 {
		t.Errorf("corrupt header: %d events, err %v", len(evs), err)
	}
	// Not a capture at all.
	if _, _, err := decodeAll(t, Config{}, []byte("hello world, this is text")); !errors.Is(err, ErrNotCapture) {
		t.Errorf("text: err %v", err)
	}
}

func TestMagic(t *testing.T) {
	e := ends{client4, server4, 40000, 53}
	q, _ := exchange(e, 1, "a.example.com", dns.TypeA, 0)
	for _, b := range [][]byte{writePcap(t, layers.LinkTypeRaw, []pkt{q}), writePcapng(t, layers.LinkTypeRaw, []pkt{q})} {
		if !Magic(b[:64]) {
			t.Errorf("not recognised: % x", b[:16])
		}
	}
	for _, s := range []string{"", "abc", "Nov 30 12:00:00 host sshd[1]: x", "\xd4\xc3\xb2\xa1\x09\x00"} {
		if Magic([]byte(s)) && len(s) >= 8 {
			t.Errorf("%q recognised as a capture", s)
		}
	}
}

func TestMaxPending(t *testing.T) {
	e := ends{client4, server4, 40000, 53}
	var pkts []pkt
	for i := 0; i < 10; i++ {
		pkts = append(pkts, pkt{time.Duration(i) * time.Millisecond, udpIP(e, query(uint16(i), "p.example.com", dns.TypeA, false))})
	}
	evs, st, _ := decodeAll(t, Config{MaxPending: 4}, writePcap(t, layers.LinkTypeRaw, pkts))
	if len(evs) != 10 || st.Detail["pending_evicted"] != 6 {
		t.Errorf("%d events, detail %v", len(evs), st.Detail)
	}
}

func netip4(s string) netipAddr { return mustAddr(s) }

func TestMessageDecoder(t *testing.T) {
	qm := query(3, "mixed.Case.example", dns.TypeNULL, true)
	var m msg
	if err := m.decode(qm); err != nil || string(m.name) != "mixed.Case.example" || m.qtype != dns.TypeNULL || !m.edns || m.ednsUDP != 1232 {
		t.Fatalf("decode: %v %+v", err, m)
	}
	// Escapes: a label with a dot, a backslash and binary bytes.
	raw := []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4, 'a', '.', '\\', 0xff, 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}
	if err := m.decode(raw); err != nil || string(m.name) != `a\.\\\255.com` {
		t.Fatalf("escapes: %v %q", err, m.name)
	}
	for _, b := range [][]byte{nil, qm[:11], qm[:14], append(append([]byte(nil), qm[:12]...), 0xc0, 0x20, 0, 1, 0, 1)} {
		if err := m.decode(b); err == nil {
			t.Errorf("% x decoded", b)
		}
	}
	if !bytes.Equal(appendLabel(nil, []byte("ok")), []byte("ok")) {
		t.Error("appendLabel")
	}
}
