package flow

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/packet"
)

// NewDecoder returns a parse.Decoder that reads a capture into flow events
// only (the "pcap" format decodes DNS and flows together; this one serves
// benchmarks, fuzzing and callers that want flows alone).
func NewDecoder(cfg Config) parse.Decoder {
	return func(r io.Reader, name string, _ parse.Options, emit func(*event.Event) error) (parse.DecodeStats, error) {
		var st parse.DecodeStats
		a := New(cfg, name, func(ev *event.Event) error {
			st.Events++
			return emit(ev)
		})
		pr, err := packet.Open(r)
		if err != nil {
			return st, err
		}
		var p packet.Packet
		for {
			data, ci, err := pr.Next()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					if errors.Is(err, io.ErrUnexpectedEOF) {
						st.Records++
						st.Malformed++
					}
					err = a.Flush()
					a.Counters().Detail(&st)
					return st, err
				}
				st.Records++
				st.Malformed++
				ferr := a.Flush()
				a.Counters().Detail(&st)
				if ferr != nil {
					return st, ferr
				}
				return st, fmt.Errorf("corrupt capture at packet %d: %w", st.Records, err)
			}
			st.Records++
			s, why := packet.Decode(data, ci.Link, ci.CapLen < ci.WireLen, &p)
			switch s {
			case packet.Malformed:
				st.Malformed++
				if len(st.Samples) < 5 {
					st.Samples = append(st.Samples, event.Sample{File: name, Line: st.Records, Text: "packet " + strconv.FormatInt(st.Records, 10) + ": " + why})
				}
			case packet.NotIP, packet.UnsupportedLink:
				st.Skipped++
			}
			if err := a.Packet(&p, s, ci.TS, st.Records); err != nil {
				return st, err
			}
		}
	}
}

// Detail adds the counters to st.Detail under snake_case names: packets
// and flows by protocol ("tcp_packets", "udp_flows", "arp_flows", ...),
// and what was not assigned to a flow.
func (c *Counters) Detail(st *parse.DecodeStats) {
	if st.Detail == nil {
		st.Detail = make(map[string]int64)
	}
	for p := range len(c.Packets) {
		var name string
		switch p {
		case packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP, packet.ProtoICMPv6:
			name = packet.ProtoName(uint8(p))
		case ARPIndex:
			name = "arp"
		default:
			name = "other_ip"
		}
		if c.Packets[p] > 0 {
			st.Detail[name+"_packets"] += c.Packets[p]
		}
		if c.Flows[p] > 0 {
			st.Detail[name+"_flows"] += c.Flows[p]
		}
	}
	add := func(k string, v int64) {
		if v > 0 {
			st.Detail[k] += v
		}
	}
	add("ip_fragments_not_in_flows", c.Fragments)
	add("icmp_errors_attributed", c.ICMPErrors)
	add("icmp_errors_quoting_unseen_packets", c.ICMPUnmatched)
	add("icmp_router_errors_about_unseen_packets", c.ICMPUnattributed)
	add("flows_cut_by_active_timeout", c.Cut)
	add("flows_released_early_table_full", c.ReleasedEarly)
	add("short_transport_headers", c.Malformed)
}
