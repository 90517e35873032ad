// Package flow assembles packets into network flows (one event per
// connection, or per active-timeout slice of a long one), in the manner of
// NetFlow exporters and Zeek's conn.log: the 5-tuple, first and last
// packet times, packets and IP bytes each way, the TCP flags seen from
// each side and the handshake state as Zeek's conn_state (S0, SF, REJ,
// ...), ICMP type and code, and whether an ICMP destination-unreachable
// answered the flow (a closed UDP port tells a UDP scan).
//
// The Assembler takes frames already decoded by parse/packet (the link and
// IP layers are shared with the DNS decoder), so one pass over a capture
// feeds both; NewDecoder wraps it as a parse.Decoder for flows alone.
//
// Orientation: the originator (Event.SrcIP) is the sender of the first
// packet seen. When that packet is evidently a reply — a TCP SYN-ACK, an
// ICMP echo reply, an ARP reply, a UDP datagram from a service port (below
// 1024, or a known amplifier port) to an ephemeral one — the flow is marked
// Reversed: its request was not captured (a capture that started late, or
// reflected traffic arriving at a spoofed victim, who is then DstIP).
//
// ICMP errors are attributed to the flow whose packet they quote (marking
// it Unreachable for destination-unreachable); when that packet is not in
// the capture and the error is the target's own (port or protocol
// unreachable) the flow is recorded from the quoted header, with no
// packets of its own, so a scan seen only through its ICMP replies still
// names the scanner; a router's error about an unseen packet is counted
// only (it is as likely backscatter of a spoofed attack).
//
// Expiry is in event time (the packets' timestamps, never the wall clock):
// a flow ends Linger after both FINs or a RST, after IdleTimeout without
// packets, or — for a long flow — it is cut every ActiveTimeout (Partial
// records, as NetFlow does), so no record waits longer than that.
//
// Order: flows are emitted in order of their first packet (Event.Time):
// a flow waits in a FIFO until every flow that started before it has been
// emitted; the FIFO is the reorder buffer, its span bounded by
// ActiveTimeout + IdleTimeout of event time.
//
// Memory is bounded by MaxFlows under a flood of spoofed sources: when the
// table is full the oldest flow is emitted early (as what it is so far,
// typically a one-packet attempt) and counted in flows_released_early, so
// nothing is silently lost and the memory does not grow.
package flow

import (
	"encoding/binary"
	"net/netip"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse/packet"
)

// Config tunes the assembler. Zero values mean the defaults.
type Config struct {
	// IdleTimeout ends a flow without packets for this long (default 30s:
	// longer than TCP's first SYN retransmissions, so an attempt and its
	// retries are one flow; shorter than most NetFlow defaults, to keep
	// the reorder buffer small).
	IdleTimeout time.Duration
	// ActiveTimeout cuts a long flow into Partial records (default 60s,
	// the usual NetFlow active timeout; it bounds how long any record is
	// held back).
	ActiveTimeout time.Duration
	// Linger keeps a closed flow (both FINs, or a RST) this long for the
	// last ACK and retransmissions (default 1s).
	Linger time.Duration
	// MaxFlows caps the flow table (default 131072, ≈ 40 MB); beyond it
	// the oldest flow is emitted early.
	MaxFlows int
}

func (c Config) withDefaults() Config {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Second
	}
	if c.ActiveTimeout <= 0 {
		c.ActiveTimeout = 60 * time.Second
	}
	if c.Linger <= 0 {
		c.Linger = time.Second
	}
	if c.MaxFlows <= 0 {
		c.MaxFlows = 1 << 17
	}
	return c
}

// key identifies a flow in both directions: (a, ap) is the lower endpoint.
type key struct {
	a, b   [16]byte
	ap, bp uint16
	proto  uint8
	arp    bool
}

// state is one flow. Index 0 of the per-side arrays is the originator.
type state struct {
	k           key
	origIsA     bool
	reversed    bool
	partial     bool
	unreach     bool
	unreachCode uint8
	icmpType    uint8
	icmpCode    uint8
	flags       [2]uint8
	start, last int64 // unix ns; start 0: a cut flow awaiting its next packet
	closedAt    int64 // 0 while open
	pkts, bytes [2]int64
	rec         int64 // record number of the first packet
	gen         uint32
}

// entry is a FIFO slot; it is stale when gen no longer matches the flow's.
type entry struct {
	s   *state
	gen uint32
}

// fifo is a growable ring of entries.
type fifo struct {
	buf     []entry
	head, n int
}

