// Package dnspcap decodes DNS traffic from packet captures (pcap and
// pcapng, plain or gzip-compressed) into DNS events, in pure Go.
//
// Link layers: Ethernet (with 802.1Q/802.1ad VLAN tags, stacked), Linux
// cooked capture v1 and v2 (SLL, SLL2), raw IP, BSD loopback (NULL/LOOP).
// Network: IPv4 and IPv6 (extension headers walked). Transport: DNS over
// UDP and over TCP (RFC 1035 length-prefixed messages, reassembled per
// flow). EDNS0 OPT records are read from queries.
//
// Queries are matched to responses by client address and port, server
// address and port, transport and transaction id, with a timeout in event
// time (Config.Timeout). One event is emitted per query (ActDNSQuery), with
// its response's code, size, round-trip time, answer types, TTLs and data
// when matched; a response whose query was not in the capture is an
// ActDNSResponse event. A query never answered within the timeout is an
// orphan (OrphanUnanswered). When the capture also shows the client's
// other traffic, an answered A/AAAA query whose addresses the client never
// contacted within Config.FollowUp is an orphan too (OrphanUnused).
//
// Events come out in the capture's packet order of their queries: a query
// waits in a FIFO until its response (or follow-up traffic) or its timeout
// has been seen, so the FIFO is the reorder buffer. A capture whose packets
// are out of order by more than the detectors' lateness (one minute by
// default) yields events out of order by as much; capture tools write in
// order, and mergecap merges by time.
//
// Nothing in a capture stops the decoder: packets that are malformed,
// truncated by the snap length, or IP fragments (not reassembled) are
// counted in DecodeStats (Malformed, Detail) and skipped; a few are sampled
// with their packet number. Only an unreadable file header or a corrupt
// record header (after which no packet boundary can be found) ends a
// capture early, with an error.
package dnspcap

import (
	"errors"
	"fmt"
	"io"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/packet"
)

// Name is the format name (--input-format pcap).
const Name = "pcap"

// Config tunes the decoder. Zero values mean the defaults.
type Config struct {
	// Timeout after which an unanswered query is an orphan (default 5s,
	// the stub resolver's usual timeout).
	Timeout time.Duration
	// FollowUp is how long after an answer the client's traffic to one of
	// its addresses is awaited (default 2s: clients connect within
	// milliseconds of the answer); negative disables the check.
	FollowUp time.Duration
	// MaxPending caps queries awaiting a response or follow-up (default
	// 262144); beyond it the oldest is released early (counted as
	// pending_evicted).
	MaxPending int
	// MaxTCPFlows caps reassembled TCP DNS flows (default 4096; new flows
	// beyond it are counted as tcp_flows_dropped).
	MaxTCPFlows int
	// Ports are the DNS server ports (default 53).
	Ports []uint16
	// Samples is how many malformed packets are described (default 5).
	Samples int
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.FollowUp == 0 {
		c.FollowUp = 2 * time.Second
	}
	if c.MaxPending <= 0 {
		c.MaxPending = 1 << 18
	}
	if c.MaxTCPFlows <= 0 {
		c.MaxTCPFlows = 4096
	}
	if len(c.Ports) == 0 {
		c.Ports = []uint16{53}
	}
	if c.Samples <= 0 {
		c.Samples = 5
	}
	return c
}

// Format returns the pcap/pcapng format with the default Config.
func Format() parse.Format {
	return parse.Format{
		Name:    Name,
		Summary: "packet capture (pcap, pcapng; Ethernet/SLL/raw IP, VLAN, IPv4/IPv6, DNS over UDP and TCP)",
		Magic:   Magic,
		Decode:  NewDecoder(Config{}),
	}
}

// Magic reports whether head starts a pcap or pcapng file.
func Magic(head []byte) bool { return packet.Magic(head) }

// ErrNotCapture is returned for input that is not a pcap or pcapng file.
var ErrNotCapture = packet.ErrNotCapture

// NewDecoder returns a parse.Decoder with cfg.
func NewDecoder(cfg Config) parse.Decoder {
	cfg = cfg.withDefaults()
	return func(r io.Reader, name string, _ parse.Options, emit func(*event.Event) error) (parse.DecodeStats, error) {
		d := newDecoder(cfg, name, emit)
		err := d.run(r)
		return d.finish(), err
	}
}

// run reads every packet.
func (d *decoder) run(r io.Reader) error {
	pr, err := packet.Open(r)
	if err != nil {
		return err
	}
	for {
		data, ci, err := pr.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return d.flush()
			}
			d.stats.Records++
			if errors.Is(err, io.ErrUnexpectedEOF) {
				// The capture ends inside a record (tcpdump killed):
				// the last packet is lost, the rest is fine.
				d.bad(d.stats.Records, "capture ends inside this packet record")
				d.count("truncated_file")
				return d.flush()
			}
			d.bad(d.stats.Records, "corrupt packet record header: "+err.Error())
			if ferr := d.flush(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("corrupt capture at packet %d: %w", d.stats.Records, err)
		}
		d.stats.Records++
		if err := d.packet(data, ci); err != nil {
			return err
		}
	}
}
