package dnspcap

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/packet"
)

// decoder is one capture's decoding state. Not safe for concurrent use.
type decoder struct {
	cfg   Config
	name  string
	emit  func(*event.Event) error
	stats parse.DecodeStats

	now   int64 // time of the current packet (unix ns)
	maxTS int64 // newest packet time seen

	m       msg
	pkt     packet.Packet
	scratch []byte

	// Matching and reordering.
	q       ring
	pending map[matchKey]uint64 // query → its sequence number in q
	watch   map[watchKey]uint64 // (client, answer address) → sequence number
	talkers map[[16]byte]struct{}

	tcpFlows map[flowKey]*tcpFlow
	tcpSweep int64
}

const maxTalkers = 1 << 16

type matchKey struct {
	client, server [16]byte
	cport, sport   uint16
	id             uint16
	tcp            bool
}

type watchKey struct {
	client, addr [16]byte
}

func newDecoder(cfg Config, name string, emit func(*event.Event) error) *decoder {
	return &decoder{
		cfg: cfg, name: name, emit: emit,
		pending:  make(map[matchKey]uint64),
		watch:    make(map[watchKey]uint64),
		talkers:  make(map[[16]byte]struct{}),
		tcpFlows: make(map[flowKey]*tcpFlow),
		scratch:  make([]byte, 0, 256),
	}
}

func (d *decoder) count(k string) {
	if d.stats.Detail == nil {
		d.stats.Detail = make(map[string]int64)
	}
	d.stats.Detail[k]++
}

// malformed counts the current packet as malformed and samples it.
func (d *decoder) malformed(why string) {
	d.stats.Malformed++
	d.sample(d.stats.Records, why)
}

// bad counts record rec as malformed (file-level problems).
func (d *decoder) bad(rec int64, why string) {
	d.stats.Malformed++
	d.sample(rec, why)
}

func (d *decoder) sample(rec int64, why string) {
	if len(d.stats.Samples) < d.cfg.Samples {
		d.stats.Samples = append(d.stats.Samples, event.Sample{File: d.name, Line: rec, Text: "packet " + strconv.FormatInt(rec, 10) + ": " + why})
	}
}

func (d *decoder) finish() parse.DecodeStats { return d.stats }

// other notes a non-DNS packet: the source talks beyond DNS, and it may be
// the follow-up traffic an answered query is waiting for.
func (d *decoder) other(src, dst netip.Addr) {
	d.stats.Skipped++
	s := src.As16()
	if _, ok := d.talkers[s]; !ok && len(d.talkers) < maxTalkers {
		d.talkers[s] = struct{}{}
	}
	if len(d.watch) == 0 {
		return
	}
	k := watchKey{client: s, addr: dst.As16()}
	if seq, ok := d.watch[k]; ok {
		delete(d.watch, k)
		if it := d.q.at(seq); it != nil && it.state == stateUse {
			it.used = true
		}
	}
}

// message handles one DNS message between src:sp and dst:dp.
func (d *decoder) message(b []byte, src netip.Addr, sp uint16, dst netip.Addr, dp uint16, tcp, truncated bool) {
	m := &d.m
	if err := m.decode(b); err != nil {
		if truncated {
			d.malformed("DNS message truncated by the capture's snap length")
			return
		}
		d.malformed(err.Error())
		return
	}
	if m.response() {
		d.response(b, dst, dp, src, sp, tcp)
		return
	}
	d.query(dst, dp, src, sp, tcp)
}

func transportName(tcp bool) string {
	if tcp {
		return "tcp"
	}
	return "udp"
}

// newEvent fills the fields common to queries and responses.
func (d *decoder) newEvent(it *item, client netip.Addr, cport uint16, server netip.Addr, sport uint16, tcp bool) *event.DNS {
	m := &d.m
	it.ev = event.Event{
		Time:    time.Unix(0, d.now).UTC(),
		Kind:    event.KindDNS,
		SrcIP:   client.Unmap(),
		SrcPort: cport,
		Count:   1,
		Ref:     event.Ref{File: d.name, Line: d.stats.Records},
	}
	name := string(m.name)
	x := &event.DNS{
		Name:       name,
		Registered: d.registered(name),
		QType:      typeName(m.qtype),
		QTypeCode:  m.qtype,
		ID:         m.id,
		ServerIP:   server.Unmap(),
		ServerPort: sport,
		Transport:  transportName(tcp),
	}
	it.ev.DNS = x
	return x
}

// registered is the name's registered domain (eTLD+1), lower case.
func (d *decoder) registered(name string) string {
	lower := name
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			lower = strings.ToLower(name)
			break
		}
	}
	return Registered(lower)
}

// Registered returns the registered domain (Public Suffix List eTLD+1)
// of a lower-case name; a name that is itself a public suffix (or empty)
// is returned as is.
func Registered(lower string) string {
	if lower == "" {
		return ""
	}
	r, err := publicsuffix.EffectiveTLDPlusOne(lower)
	if err != nil {
		return lower
	}
	return r
}

func (d *decoder) query(server netip.Addr, sport uint16, client netip.Addr, cport uint16, tcp bool) {
	m := &d.m
	k := matchKey{client: client.As16(), server: server.As16(), cport: cport, sport: sport, id: m.id, tcp: tcp}
	if _, dup := d.pending[k]; dup {
		d.count("retransmissions")
		return
	}
	d.makeRoom()
	seq, it := d.q.push()
	x := d.newEvent(it, client, cport, server, sport, tcp)
	it.ev.Action = event.ActDNSQuery
	x.QuerySize = int32(m.size)
	x.EDNS, x.EDNSSize = m.edns, m.ednsUDP
	it.state = stateResponse
	it.deadline = d.now + int64(d.cfg.Timeout)
	it.key = k
	d.pending[k] = seq
}