func (q *fifo) push(e entry) {
	if q.n == len(q.buf) {
		nb := make([]entry, max(16, 2*len(q.buf)))
		for i := 0; i < q.n; i++ {
			nb[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = e
	q.n++
}

func (q *fifo) front() entry { return q.buf[q.head] }

func (q *fifo) pop() {
	q.buf[q.head] = entry{}
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
}

// Counters are what an assembler did, by protocol.
type Counters struct {
	Packets       [257]int64 // packets by IP protocol, ARP at index ARPIndex
	Flows         [257]int64 // flow records emitted by IP protocol, ARP at index ARPIndex
	Fragments     int64      // non-initial IP fragments (no ports: not assigned to a flow)
	ICMPErrors    int64      // ICMP errors attributed to the flow they answer
	ICMPUnmatched int64      // of which quote a packet the capture does not hold
	// ICMPUnattributed counts router errors (host/network unreachable,
	// prohibited) quoting a packet the capture does not hold.
	ICMPUnattributed int64
	Cut              int64 // partial records cut by the active timeout
	ReleasedEarly    int64 // flows emitted early because the table was full
	Malformed        int64 // transport headers too short to read
}

// ARPIndex is ARP's index in Counters.Packets and Counters.Flows.
const ARPIndex = 256

// Assembler builds flows from decoded packets. Not safe for concurrent use.
type Assembler struct {
	cfg    Config
	name   string
	emit   func(*event.Event) error
	flows  map[key]*state
	ring   fifo // flows with packets, by start
	parked fifo // cut flows awaiting their next packet, by cut time
	free   []*state
	now    int64
	rec    int64 // record number of the current packet
	ev     event.Event
	c      Counters
}

// New returns an assembler for the input named name (events' Ref.File);
// emit receives each flow event (it must copy *ev; the Flow part is fresh
// per event).
func New(cfg Config, name string, emit func(*event.Event) error) *Assembler {
	cfg = cfg.withDefaults()
	return &Assembler{cfg: cfg, name: name, emit: emit, flows: make(map[key]*state, 1024)}
}

// Counters returns what the assembler has done so far.
func (a *Assembler) Counters() *Counters { return &a.c }

// Len is the number of flows held.
func (a *Assembler) Len() int { return len(a.flows) }

// Oldest returns the start time of the oldest flow not yet emitted (unix
// ns); ok is false when none is pending. Nothing emitted later starts
// before it.
func (a *Assembler) Oldest() (int64, bool) {
	for a.ring.n > 0 {
		e := a.ring.front()
		if e.gen != e.s.gen || e.s.start == 0 {
			a.ring.pop() // stale, or cut and parked
			continue
		}
		return e.s.start, true
	}
	return 0, false
}

// Packet adds one decoded packet (status st from packet.Decode) captured
// at ts, record number rec, and emits the flows it completes.
func (a *Assembler) Packet(p *packet.Packet, st packet.Status, ts, rec int64) error {
	if ts > a.now {
		a.now = ts
	}
	a.rec = rec
	// Flows that end by this packet's time leave first (so a long flow's
	// record is cut before the packet that starts its next one).
	err := a.drain(false)
	switch st {
	case packet.IP:
		a.ip(p, ts, rec)
	case packet.ARP:
		a.arp(p, ts, rec)
	}
	return err
}

// Flush emits every flow still held (end of input).
func (a *Assembler) Flush() error { return a.drain(true) }

// Known amplifier and service ports whose traffic to an ephemeral port is
// a reply (see Reversed) even above 1024.
func servicePort(p uint16) bool {
	switch p {
	case 1900, 3283, 3702, 5353, 5683, 10001, 11211, 27015, 37810, 1434, 4500:
		return true
	}
	return p < 1024 && p != 0
}

func (a *Assembler) ip(p *packet.Packet, ts, rec int64) {
	a.c.Packets[p.Proto]++
	if p.Fragment && !p.FirstFragment {
		a.c.Fragments++
		return
	}
	l4 := p.L4
	var sp, dp uint16
	var flags, icmpType, icmpCode uint8
	switch p.Proto {
	case packet.ProtoTCP:
		if len(l4) < 14 {
			a.c.Malformed++
			return
		}
		sp, dp, flags = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]), l4[13]
	case packet.ProtoUDP, 132: // UDP, SCTP: ports first
		if len(l4) < 4 {
			a.c.Malformed++
			return
		}
		sp, dp = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
	case packet.ProtoICMP, packet.ProtoICMPv6:
		if len(l4) < 4 {
			a.c.Malformed++
			return
		}
		icmpType, icmpCode = l4[0], l4[1]
		if a.icmpError(p, l4, ts) {
			return
		}
		if echo(p.Proto, icmpType) && len(l4) >= 6 {
			id := binary.BigEndian.Uint16(l4[4:])
			sp, dp = id, id
		} else {
			sp, dp = uint16(icmpType)<<8|uint16(icmpCode), 0
		}
	}
	k, srcIsA := makeKey(p.Src, p.Dst, sp, dp, p.Proto)
	s := a.flows[k]
	if s == nil {
		s = a.create(k, ts, rec)
		s.origIsA = srcIsA
		switch p.Proto {
		case packet.ProtoTCP:
			s.reversed = flags&event.FlagSYN != 0 && flags&event.FlagACK != 0
		case packet.ProtoUDP:
			s.reversed = servicePort(sp) && !servicePort(dp) && dp >= 1024
		case packet.ProtoICMP, packet.ProtoICMPv6:
			s.reversed = reply(p.Proto, icmpType)
			s.icmpType, s.icmpCode = icmpType, icmpCode
		}
	} else if s.start == 0 {
		a.resume(s, ts, rec)
	}
	side := 0
	if srcIsA != s.origIsA {
		side = 1
	}
	s.pkts[side]++
	s.bytes[side] += int64(p.IPLen)
	if ts > s.last {
		s.last = ts
	}
	if p.Proto == packet.ProtoTCP {
		s.flags[side] |= flags
		if s.closedAt == 0 && (flags&event.FlagRST != 0 || s.flags[0]&s.flags[1]&event.FlagFIN != 0) {
			s.closedAt = ts
		}
	}
}

func echo(proto, t uint8) bool {
	if proto == packet.ProtoICMP {
		return t == 8 || t == 0 || t == 13 || t == 14
	}
	return t == 128 || t == 129
}

func reply(proto, t uint8) bool {
	if proto == packet.ProtoICMP {
		return t == 0 || t == 14
	}
	return t == 129
}

// icmpError matches an ICMP error to the flow whose packet it quotes and
// marks that flow; it reports whether the packet was such an error.
func (a *Assembler) icmpError(p *packet.Packet, l4 []byte, ts int64) bool {
	t := l4[0]
	var unreach bool
	if p.Proto == packet.ProtoICMP {
		switch t {
		case 3:
			unreach = true
		case 4, 5, 11, 12:
		default:
			return false
		}
	} else {
		switch t {
		case 1:
			unreach = true
		case 2, 3, 4:
		default:
			return false
		}
	}
	if len(l4) < 8 {
		return false
	}
	var q packet.Packet
	if st, _ := packet.DecodeIP(l4[8:], &q); st != packet.IP || q.Fragment && !q.FirstFragment {
		return false
	}
	var sp, dp uint16
	switch q.Proto {
	case packet.ProtoTCP, packet.ProtoUDP, 132:
		if len(q.L4) < 4 {
			return false
		}
		sp, dp = binary.BigEndian.Uint16(q.L4), binary.BigEndian.Uint16(q.L4[2:])
	case packet.ProtoICMP, packet.ProtoICMPv6:
		if len(q.L4) < 2 {
			return false
		}
		if echo(q.Proto, q.L4[0]) && len(q.L4) >= 6 {
			id := binary.BigEndian.Uint16(q.L4[4:])
			sp, dp = id, id
		} else {
			sp = uint16(q.L4[0])<<8 | uint16(q.L4[1])
		}
	}
	k, srcIsA := makeKey(q.Src, q.Dst, sp, dp, q.Proto)
	s := a.flows[k]
	if s == nil && !endHostSays(p.Proto, l4[0], l4[1]) {
		// A router's verdict (host or network unreachable, prohibited)
		// about a packet we never saw is as likely backscatter of a
		// spoofed attack as a probe: counted, not made into a flow.
		a.c.ICMPUnattributed++
		return true
	}
	if s == nil {
		// The probe itself was not captured (asymmetric routing, a capture
		// filtered on the reply direction): the quoted header still says
		// who sent what to whom, so the flow is recorded from it, with no
		// packets of its own, answered by the error.
		a.c.ICMPUnmatched++
		s = a.create(k, ts, a.rec)
		s.origIsA = srcIsA
		switch q.Proto {
		case packet.ProtoICMP, packet.ProtoICMPv6:
			s.icmpType, s.icmpCode = q.L4[0], q.L4[1]
			s.reversed = reply(q.Proto, q.L4[0])
		case packet.ProtoTCP:
			if len(q.L4) >= 14 { // the quote holds the flags
				fl := q.L4[13]
				s.flags[0] = fl
				// A quoted RST or ACK answered something: not a probe.
				s.reversed = fl&event.FlagSYN == 0 || fl&event.FlagACK != 0
			}
		}
	} else if s.start == 0 {
		a.resume(s, ts, a.rec)
	}
	a.c.ICMPErrors++
	if unreach && !s.unreach {
		s.unreach, s.unreachCode = true, l4[1]
		if p.Proto == packet.ProtoICMPv6 && l4[1] == 4 {
			s.unreachCode = 3 // ICMPv6 port unreachable is code 4
		}
	}
	if ts > s.last && s.start != 0 {
		s.last = ts
	}
	return true
}

// endHostSays reports whether an ICMP error is the target host's own
// answer that nothing listens (port or protocol unreachable), which a
// scanner's probe draws; other errors come from routers.
func endHostSays(proto, typ, code uint8) bool {
	if proto == packet.ProtoICMP {
		return typ == 3 && (code == 2 || code == 3)
	}
	return typ == 1 && code == 4
}

func (a *Assembler) arp(p *packet.Packet, ts, rec int64) {
	a.c.Packets[ARPIndex]++
	k, srcIsA := makeKey(p.Src, p.Dst, 0, 0, 0)
	k.arp = true
	s := a.flows[k]
	if s == nil {
		s = a.create(k, ts, rec)
		s.origIsA = srcIsA
		s.reversed = p.ARPOp == 2 // a reply first
	} else if s.start == 0 {
		a.resume(s, ts, rec)
	}
	side := 0
	if srcIsA != s.origIsA {
		side = 1
	}
	s.pkts[side]++
	s.bytes[side] += int64(p.IPLen)
	if ts > s.last {
		s.last = ts
	}
}

func makeKey(src, dst netip.Addr, sp, dp uint16, proto uint8) (key, bool) {
	s, d := src.As16(), dst.As16()
	c := compare16(&s, &d)
	if c < 0 || c == 0 && sp <= dp {
		return key{a: s, b: d, ap: sp, bp: dp, proto: proto}, true
	}
	return key{a: d, b: s, ap: dp, bp: sp, proto: proto}, false
}

func compare16(x, y *[16]byte) int {
	hx, hy := binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(y[:8])
	if hx != hy {
		if hx < hy {
			return -1
		}
		return 1
	}
	lx, ly := binary.BigEndian.Uint64(x[8:]), binary.BigEndian.Uint64(y[8:])
	switch {
	case lx < ly:
		return -1
	case lx > ly:
		return 1
	}
	return 0
}

// create adds a flow starting at ts, making room first.
func (a *Assembler) create(k key, ts, rec int64) *state {
	for len(a.flows) >= a.cfg.MaxFlows {
		if !a.releaseOldest() {
			break
		}
	}
	var s *state
	if n := len(a.free); n > 0 {
		s = a.free[n-1]
		a.free = a.free[:n-1]
		gen := s.gen + 1
		*s = state{gen: gen}
	} else {
		s = &state{}
	}
	s.k, s.start, s.last, s.rec = k, ts, ts, rec
	a.flows[k] = s
	a.ring.push(entry{s: s, gen: s.gen})
	return s
}

// resume gives a cut (parked) flow its next packet: it re-enters the FIFO
// at the back with a new start.
func (a *Assembler) resume(s *state, ts, rec int64) {
	s.gen++
	s.start, s.last, s.rec = ts, ts, rec
	a.ring.push(entry{s: s, gen: s.gen})
}

// releaseOldest emits the oldest flow early (table full). It reports
// whether it freed a flow.
func (a *Assembler) releaseOldest() bool {
	for a.parked.n > 0 {
		e := a.parked.front()
		a.parked.pop()
		if e.gen == e.s.gen && e.s.start == 0 {
			a.remove(e.s)
			return true
		}
	}
	for a.ring.n > 0 {
		e := a.ring.front()
		a.ring.pop()
		if e.gen != e.s.gen || e.s.start == 0 {
			continue
		}
		a.c.ReleasedEarly++
		_ = a.out(e.s, false) // an emit error (cancellation) surfaces at the next drain
		a.remove(e.s)
		return true
	}
	return false
}

func (a *Assembler) remove(s *state) {
	delete(a.flows, s.k)
	s.gen++
	if len(a.free) < 1024 {
		a.free = append(a.free, s)
	}
}

// drain emits the flows at the front of the FIFO that are complete; all
// of them when final.
func (a *Assembler) drain(final bool) error {
	idle, active, linger := int64(a.cfg.IdleTimeout), int64(a.cfg.ActiveTimeout), int64(a.cfg.Linger)
	for a.parked.n > 0 {
		e := a.parked.front()
		if e.gen == e.s.gen && e.s.start == 0 {
			if !final && a.now-e.s.last < idle {
				break
			}
			a.remove(e.s)
		}
		a.parked.pop()
	}
	for a.ring.n > 0 {
		e := a.ring.front()
		s := e.s
		if e.gen != s.gen || s.start == 0 {
			a.ring.pop()
			continue
		}
		switch {
		case final, s.closedAt != 0 && a.now-s.closedAt >= linger, a.now-s.last >= idle:
			a.ring.pop()
			err := a.out(s, false)
			a.remove(s)
			if err != nil {
				return err
			}
		case a.now-s.start >= active:
			a.ring.pop()
			a.c.Cut++
			err := a.out(s, true)
			// Keep the connection's orientation and handshake for its next
			// record; counts restart.
			s.gen++
			s.start, s.pkts, s.bytes = 0, [2]int64{}, [2]int64{}
			s.partial = true
			a.parked.push(entry{s: s, gen: s.gen})
			if err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// out emits s as a flow event.
func (a *Assembler) out(s *state, cut bool) error {
	k := &s.k
	oa, ra, op, rp := k.a, k.b, k.ap, k.bp
	if !s.origIsA {
		oa, ra, op, rp = k.b, k.a, k.bp, k.ap
	}
	f := &event.Flow{
		Proto:       k.proto,
		End:         time.Unix(0, s.last).UTC(),
		OrigPackets: s.pkts[0], RespPackets: s.pkts[1],
		OrigBytes: s.bytes[0], RespBytes: s.bytes[1],
		OrigFlags: s.flags[0], RespFlags: s.flags[1],
		ICMPType: s.icmpType, ICMPCode: s.icmpCode,
		Unreachable: s.unreach, UnreachCode: s.unreachCode,
		Reversed: s.reversed,
		Partial:  cut || s.partial,
	}
	if k.arp {
		f.Transport = "arp"
		a.c.Flows[ARPIndex]++
	} else {
		f.Transport = packet.ProtoName(k.proto)
		a.c.Flows[k.proto]++
	}
	switch k.proto {
	case packet.ProtoTCP:
		if s.reversed { // the first packet was the responder's
			f.State = TCPState(s.flags[1], s.flags[0])
		} else {
			f.State = TCPState(s.flags[0], s.flags[1])
		}
	case packet.ProtoICMP, packet.ProtoICMPv6:
		op, rp = 0, 0
		if echo(k.proto, s.icmpType) {
			op = k.ap // the echo identifier
		}
		f.State = answered(s)
	default:
		f.State = answered(s)
	}
	a.ev = event.Event{
		Time:    time.Unix(0, s.start).UTC(),
		Kind:    event.KindFlow,
		Action:  event.ActFlow,
		Outcome: event.OutcomeUnknown,
		SrcIP:   netip.AddrFrom16(oa).Unmap(),
		SrcPort: op,
		DstIP:   netip.AddrFrom16(ra).Unmap(),
		DstPort: rp,
		Count:   1,
		Flow:    f,
		Ref:     event.Ref{File: a.name, Line: s.rec},
	}
	return a.emit(&a.ev)
}

func answered(s *state) string {
	if s.pkts[1] > 0 {
		return "SF"
	}
	return "S0"
}

// TCPState derives Zeek's conn_state from the TCP flags seen from the
// originator (o) and the responder (r).
func TCPState(o, r uint8) string {
	const syn, ack, fin, rst = event.FlagSYN, event.FlagACK, event.FlagFIN, event.FlagRST
	oSyn := o&syn != 0
	rSynAck := r&syn != 0 && r&ack != 0
	switch {
	case oSyn && !rSynAck:
		switch {
		case o&rst != 0:
			return "RSTOS0"
		case r&rst != 0:
			return "REJ"
		case o&fin != 0:
			return "SH"
		}
		return "S0"
	case !oSyn && rSynAck:
		switch {
		case r&rst != 0:
			return "RSTRH"
		case r&fin != 0:
			return "SHR"
		}
		return "OTH"
	case oSyn && rSynAck:
		switch {
		case o&rst != 0:
			return "RSTO"
		case r&rst != 0:
			return "RSTR"
		case o&fin != 0 && r&fin != 0:
			return "SF"
		case o&fin != 0:
			return "S2"
		case r&fin != 0:
			return "S3"
		}
		return "S1"
	}
	return "OTH"
}
