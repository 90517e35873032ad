package packet

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func frame(vlans int, et uint16, payload []byte) []byte {
	b := make([]byte, 12)
	for i := 0; i < vlans; i++ {
		b = append(b, 0x81, 0x00, 0, byte(i+1))
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, payload...)
}

func ipv4TCP() []byte {
	b := make([]byte, 40)
	b[0], b[9] = 0x45, ProtoTCP
	binary.BigEndian.PutUint16(b[2:], 40)
	copy(b[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(b[20:], 1234)
	binary.BigEndian.PutUint16(b[22:], 80)
	b[32], b[33] = 5<<4, 0x02
	return b
}

func TestDecode(t *testing.T) {
	var p Packet
	f := func(name string, fr []byte, lt layers.LinkType, want Status, check func()) {
		t.Helper()
		st, why := Decode(fr, lt, false, &p)
		if st != want {
			t.Errorf("%s: status %d (%s), want %d", name, st, why, want)
			return
		}
		if check != nil {
			check()
		}
	}
	ip := ipv4TCP()
	f("ethernet", frame(0, EtherIPv4, ip), layers.LinkTypeEthernet, IP, func() {
		if p.Src.String() != "10.0.0.1" || p.Proto != ProtoTCP || len(p.L4) != 20 || p.IPLen != 40 {
			t.Errorf("%+v", p)
		}
	})
	f("two vlans and padding", frame(2, EtherIPv4, append(ip, 0, 0, 0, 0)), layers.LinkTypeEthernet, IP, func() {
		if len(p.L4) != 20 {
			t.Errorf("padding kept: %d", len(p.L4))
		}
	})
	f("raw", ip, layers.LinkTypeRaw, IP, nil)
	f("truncated", ip[:30], layers.LinkTypeRaw, IP, func() {
		if !p.Truncated {
			t.Error("not marked truncated")
		}
	})
	arp := make([]byte, 28)
	copy(arp, []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(arp[14:], []byte{10, 0, 0, 5})
	copy(arp[24:], []byte{10, 0, 0, 9})
	f("arp", frame(0, EtherARP, arp), layers.LinkTypeEthernet, ARP, func() {
		if p.Src.String() != "10.0.0.5" || p.Dst.String() != "10.0.0.9" || p.ARPOp != 1 {
			t.Errorf("%+v", p)
		}
	})
	f("lldp", frame(0, 0x88cc, make([]byte, 30)), layers.LinkTypeEthernet, NotIP, nil)
	f("short", []byte{1, 2}, layers.LinkTypeEthernet, Malformed, nil)
	f("unknown link", ip, layers.LinkType(147), UnsupportedLink, nil)
	frag := append([]byte(nil), ip...)
	frag[6] = 0x20 // more fragments
	f("fragment", frag, layers.LinkTypeRaw, IP, func() {
		if !p.Fragment || !p.FirstFragment {
			t.Errorf("%+v", p)
		}
	})
	// IPv6 with a hop-by-hop header then UDP.
	v6 := make([]byte, 40+8+8)
	v6[0], v6[6] = 0x60, 0
	binary.BigEndian.PutUint16(v6[4:], 16)
	v6[40] = ProtoUDP
	f("ipv6 extension header", v6, layers.LinkTypeRaw, IP, func() {
		if p.Proto != ProtoUDP || len(p.L4) != 8 {
			t.Errorf("%+v", p)
		}
	})
}

// BenchmarkDecode and BenchmarkGopacket compare the hand-written link/IP
// decoder with gopacket's DecodingLayerParser on the same frame: the
// reason the shared layer is hand-written.
func BenchmarkDecode(b *testing.B) {
	fr := frame(0, EtherIPv4, ipv4TCP())
	var p Packet
	b.SetBytes(int64(len(fr)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if st, _ := Decode(fr, layers.LinkTypeEthernet, false, &p); st != IP {
			b.Fatal(st)
		}
	}
}

func BenchmarkGopacket(b *testing.B) {
	fr := frame(0, EtherIPv4, ipv4TCP())
	var eth layers.Ethernet
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	var udp layers.UDP
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &udp)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 4)
	b.SetBytes(int64(len(fr)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := parser.DecodeLayers(fr, &decoded); err != nil {
			b.Fatal(err)
		}
	}
}
