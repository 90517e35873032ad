// Package capture is the "pcap" input format: one pass over a packet
// capture (pcap or pcapng) decodes its frames once (parse/packet) and feeds
// both the DNS decoder (parse/dnspcap: queries matched with responses) and
// the flow assembler (parse/flow: every TCP, UDP, ICMP and ARP
// conversation, DNS's included), so `winnow analyze capture.pcap` reports
// DNS and network findings together.
//
// The two event streams are each in event-time order and are merged here:
// an event leaves when no event older than it can still come from the
// other stream (its oldest pending item), so the merged stream is in order
// too. The wait is bounded by MaxReorder events per stream; past it the
// oldest leaves anyway (counted as reorder_overflow).
//
// DecodeStats name what was decoded and skipped by protocol (Detail:
// tcp_packets, udp_flows, arp_flows, dns_events, non_ip_frames, ...), so a
// capture never silently yields nothing.
package capture

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/dnspcap"
	"winnow/internal/parse/flow"
	"winnow/internal/parse/packet"
)

// Name is the format name (--input-format pcap).
const Name = "pcap"

// Config configures both decoders.
type Config struct {
	DNS  dnspcap.Config
	Flow flow.Config
	// MaxReorder caps the events held per stream while the other stream
	// may still produce older ones (default 65536).
	MaxReorder int
	// NoFlows decodes DNS only (the format as it was before flows).
	NoFlows bool
}

// Format returns the pcap/pcapng format with the default Config.
func Format() parse.Format {
	return parse.Format{
		Name:    Name,
		Summary: "packet capture (pcap, pcapng; Ethernet/SLL/raw IP, VLAN, IPv4/IPv6, ARP): DNS over UDP and TCP, and flows of TCP, UDP, ICMP and ARP",
		Magic:   packet.Magic,
		Decode:  NewDecoder(Config{}),
	}
}

// NewDecoder returns a parse.Decoder with cfg.
func NewDecoder(cfg Config) parse.Decoder {
	if cfg.MaxReorder <= 0 {
		cfg.MaxReorder = 1 << 16
	}
	return func(r io.Reader, name string, _ parse.Options, emit func(*event.Event) error) (parse.DecodeStats, error) {
		m := &merger{emit: emit, max: cfg.MaxReorder}
		m.dns = dnspcap.NewStream(cfg.DNS, name, func(ev *event.Event) error { m.dq.push(ev); return nil })
		if !cfg.NoFlows {
			m.flows = flow.New(cfg.Flow, name, func(ev *event.Event) error { m.fq.push(ev); return nil })
		}
		err := m.run(r, name)
		return m.stats(), err
	}
}

// queue is a FIFO of events.
type queue struct {
	evs  []event.Event
	head int
}

func (q *queue) push(ev *event.Event) { q.evs = append(q.evs, *ev) }
func (q *queue) len() int             { return len(q.evs) - q.head }
func (q *queue) front() *event.Event  { return &q.evs[q.head] }
func (q *queue) pop() {
	q.evs[q.head] = event.Event{}
	q.head++
	if q.head == len(q.evs) {
		q.evs, q.head = q.evs[:0], 0
	} else if q.head >= 4096 && q.head*2 >= len(q.evs) {
		n := copy(q.evs, q.evs[q.head:])
		q.evs, q.head = q.evs[:n], 0
	}
}

type merger struct {
	emit     func(*event.Event) error
	max      int
	dns      *dnspcap.Stream
	flows    *flow.Assembler
	dq, fq   queue
	now      int64
	records  int64
	events   int64
	linkBad  int64 // frames malformed at the link/IP layers
	nonIP    int64
	unknown  int64 // unsupported link types
	overflow int64
	samples  []event.Sample
	trunc    bool
}

