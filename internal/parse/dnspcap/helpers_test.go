package dnspcap

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/miekg/dns"

	"winnow/internal/event"
	"winnow/internal/parse"
)

// The helpers build captures with gopacket's layer serialisers and
// miekg/dns, an implementation independent of the decoder's.

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

type pkt struct {
	at   time.Duration
	data []byte
}

// query builds a DNS query message.
func query(id uint16, name string, qtype uint16, edns bool) []byte {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Id = id
	if edns {
		m.SetEdns0(1232, false)
	}
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

// answer builds the response to q with the given answer records (zone
// file syntax) and rcode.
func answer(q []byte, rcode int, rrs ...string) []byte {
	in := new(dns.Msg)
	if err := in.Unpack(q); err != nil {
		panic(err)
	}
	m := new(dns.Msg)
	m.SetReply(in)
	m.Rcode = rcode
	for _, s := range rrs {
		r, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		m.Answer = append(m.Answer, r)
	}
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

type ends struct {
	src, dst     netip.Addr
	sport, dport uint16
}

func (e ends) reverse() ends { return ends{e.dst, e.src, e.dport, e.sport} }

func ipLayers(e ends, proto layers.IPProtocol) (gopacket.SerializableLayer, gopacket.NetworkLayer, layers.EthernetType) {
	if e.src.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.IP(e.src.AsSlice()), DstIP: net.IP(e.dst.AsSlice())}
		return ip, ip, layers.EthernetTypeIPv4
	}
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: net.IP(e.src.AsSlice()), DstIP: net.IP(e.dst.AsSlice())}
	return ip, ip, layers.EthernetTypeIPv6
}

func serialize(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// udpIP is an IP packet carrying payload over UDP.
func udpIP(e ends, payload []byte) []byte {
	ip, nl, _ := ipLayers(e, layers.IPProtocolUDP)
	u := &layers.UDP{SrcPort: layers.UDPPort(e.sport), DstPort: layers.UDPPort(e.dport)}
	_ = u.SetNetworkLayerForChecksum(nl)
	return serialize(ip, u, gopacket.Payload(payload))
}

// tcpIP is an IP packet carrying a TCP segment.
func tcpIP(e ends, seq uint32, syn, fin bool, payload []byte) []byte {
	ip, nl, _ := ipLayers(e, layers.IPProtocolTCP)
	t := &layers.TCP{SrcPort: layers.TCPPort(e.sport), DstPort: layers.TCPPort(e.dport), Seq: seq, SYN: syn, FIN: fin, ACK: !syn, Window: 65535}
	_ = t.SetNetworkLayerForChecksum(nl)
	return serialize(ip, t, gopacket.Payload(payload))
}

// ether wraps an IP packet in Ethernet, with VLAN tags if given.
func ether(ipPkt []byte, vlans ...uint16) []byte {
	et := layers.EthernetTypeIPv4
	if ipPkt[0]>>4 == 6 {
		et = layers.EthernetTypeIPv6
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: et}
	ls := []gopacket.SerializableLayer{eth}
	if len(vlans) > 0 {
		eth.EthernetType = layers.EthernetTypeDot1Q
		for i, v := range vlans {
			next := layers.EthernetTypeDot1Q
			if i == len(vlans)-1 {
				next = et
			}
			ls = append(ls, &layers.Dot1Q{VLANIdentifier: v, Type: next})
		}
	}
	ls = append(ls, gopacket.Payload(ipPkt))
	return serialize(ls...)
}

// sll wraps an IP packet in a Linux cooked (v1) header.
func sll(ipPkt []byte) []byte {
	h := make([]byte, 16)
	binary.BigEndian.PutUint16(h[0:], 0) // to us
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	et := uint16(0x0800)
	if ipPkt[0]>>4 == 6 {
		et = 0x86dd
	}
	binary.BigEndian.PutUint16(h[14:], et)
	return append(h, ipPkt...)
}

// sll2 wraps an IP packet in a Linux cooked v2 header.
func sll2(ipPkt []byte) []byte {
	h := make([]byte, 20)
	et := uint16(0x0800)
	if ipPkt[0]>>4 == 6 {
		et = 0x86dd
	}
	binary.BigEndian.PutUint16(h[0:], et)
	return append(h, ipPkt...)
}

// writePcap writes packets as a classic pcap file.
func writePcap(t testing.TB, lt layers.LinkType, pkts []pkt) []byte {
	t.Helper()
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(65535, lt); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(p.at), CaptureLength: len(p.data), Length: len(p.data)}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// writePcapng writes packets as a pcapng file.
func writePcapng(t testing.TB, lt layers.LinkType, pkts []pkt) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, lt)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(p.at), CaptureLength: len(p.data), Length: len(p.data)}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// decodeAll decodes a capture and returns its events (copied) and stats.
func decodeAll(t testing.TB, cfg Config, capture []byte) ([]event.Event, parse.DecodeStats, error) {
	t.Helper()
	var evs []event.Event
	st, err := NewDecoder(cfg)(bytes.NewReader(capture), "test.pcap", parse.Options{}, func(ev *event.Event) error {
		evs = append(evs, *ev)
		return nil
	})
	return evs, st, err
}

var (
	client4 = netip.MustParseAddr("10.0.0.5")
	server4 = netip.MustParseAddr("10.0.0.53")
	client6 = netip.MustParseAddr("2001:db8::5")
	server6 = netip.MustParseAddr("2001:db8::53")
)

type netipAddr = netip.Addr

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
