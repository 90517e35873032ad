package flow

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// benchPackets is a capture of about n packets: TCP connections (handshake,
// data, close) from 500 clients to 50 servers, UDP request/response pairs
// and pings.
func benchPackets(tb testing.TB, n int) []byte {
	var pkts []pkt
	at := time.Duration(0)
	for i := 0; len(pkts) < n; i++ {
		c := fmt.Sprintf("10.1.%d.%d", i%500/250, 1+i%250)
		s := fmt.Sprintf("192.0.2.%d", 1+i%50)
		cp := uint16(20000 + i%40000)
		step := func(src, dst string, l4 []byte, proto uint8) {
			at += 20 * time.Microsecond
			pkts = append(pkts, pkt{at, ip4(src, dst, proto, l4)})
		}
		switch i % 4 {
		case 0, 1:
			step(c, s, tcp(cp, 443, syn), 6)
			step(s, c, tcp(443, cp, synack), 6)
			step(c, s, append(tcp(cp, 443, ack|event.FlagPSH), make([]byte, 300)...), 6)
			step(s, c, append(tcp(443, cp, ack|event.FlagPSH), make([]byte, 1200)...), 6)
			step(c, s, tcp(cp, 443, fin), 6)
			step(s, c, tcp(443, cp, fin), 6)
			step(c, s, tcp(cp, 443, ack), 6)
		case 2:
			step(c, s, udp(cp, 53, 40), 17)
			step(s, c, udp(53, cp, 120), 17)
		case 3:
			step(c, s, icmp(8, 0, []byte{byte(i), byte(i >> 8)}), 1)
			step(s, c, icmp(0, 0, []byte{byte(i), byte(i >> 8)}), 1)
		}
	}
	return writePcap(tb, pkts[:n])
}

// BenchmarkAssemble measures capture bytes → flow events on one core
// (packets/s is the figure the README quotes).
func BenchmarkAssemble(b *testing.B) {
	capture := benchPackets(b, 200000)
	dec := NewDecoder(Config{})
	b.SetBytes(int64(len(capture)))
	b.ReportAllocs()
	b.ResetTimer()
	var packets, flows int64
	for i := 0; i < b.N; i++ {
		st, err := dec(bytes.NewReader(capture), "bench.pcap", parse.Options{}, func(*event.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		packets += st.Records
		flows += st.Events
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(packets)/s, "packets/s")
	b.ReportMetric(float64(flows)/s, "flows/s")
}
