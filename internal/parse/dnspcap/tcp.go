package dnspcap

import (
	"encoding/binary"
	"net/netip"
)

// DNS over TCP: each direction of a connection is a byte stream of
// messages, each prefixed by its 2-byte length (RFC 1035 4.2.2). Segments
// are appended in sequence order per direction; a retransmission is
// trimmed, a gap (lost segment) resets the stream and is counted
// (tcp_gaps), and the next segment is assumed to start a message.

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
)

// maxTCPBuffer bounds a flow's buffer: one maximal message and its prefix.
const maxTCPBuffer = 2 + 65535

// tcpIdle is how long a flow without segments is kept.
const tcpIdle = int64(120e9)

type flowKey struct {
	src, dst [16]byte
	sp, dp   uint16
}

type tcpFlow struct {
	next uint32 // next expected sequence number
	buf  []byte
	last int64
}

func (d *decoder) tcp(h, payload []byte, src netip.Addr, sp uint16, dst netip.Addr, dp uint16, truncated bool) {
	seq := binary.BigEndian.Uint32(h[4:])
	flags := h[13]
	k := flowKey{src: src.As16(), dst: dst.As16(), sp: sp, dp: dp}
	f := d.tcpFlows[k]
	if flags&(tcpRST) != 0 {
		delete(d.tcpFlows, k)
		return
	}
	if f == nil {
		if len(payload) == 0 && flags&tcpSYN == 0 {
			return // a bare ACK or FIN of a flow we do not follow
		}
		if len(d.tcpFlows) >= d.cfg.MaxTCPFlows {
			d.sweepTCP(true)
			if len(d.tcpFlows) >= d.cfg.MaxTCPFlows {
				d.count("tcp_flows_dropped")
				return
			}
		}
		f = &tcpFlow{next: seq}
		if flags&tcpSYN != 0 {
			f.next = seq + 1
		}
		d.tcpFlows[k] = f
	}
	f.last = d.now
	if d.now-d.tcpSweep > tcpIdle {
		d.tcpSweep = d.now
		d.sweepTCP(false)
	}
	if len(payload) > 0 {
		d.segment(f, seq, payload, src, sp, dst, dp, truncated)
	}
	if flags&tcpFIN != 0 {
		delete(d.tcpFlows, k)
	}
}

func (d *decoder) segment(f *tcpFlow, seq uint32, payload []byte, src netip.Addr, sp uint16, dst netip.Addr, dp uint16, truncated bool) {
	switch diff := int32(seq - f.next); {
	case diff < 0: // overlaps what we have: retransmission
		skip := int(-diff)
		if skip >= len(payload) {
			return
		}
		payload = payload[skip:]
	case diff > 0: // a segment is missing
		d.count("tcp_gaps")
		f.buf = f.buf[:0]
	}
	f.next = seq + uint32(len(payload))
	if truncated {
		// The capture cut this segment: what follows cannot be framed.
		d.malformed("TCP segment truncated by the capture's snap length")
		f.buf = f.buf[:0]
		return
	}
	if len(f.buf)+len(payload) > maxTCPBuffer {
		d.malformed("TCP DNS stream out of frame")
		f.buf = f.buf[:0]
		return
	}
	buf := append(f.buf, payload...)
	off := 0
	for len(buf)-off >= 2 {
		l := int(binary.BigEndian.Uint16(buf[off:]))
		if len(buf)-off < 2+l {
			break
		}
		d.message(buf[off+2:off+2+l], src, sp, dst, dp, true, false)
		off += 2 + l
	}
	f.buf = buf[:copy(buf, buf[off:])]
}

// sweepTCP drops idle flows (all flows idle for tcpIdle; when full, also
// the idlest half of the rest is not needed: flows are few in practice).
func (d *decoder) sweepTCP(full bool) {
	for k, f := range d.tcpFlows {
		if d.now-f.last > tcpIdle || (full && d.now-f.last > tcpIdle/8) {
			delete(d.tcpFlows, k)
		}
	}
}
