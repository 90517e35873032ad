package packet

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/gopacket/gopacket/layers"
)

// Ethernet types.
const (
	EtherIPv4  = 0x0800
	EtherARP   = 0x0806
	EtherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100
)

// IP protocols.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// IPv6 extension headers.
const (
	ip6HopByHop   = 0
	ip6Routing    = 43
	ip6Fragment   = 44
	ip6DestOpts   = 60
	ip6AH         = 51
	ip6Mobility   = 135
	maxIP6Headers = 8
)

// Link types not named by gopacket's layers package.
const (
	linkTypeSLL2    = 276
	linkTypeIPv4    = 228
	linkTypeIPv6    = 229
	linkTypeRawAlt1 = 12 // DLT_RAW on some BSDs
	linkTypeRawAlt2 = 14 // DLT_RAW on OpenBSD
)

// Status says what Decode found.
type Status uint8

// Statuses.
const (
	// IP: an IPv4 or IPv6 packet; Src, Dst, Proto, IPLen and L4 are set
	// (Fragment for a fragment, whose L4 is the fragment's payload).
	IP Status = iota
	// ARP: an ARP packet over Ethernet for IPv4; Src/Dst are the sender
	// and target protocol addresses, ARPOp the operation.
	ARP
	// NotIP: a frame of another protocol (LLDP, STP, ...); EtherType says
	// which when the link layer has one.
	NotIP
	// UnsupportedLink: a link type the decoder does not know.
	UnsupportedLink
	// Malformed: a header is short or inconsistent; Decode returns why.
	Malformed
)

// Packet is a decoded frame. Decode overwrites every field; L4 aliases the
// frame's bytes.
type Packet struct {
	EtherType uint16 // link-layer protocol when the link has one (0 for raw IP)
	Src, Dst  netip.Addr
	Proto     uint8 // IP protocol (next header after IPv6 extension headers)
	IPLen     int   // the IP packet's length on the wire, from its header
	TTL       uint8 // IPv4 TTL or IPv6 hop limit
	L4        []byte
	// Truncated: the capture holds fewer bytes than the IP header says
	// (snap length) — L4 is cut short.
	Truncated bool
	// Fragment: an IP fragment; FirstFragment when its offset is 0 (its
	// L4 then starts with the transport header).
	Fragment, FirstFragment bool
	ARPOp                   uint16
}

// Decode strips the link layer of frame (of link type lt) and decodes the
// network layer into p. truncated says the capture record was cut by the
// snap length. For Malformed it returns why.
func Decode(frame []byte, lt layers.LinkType, truncated bool, p *Packet) (Status, string) {
	*p = Packet{Truncated: truncated}
	b := frame
	var et uint16
	switch lt {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			return Malformed, "short Ethernet header"
		}
		et = binary.BigEndian.Uint16(b[12:])
		b = b[14:]
		for et == etherVLAN || et == etherQinQ || et == etherQinQ2 {
			if len(b) < 4 {
				return Malformed, "short VLAN tag"
			}
			et = binary.BigEndian.Uint16(b[2:])
			b = b[4:]
		}
	case layers.LinkTypeLinuxSLL:
		if len(b) < 16 {
			return Malformed, "short Linux SLL header"
		}
		et = binary.BigEndian.Uint16(b[14:])
		b = b[16:]
	case linkTypeSLL2:
		if len(b) < 20 {
			return Malformed, "short Linux SLL2 header"
		}
		et = binary.BigEndian.Uint16(b[0:])
		b = b[20:]
	case layers.LinkTypeRaw, linkTypeRawAlt1, linkTypeRawAlt2, linkTypeIPv4, linkTypeIPv6:
		return p.ip(b)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(b) < 4 {
			return Malformed, "short loopback header"
		}
		return p.ip(b[4:])
	default:
		return UnsupportedLink, ""
	}
	p.EtherType = et
	switch et {
	case EtherIPv4, EtherIPv6:
		return p.ip(b)
	case EtherARP:
		return p.arp(b)
	}
	return NotIP, ""
}