func (d *decoder) response(b []byte, client netip.Addr, cport uint16, server netip.Addr, sport uint16, tcp bool) {
	m := &d.m
	k := matchKey{client: client.As16(), server: server.As16(), cport: cport, sport: sport, id: m.id, tcp: tcp}
	seq, ok := d.pending[k]
	var it *item
	if ok {
		it = d.q.at(seq)
	}
	if it == nil || it.state != stateResponse || !sameName(it.ev.DNS.Name, m.name) {
		// Unsolicited, late (after the timeout) or mismatched: a response
		// event of its own.
		d.count("unmatched_responses")
		d.makeRoom()
		_, it = d.q.push()
		d.newEvent(it, client, cport, server, sport, tcp)
		it.ev.Action = event.ActDNSResponse
		d.fillResponse(it.ev.DNS, b, 0)
		it.state = stateDone
		return
	}
	delete(d.pending, k)
	x := it.ev.DNS
	d.fillResponse(x, b, d.now-it.ev.Time.UnixNano())
	it.state = stateDone
	if d.cfg.FollowUp < 0 || m.rcode() != 0 || len(d.talkers) == 0 {
		// (A capture without any non-DNS traffic so far, such as one
		// filtered on port 53, cannot show follow-up traffic.)
		return
	}
	// Await traffic to the answer's addresses (of the client's own
	// address family: a dual-stack client asks A and AAAA and uses one).
	n := 0
	for i := 0; i < m.nans && n < 4; i++ {
		if a, ok := answerAddr(b, &m.answers[i]); ok && a.Is4() == client.Unmap().Is4() {
			d.watch[watchKey{client: k.client, addr: a.As16()}] = seq
			it.watch[n] = a.As16()
			n++
		}
	}
	if n > 0 {
		it.nwatch = uint8(n)
		it.state = stateUse
		it.deadline = d.now + int64(d.cfg.FollowUp)
	}
}

// sameName compares a query's name with a response's (case-insensitively:
// resolvers may echo 0x20-randomised case differently).
func sameName(q string, r []byte) bool {
	return len(q) == len(r) && (q == string(r) || bytes.EqualFold([]byte(q), r))
}

func (d *decoder) fillResponse(x *event.DNS, b []byte, rtt int64) {
	m := &d.m
	x.Answered = true
	x.RCode = rcodeName(m.rcode())
	x.RespSize = int32(m.size)
	x.Truncated = m.truncated()
	x.AnswerCount = m.an
	if rtt > 0 {
		x.RTT = time.Duration(rtt)
	}
	if m.nans > 0 {
		x.Answers = make([]event.Answer, m.nans)
		for i := 0; i < m.nans; i++ {
			r := &m.answers[i]
			x.Answers[i] = event.Answer{Type: typeName(r.typ), TTL: r.ttl, Size: r.rdlen, Data: answerData(b, r, d.scratch)}
		}
	}
}

// makeRoom releases the oldest pending item when the queue is full.
func (d *decoder) makeRoom() {
	for d.q.n >= d.cfg.MaxPending {
		d.count("pending_evicted")
		if err := d.release(d.q.front(), true); err != nil {
			return
		}
	}
}

// drain emits every item at the front of the queue that is complete or
// whose deadline has passed.
func (d *decoder) drain() error {
	for d.q.n > 0 {
		it := d.q.front()
		switch it.state {
		case stateResponse, stateUse:
			if it.used || d.maxTS >= it.deadline {
				break
			}
			return nil
		}
		if err := d.release(it, false); err != nil {
			return err
		}
	}
	return nil
}

// release finalises and emits the front item. early is set when it leaves
// before its deadline (queue full, or end of capture).
func (d *decoder) release(it *item, early bool) error {
	switch it.state {
	case stateResponse:
		if s, ok := d.pending[it.key]; ok && s == d.q.base {
			delete(d.pending, it.key)
		}
		if !early {
			it.ev.DNS.Orphan = event.OrphanUnanswered
			d.count("unanswered")
		}
	case stateUse:
		for i := 0; i < int(it.nwatch); i++ {
			k := watchKey{client: it.key.client, addr: it.watch[i]}
			if s, ok := d.watch[k]; ok && s == d.q.base {
				delete(d.watch, k)
			}
		}
		if !it.used && !early {
			if _, talks := d.talkers[it.key.client]; talks {
				it.ev.DNS.Orphan = event.OrphanUnused
				d.count("unused_answers")
			}
		}
	}
	d.stats.Events++
	err := d.emit(&it.ev)
	d.q.pop()
	return err
}

// flush emits everything still queued at the end of the capture: queries
// whose timeout had passed are orphans; those asked in the capture's last
// seconds are left undecided (their answer may have come after it).
func (d *decoder) flush() error {
	for d.q.n > 0 {
		it := d.q.front()
		early := d.maxTS < it.deadline && !it.used
		if early && it.state == stateResponse {
			d.count("unanswered_at_end")
		}
		if err := d.release(it, early); err != nil {
			return err
		}
	}
	return nil
}
