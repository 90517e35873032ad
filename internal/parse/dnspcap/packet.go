package dnspcap

import (
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// Link, network and transport layers, decoded by hand over the packet
// bytes (no allocation, no gopacket layer objects on the hot path).

// Ethernet types.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100
)

// IP protocols and IPv6 extension headers.
const (
	protoTCP      = 6
	protoUDP      = 17
	ip6HopByHop   = 0
	ip6Routing    = 43
	ip6Fragment   = 44
	ip6DestOpts   = 60
	ip6AH         = 51
	ip6Mobility   = 135
	ip6NoNext     = 59
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

// packet decodes one captured frame.
func (d *decoder) packet(data []byte, ci ciInfo) error {
	d.now = ci.ts
	if ci.ts > d.maxTS {
		d.maxTS = ci.ts
	}
	truncated := ci.capLen < ci.wireLen
	ip, ok := d.link(data, ci.linkType)
	if !ok {
		return d.drain()
	}
	d.ip(ip, truncated)
	return d.drain()
}

// link strips the link layer and returns the IP packet.
func (d *decoder) link(b []byte, lt layers.LinkType) ([]byte, bool) {
	var et uint16
	switch lt {
	case layers.LinkTypeEthernet:
		if len(b) < 14 {
			d.malformed("short Ethernet header")
			return nil, false
		}
		et = binary.BigEndian.Uint16(b[12:])
		b = b[14:]
		for et == etherVLAN || et == etherQinQ || et == etherQinQ2 {
			if len(b) < 4 {
				d.malformed("short VLAN tag")
				return nil, false
			}
			et = binary.BigEndian.Uint16(b[2:])
			b = b[4:]
		}
	case layers.LinkTypeLinuxSLL:
		if len(b) < 16 {
			d.malformed("short Linux SLL header")
			return nil, false
		}
		et = binary.BigEndian.Uint16(b[14:])
		b = b[16:]
	case linkTypeSLL2:
		if len(b) < 20 {
			d.malformed("short Linux SLL2 header")
			return nil, false
		}
		et = binary.BigEndian.Uint16(b[0:])
		b = b[20:]
	case layers.LinkTypeRaw, linkTypeRawAlt1, linkTypeRawAlt2, linkTypeIPv4, linkTypeIPv6:
		return b, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(b) < 4 {
			d.malformed("short loopback header")
			return nil, false
		}
		b = b[4:]
		return b, true
	default:
		d.stats.Skipped++
		d.count("unsupported_link_type")
		return nil, false
	}
	if et != etherIPv4 && et != etherIPv6 {
		d.stats.Skipped++ // ARP, LLDP, ...
		return nil, false
	}
	return b, true
}

// ip decodes an IPv4 or IPv6 packet (by its version nibble).
func (d *decoder) ip(b []byte, truncated bool) {
	if len(b) < 1 {
		d.malformed("empty IP packet")
		return
	}
	switch b[0] >> 4 {
	case 4:
		d.ipv4(b, truncated)
	case 6:
		d.ipv6(b, truncated)
	default:
		d.malformed("IP version is neither 4 nor 6")
	}
}

func (d *decoder) ipv4(b []byte, truncated bool) {
	if len(b) < 20 {
		d.malformed("short IPv4 header")
		return
	}
	ihl := int(b[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ihl < 20 || len(b) < ihl || total < ihl {
		d.malformed("bad IPv4 header length")
		return
	}
	if total < len(b) {
		b = b[:total] // Ethernet padding
	} else if total > len(b) {
		truncated = true
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	frag := binary.BigEndian.Uint16(b[6:])
	proto := b[9]
	if frag&0x3fff != 0 { // MF set or a non-zero offset
		d.fragment(b[ihl:], proto, frag&0x1fff == 0)
		return
	}
	d.transport(proto, b[ihl:], src, dst, truncated)
}

func (d *decoder) ipv6(b []byte, truncated bool) {
	if len(b) < 40 {
		d.malformed("short IPv6 header")
		return
	}
	plen := int(binary.BigEndian.Uint16(b[4:]))
	if 40+plen < len(b) {
		b = b[:40+plen]
	} else if 40+plen > len(b) {
		truncated = true
	}
	src := netip.AddrFrom16([16]byte(b[8:24]))
	dst := netip.AddrFrom16([16]byte(b[24:40]))
	next := b[6]
	p := b[40:]
	for i := 0; ; i++ {
		switch next {
		case ip6HopByHop, ip6Routing, ip6DestOpts, ip6Mobility:
			if len(p) < 8 || i >= maxIP6Headers {
				d.malformed("bad IPv6 extension header")
				return
			}
			n := (int(p[1]) + 1) * 8
			if len(p) < n {
				d.malformed("short IPv6 extension header")
				return
			}
			next, p = p[0], p[n:]
			continue
		case ip6AH:
			if len(p) < 8 || i >= maxIP6Headers {
				d.malformed("bad IPv6 authentication header")
				return
			}
			n := (int(p[1]) + 2) * 4
			if len(p) < n {
				d.malformed("short IPv6 authentication header")
				return
			}
			next, p = p[0], p[n:]
			continue
		case ip6Fragment:
			if len(p) < 8 {
				d.malformed("short IPv6 fragment header")
				return
			}
			off := binary.BigEndian.Uint16(p[2:]) >> 3
			d.fragment(p[8:], p[0], off == 0)
			return
		case ip6NoNext:
			d.stats.Skipped++
			return
		}
		break
	}
	d.transport(next, p, src, dst, truncated)
}

// fragment counts an IP fragment; fragments are not reassembled. A first
// fragment that shows a DNS port is a DNS message lost (counted
// malformed); other fragments are counted only.
func (d *decoder) fragment(p []byte, proto uint8, first bool) {
	d.count("fragments")
	if first && (proto == protoUDP || proto == protoTCP) && len(p) >= 4 {
		sp, dp := binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:])
		if d.isDNSPort(sp) || d.isDNSPort(dp) {
			d.malformed("IP-fragmented DNS message (fragments are not reassembled)")
			return
		}
	}
	d.stats.Skipped++
}

func (d *decoder) isDNSPort(p uint16) bool {
	for _, q := range d.cfg.Ports {
		if p == q {
			return true
		}
	}
	return false
}

// transport dispatches UDP and TCP; everything else is other traffic.
func (d *decoder) transport(proto uint8, p []byte, src, dst netip.Addr, truncated bool) {
	switch proto {
	case protoUDP:
		if len(p) < 8 {
			d.malformed("short UDP header")
			return
		}
		sp, dp := binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:])
		if !d.isDNSPort(sp) && !d.isDNSPort(dp) {
			d.other(src, dst)
			return
		}
		ulen := int(binary.BigEndian.Uint16(p[4:]))
		payload := p[8:]
		if ulen >= 8 && ulen-8 < len(payload) {
			payload = payload[:ulen-8]
		} else if ulen-8 > len(payload) {
			truncated = true
		}
		if truncated {
			d.count("truncated_packets")
		}
		d.message(payload, src, sp, dst, dp, false, truncated)
	case protoTCP:
		if len(p) < 20 {
			d.malformed("short TCP header")
			return
		}
		sp, dp := binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:])
		if !d.isDNSPort(sp) && !d.isDNSPort(dp) {
			d.other(src, dst)
			return
		}
		hl := int(p[12]>>4) * 4
		if hl < 20 || len(p) < hl {
			d.malformed("bad TCP header length")
			return
		}
		if truncated {
			d.count("truncated_packets")
		}
		d.tcp(p[:hl], p[hl:], src, sp, dst, dp, truncated)
	default:
		d.other(src, dst)
	}
}