// arp decodes an Ethernet/IPv4 ARP packet.
func (p *Packet) arp(b []byte) (Status, string) {
	if len(b) < 8 {
		return Malformed, "short ARP header"
	}
	htype, ptype := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	hlen, plen := int(b[4]), int(b[5])
	if htype != 1 || ptype != EtherIPv4 || hlen != 6 || plen != 4 {
		return NotIP, "" // ARP for another hardware or protocol
	}
	if len(b) < 28 {
		return Malformed, "short ARP packet"
	}
	p.ARPOp = binary.BigEndian.Uint16(b[6:])
	p.Src = netip.AddrFrom4([4]byte(b[14:18]))
	p.Dst = netip.AddrFrom4([4]byte(b[24:28]))
	p.IPLen = 28
	return ARP, ""
}

// ip decodes an IPv4 or IPv6 packet (by its version nibble).
func (p *Packet) ip(b []byte) (Status, string) {
	if len(b) < 1 {
		return Malformed, "empty IP packet"
	}
	switch b[0] >> 4 {
	case 4:
		return p.ipv4(b)
	case 6:
		return p.ipv6(b)
	}
	return Malformed, "IP version is neither 4 nor 6"
}

func (p *Packet) ipv4(b []byte) (Status, string) {
	if len(b) < 20 {
		return Malformed, "short IPv4 header"
	}
	ihl := int(b[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ihl < 20 || len(b) < ihl || total < ihl {
		return Malformed, "bad IPv4 header length"
	}
	if total < len(b) {
		b = b[:total] // Ethernet padding
	} else if total > len(b) {
		p.Truncated = true
	}
	p.IPLen = total
	p.TTL = b[8]
	p.Src = netip.AddrFrom4([4]byte(b[12:16]))
	p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
	frag := binary.BigEndian.Uint16(b[6:])
	p.Proto = b[9]
	p.L4 = b[ihl:]
	if frag&0x3fff != 0 { // MF set or a non-zero offset
		p.Fragment, p.FirstFragment = true, frag&0x1fff == 0
	}
	return IP, ""
}

func (p *Packet) ipv6(b []byte) (Status, string) {
	if len(b) < 40 {
		return Malformed, "short IPv6 header"
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	if 40+plen < len(b) {
		b = b[:40+plen]
	} else if 40+plen > len(b) {
		p.Truncated = true
	}
	p.IPLen = 40 + plen
	p.TTL = b[7]
	p.Src = netip.AddrFrom16([16]byte(b[8:24]))
	p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
	next := b[6]
	l := b[40:]
	for i := 0; ; i++ {
		switch next {
		case ip6HopByHop, ip6Routing, ip6DestOpts, ip6Mobility:
			if len(l) < 8 || i >= maxIP6Headers {
				return Malformed, "bad IPv6 extension header"
			}
			n := (int(l[1]) + 1) * 8
			if len(l) < n {
				return Malformed, "short IPv6 extension header"
			}
			next, l = l[0], l[n:]
			continue
		case ip6AH:
			if len(l) < 8 || i >= maxIP6Headers {
				return Malformed, "bad IPv6 authentication header"
			}
			n := (int(l[1]) + 2) * 4
			if len(l) < n {
				return Malformed, "short IPv6 authentication header"
			}
			next, l = l[0], l[n:]
			continue
		case ip6Fragment:
			if len(l) < 8 {
				return Malformed, "short IPv6 fragment header"
			}
			off := binary.BigEndian.Uint16(l[2:]) >> 3
			p.Proto, p.L4 = l[0], l[8:]
			p.Fragment, p.FirstFragment = true, off == 0
			return IP, ""
		}
		break
	}
	p.Proto, p.L4 = next, l
	return IP, ""
}

// ProtoName is the lower-case name of an IP protocol ("tcp", "udp",
// "icmp", "ipv6-icmp", ...) or its number.
func ProtoName(proto uint8) string {
	switch proto {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "icmp6"
	case 2:
		return "igmp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 51:
		return "ah"
	case 132:
		return "sctp"
	case 89:
		return "ospf"
	case 103:
		return "pim"
	case 112:
		return "vrrp"
	case 59:
		return "ipv6-nonxt"
	}
	return "ip-proto-" + strconv.Itoa(int(proto))
}

// DecodeIP decodes an IP packet without a link layer (raw IP, or the
// packet quoted in an ICMP error) into p.
func DecodeIP(b []byte, p *Packet) (Status, string) {
	*p = Packet{}
	return p.ip(b)
}