func (m *merger) run(r io.Reader, name string) error {
	pr, err := packet.Open(r)
	if err != nil {
		return err
	}
	var p packet.Packet
	for {
		data, ci, err := pr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return m.finish()
			}
			m.records++
			if errors.Is(err, io.ErrUnexpectedEOF) {
				// The capture ends inside a record (tcpdump killed): the
				// last packet is lost, the rest is fine.
				m.trunc = true
				m.sample(name, "capture ends inside this packet record")
				return m.finish()
			}
			m.sample(name, "corrupt packet record header: "+err.Error())
			if ferr := m.finish(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("corrupt capture at packet %d: %w", m.records, err)
		}
		m.records++
		if ci.TS > m.now {
			m.now = ci.TS
		}
		st, why := packet.Decode(data, ci.Link, ci.CapLen < ci.WireLen, &p)
		switch st {
		case packet.NotIP:
			m.nonIP++
		case packet.UnsupportedLink:
			m.unknown++
		case packet.Malformed:
			m.linkBad++
		}
		// The DNS stream counts and samples malformed frames.
		if err := m.dns.Packet(&p, st, why, ci.TS, m.records); err != nil {
			return err
		}
		if m.flows != nil {
			if err := m.flows.Packet(&p, st, ci.TS, m.records); err != nil {
				return err
			}
		}
		if err := m.release(false); err != nil {
			return err
		}
	}
}

func (m *merger) sample(name, why string) {
	if len(m.samples) < 5 {
		m.samples = append(m.samples, event.Sample{File: name, Line: m.records, Text: "packet " + strconv.FormatInt(m.records, 10) + ": " + why})
	}
}

func (m *merger) finish() error {
	if err := m.dns.Flush(); err != nil {
		return err
	}
	if m.flows != nil {
		if err := m.flows.Flush(); err != nil {
			return err
		}
	}
	return m.release(true)
}

// release emits queued events while no older one can still come.
func (m *merger) release(final bool) error {
	for {
		var q *queue
		switch d, f := m.dq.len() > 0, m.fq.len() > 0; {
		case d && f:
			q = &m.fq
			if m.dq.front().Time.Before(m.fq.front().Time) {
				q = &m.dq
			}
		case d:
			if !final && !m.ready(m.dq.front(), m.flowsOldest()) {
				if m.dq.len() <= m.max {
					return nil
				}
				m.overflow++
			}
			q = &m.dq
		case f:
			if !final && !m.ready(m.fq.front(), m.dnsOldest()) {
				if m.fq.len() <= m.max {
					return nil
				}
				m.overflow++
			}
			q = &m.fq
		default:
			return nil
		}
		m.events++
		if err := m.emit(q.front()); err != nil {
			return err
		}
		q.pop()
	}
}

// ready reports whether ev can leave given the other stream's oldest
// pending time.
func (m *merger) ready(ev *event.Event, other int64) bool {
	return ev.Time.UnixNano() <= other
}

func (m *merger) flowsOldest() int64 {
	if m.flows == nil {
		return 1<<63 - 1
	}
	if t, ok := m.flows.Oldest(); ok {
		return t
	}
	return m.now
}

func (m *merger) dnsOldest() int64 {
	if t, ok := m.dns.Oldest(); ok {
		return t
	}
	return m.now
}

// stats combines the two decoders' counters.
func (m *merger) stats() parse.DecodeStats {
	ds := m.dns.Stats()
	st := parse.DecodeStats{
		Records:   m.records,
		Events:    m.events,
		Malformed: ds.Malformed,
		Samples:   append(m.samples, ds.Samples...),
		Detail:    make(map[string]int64, len(ds.Detail)+16),
	}
	if len(st.Samples) > 5 {
		st.Samples = st.Samples[:5]
	}
	if m.trunc {
		st.Malformed++
		st.Detail["truncated_file"]++
	}
	for k, v := range ds.Detail {
		st.Detail[k] += v
	}
	if n := ds.Events; n > 0 {
		st.Detail["dns_events"] = n
	}
	if m.flows != nil {
		m.flows.Counters().Detail(&st)
		st.Skipped = m.nonIP + m.unknown // frames neither decoder could use
	} else {
		st.Skipped = ds.Skipped
	}
	if m.nonIP > 0 {
		st.Detail["non_ip_frames"] = m.nonIP
	}
	if m.overflow > 0 {
		st.Detail["reorder_overflow"] = m.overflow
	}
	return st
}
