package flow

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"winnow/internal/event"
	"winnow/internal/parse"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type pkt struct {
	at   time.Duration
	data []byte
}

// ip4 builds an IPv4 packet (no link layer) carrying l4.
func ip4(src, dst string, proto uint8, l4 []byte) []byte {
	b := make([]byte, 20, 20+len(l4))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(l4)))
	b[8] = 64
	b[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	return append(b, l4...)
}

func tcp(sp, dp uint16, flags uint8) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, sp)
	binary.BigEndian.PutUint16(b[2:], dp)
	b[12] = 5 << 4
	b[13] = flags
	return b
}

func udp(sp, dp uint16, payload int) []byte {
	b := make([]byte, 8+payload)
	binary.BigEndian.PutUint16(b, sp)
	binary.BigEndian.PutUint16(b[2:], dp)
	binary.BigEndian.PutUint16(b[4:], uint16(8+payload))
	return b
}

func icmp(typ, code uint8, rest []byte) []byte {
	return append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, rest...)
}

func writePcap(t testing.TB, pkts []pkt) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeRaw); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(p.at), CaptureLength: len(p.data), Length: len(p.data)}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func decode(t testing.TB, cfg Config, pkts []pkt) ([]event.Event, parse.DecodeStats) {
	t.Helper()
	var evs []event.Event
	st, err := NewDecoder(cfg)(bytes.NewReader(writePcap(t, pkts)), "t.pcap", parse.Options{}, func(ev *event.Event) error {
		evs = append(evs, *ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, st
}

const (
	syn    = event.FlagSYN
	synack = event.FlagSYN | event.FlagACK
	ack    = event.FlagACK
	fin    = event.FlagFIN | event.FlagACK
	rst    = event.FlagRST
	rstack = event.FlagRST | event.FlagACK
)

func TestTCPStates(t *testing.T) {
	c, s := "10.0.0.1", "10.0.0.2"
	ms := time.Millisecond
	f := func(name, want string, seq ...[2]int) {
		t.Helper()
		var pkts []pkt
		for i, x := range seq { // x = {direction (0 c→s, 1 s→c), flags}
			src, dst, sp, dp := c, s, uint16(40000), uint16(80)
			if x[0] == 1 {
				src, dst, sp, dp = s, c, 80, 40000
			}
			pkts = append(pkts, pkt{time.Duration(i) * ms, ip4(src, dst, 6, tcp(sp, dp, uint8(x[1])))})
		}
		evs, _ := decode(t, Config{}, pkts)
		if len(evs) != 1 {
			t.Fatalf("%s: %d flows", name, len(evs))
		}
		if got := evs[0].Flow.State; got != want {
			t.Errorf("%s: state %s, want %s", name, got, want)
		}
	}
	f("attempt", "S0", [2]int{0, syn})
	f("retried attempt", "S0", [2]int{0, syn}, [2]int{0, syn})
	f("rejected", "REJ", [2]int{0, syn}, [2]int{1, rstack})
	f("complete", "SF", [2]int{0, syn}, [2]int{1, synack}, [2]int{0, ack}, [2]int{0, fin}, [2]int{1, fin}, [2]int{0, ack})
	f("established", "S1", [2]int{0, syn}, [2]int{1, synack}, [2]int{0, ack})
	f("orig reset", "RSTO", [2]int{0, syn}, [2]int{1, synack}, [2]int{0, rst})
	f("resp reset", "RSTR", [2]int{0, syn}, [2]int{1, synack}, [2]int{0, ack}, [2]int{1, rst})
	f("half-closed", "S2", [2]int{0, syn}, [2]int{1, synack}, [2]int{0, fin})
	f("syn then rst", "RSTOS0", [2]int{0, syn}, [2]int{0, rst})
	f("syn-ack only", "OTH", [2]int{1, synack})
	f("mid-stream", "OTH", [2]int{0, ack}, [2]int{1, ack})
}

func TestFlowFields(t *testing.T) {
	evs, st := decode(t, Config{}, []pkt{
		{0, ip4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 80, syn))},
		{time.Millisecond, ip4("10.0.0.2", "10.0.0.1", 6, tcp(80, 40000, synack))},
		{2 * time.Millisecond, ip4("10.0.0.1", "10.0.0.2", 6, append(tcp(40000, 80, ack), make([]byte, 100)...))},
	})
	if len(evs) != 1 || st.Records != 3 || st.Events != 1 {
		t.Fatalf("%d events, %+v", len(evs), st)
	}
	ev := evs[0]
	x := ev.Flow
	if ev.Kind != event.KindFlow || ev.Action != event.ActFlow || !ev.Time.Equal(t0) || !x.End.Equal(t0.Add(2*time.Millisecond)) {
		t.Errorf("event %+v", ev)
	}
	if ev.SrcIP.String() != "10.0.0.1" || ev.SrcPort != 40000 || ev.DstIP.String() != "10.0.0.2" || ev.DstPort != 80 || ev.Ref.Line != 1 {
		t.Errorf("endpoints %v:%d -> %v:%d line %d", ev.SrcIP, ev.SrcPort, ev.DstIP, ev.DstPort, ev.Ref.Line)
	}
	if x.Transport != "tcp" || x.OrigPackets != 2 || x.RespPackets != 1 || x.OrigBytes != 40+140 || x.RespBytes != 40 || x.OrigFlags != syn|ack || x.RespFlags != synack {
		t.Errorf("flow %+v", x)
	}
	if st.Detail["tcp_flows"] != 1 || st.Detail["tcp_packets"] != 3 {
		t.Errorf("detail %v", st.Detail)
	}
}

// A UDP probe answered by ICMP port unreachable: the error is attributed
// to the probe's flow, not reported as a flow of its own.
func TestICMPUnreachableAttributed(t *testing.T) {
	probe := ip4("10.0.0.1", "10.0.0.9", 17, udp(50000, 161, 10))
	evs, st := decode(t, Config{}, []pkt{
		{0, probe},
		{time.Millisecond, ip4("10.0.0.9", "10.0.0.1", 1, icmp(3, 3, probe[:28]))},
	})
	if len(evs) != 1 {
		t.Fatalf("%d flows", len(evs))
	}
	x := evs[0].Flow
	if !x.Unreachable || x.UnreachCode != 3 || evs[0].SrcIP.String() != "10.0.0.1" || evs[0].DstPort != 161 || x.State != "S0" {
		t.Errorf("flow %+v", x)
	}
	if st.Detail["icmp_errors_attributed"] != 1 {
		t.Errorf("detail %v", st.Detail)
	}
	// The probe itself not captured: the flow comes from the quoted header.
	evs, st = decode(t, Config{}, []pkt{{0, ip4("10.0.0.9", "10.0.0.1", 1, icmp(3, 3, probe[:28]))}})
	if len(evs) != 1 || evs[0].SrcIP.String() != "10.0.0.1" || !evs[0].Flow.Unreachable || evs[0].Flow.OrigPackets != 0 {
		t.Fatalf("%+v %+v", evs, st)
	}
}

func TestReversedReplies(t *testing.T) {
	evs, _ := decode(t, Config{}, []pkt{
		{0, ip4("198.51.100.7", "192.0.2.1", 17, udp(123, 45000, 400))},   // NTP reply, no request
		{0, ip4("198.51.100.8", "192.0.2.1", 6, tcp(443, 45001, synack))}, // SYN-ACK, no SYN
		{0, ip4("198.51.100.9", "192.0.2.1", 1, icmp(0, 0, nil))},         // echo reply
		{0, ip4("192.0.2.1", "198.51.100.7", 17, udp(45002, 53, 30))},     // a request
	})
	if len(evs) != 4 {
		t.Fatalf("%d flows", len(evs))
	}
	rev := 0
	for _, ev := range evs {
		if ev.Flow.Reversed {
			rev++
			if ev.DstIP.String() != "192.0.2.1" {
				t.Errorf("reversed flow's victim is %v", ev.DstIP)
			}
		}
	}
	if rev != 3 {
		t.Errorf("%d reversed, want 3", rev)
	}
}

// Long flows are cut every ActiveTimeout; records come out by start time.
func TestActiveTimeoutAndOrder(t *testing.T) {
	var pkts []pkt
	for i := 0; i < 150; i++ { // one packet a second for 150 s
		pkts = append(pkts, pkt{time.Duration(i) * time.Second, ip4("10.0.0.1", "10.0.0.2", 17, udp(5000, 5001, 10))})
		if i%10 == 5 {
			pkts = append(pkts, pkt{time.Duration(i) * time.Second, ip4("10.0.0.3", "10.0.0.4", 6, tcp(uint16(1000+i), 22, syn))})
		}
	}
	evs, st := decode(t, Config{}, pkts)
	var long []event.Event
	for i, ev := range evs {
		if i > 0 && ev.Time.Before(evs[i-1].Time) {
			t.Fatalf("event %d at %v before %v", i, ev.Time, evs[i-1].Time)
		}
		if ev.Flow.Transport == "udp" {
			long = append(long, ev)
		}
	}
	if len(long) != 3 || !long[0].Flow.Partial || long[0].Flow.OrigPackets != 60 || long[2].Flow.OrigPackets != 30 {
		t.Fatalf("long flow records %d: %+v", len(long), long)
	}
	if st.Detail["flows_cut_by_active_timeout"] != 2 {
		t.Errorf("detail %v", st.Detail)
	}
}

// A flood of distinct spoofed sources: the table stays at MaxFlows, the
// excess leaves early (counted), and every packet is in some flow.
func TestTableBounded(t *testing.T) {
	var pkts []pkt
	for i := 0; i < 5000; i++ {
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
		pkts = append(pkts, pkt{time.Duration(i) * time.Microsecond, ip4(src, "192.0.2.1", 6, tcp(uint16(i), 80, syn))})
	}
	dec := NewDecoder(Config{MaxFlows: 100})
	st, err := dec(bytes.NewReader(writePcap(t, pkts)), "t", parse.Options{}, func(*event.Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 5000 || st.Detail["flows_released_early_table_full"] < 4800 {
		t.Errorf("stats %+v", st)
	}
}
