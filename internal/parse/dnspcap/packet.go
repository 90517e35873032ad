package dnspcap

import (
	"encoding/binary"
	"net/netip"

	"winnow/internal/parse/packet"
)

// The link and network layers are decoded by the shared parse/packet
// package; this file handles what DNS needs of the transport layer.

// IP protocols.
const (
	protoTCP = packet.ProtoTCP
	protoUDP = packet.ProtoUDP
)

// packet decodes one captured frame.
func (d *decoder) packet(data []byte, ci packet.Info) error {
	st, why := packet.Decode(data, ci.Link, ci.CapLen < ci.WireLen, &d.pkt)
	return d.decoded(&d.pkt, st, why, ci.TS)
}

// decoded handles a frame whose link and network layers were decoded
// (Decode's result st and why), captured at ts.
func (d *decoder) decoded(p *packet.Packet, st packet.Status, why string, ts int64) error {
	d.now = ts
	if ts > d.maxTS {
		d.maxTS = ts
	}
	switch st {
	case packet.IP:
		if p.Fragment {
			d.fragment(p.L4, p.Proto, p.FirstFragment)
		} else {
			d.transport(p.Proto, p.L4, p.Src, p.Dst, p.Truncated)
		}
	case packet.Malformed:
		if p.EtherType == packet.EtherARP {
			d.stats.Skipped++ // not DNS's business, however broken
			break
		}
		d.malformed(why)
	case packet.UnsupportedLink:
		d.stats.Skipped++
		d.count("unsupported_link_type")
	default: // ARP, LLDP, ...
		d.stats.Skipped++
	}
	return d.drain()
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
