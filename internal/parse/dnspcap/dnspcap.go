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
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"winnow/internal/event"
	"winnow/internal/parse"
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

// Magic numbers.
const (
	magicMicros   = 0xa1b2c3d4
	magicNanos    = 0xa1b23c4d
	magicPcapNG   = 0x0a0d0d0a
	pcapngByteOrd = 0x1a2b3c4d
)

// Magic reports whether head starts a pcap or pcapng file.
func Magic(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == magicMicros || be == magicMicros || le == magicNanos || be == magicNanos:
		return len(head) < 24 || pcapVersionOK(head)
	case le == magicPcapNG:
		if len(head) < 12 {
			return true
		}
		bo := binary.LittleEndian.Uint32(head[8:])
		return bo == pcapngByteOrd || bo == 0x4d3c2b1a
	}
	return false
}

func pcapVersionOK(h []byte) bool {
	maj := binary.LittleEndian.Uint16(h[4:])
	if binary.LittleEndian.Uint32(h) != magicMicros && binary.LittleEndian.Uint32(h) != magicNanos {
		maj = binary.BigEndian.Uint16(h[4:])
	}
	return maj == 2
}

// packetReader is what pcapgo's two readers have in common.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, ciInfo, error)
}

// ciInfo is the capture info the decoder uses.
type ciInfo struct {
	ts       int64
	capLen   int
	wireLen  int
	linkType layers.LinkType
}

type pcapReader struct {
	r *pcapgo.Reader
	l layers.LinkType
}

func (p *pcapReader) ZeroCopyReadPacketData() ([]byte, ciInfo, error) {
	d, ci, err := p.r.ZeroCopyReadPacketData()
	return d, ciInfo{ts: ci.Timestamp.UnixNano(), capLen: ci.CaptureLength, wireLen: ci.Length, linkType: p.l}, err
}

type ngReader struct {
	r *pcapgo.NgReader
}

func (p *ngReader) ZeroCopyReadPacketData() ([]byte, ciInfo, error) {
	d, ci, err := p.r.ZeroCopyReadPacketData()
	lt := p.r.LinkType()
	if len(ci.AncillaryData) > 0 {
		if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			lt = l
		}
	}
	var ts int64
	if !ci.Timestamp.IsZero() {
		ts = ci.Timestamp.UnixNano()
	}
	return d, ciInfo{ts: ts, capLen: ci.CaptureLength, wireLen: ci.Length, linkType: lt}, err
}

// ErrNotCapture is returned for input that is not a pcap or pcapng file.
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// NewDecoder returns a parse.Decoder with cfg.
func NewDecoder(cfg Config) parse.Decoder {
	cfg = cfg.withDefaults()
	return func(r io.Reader, name string, _ parse.Options, emit func(*event.Event) error) (parse.DecodeStats, error) {
		d := newDecoder(cfg, name, emit)
		err := d.run(r)
		return d.finish(), err
	}
}

// openReader picks the reader by the file's magic.
func openReader(r io.Reader) (packetReader, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCapture, err)
	}
	if binary.LittleEndian.Uint32(head) == magicPcapNG {
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("%w: pcapng: %v", ErrNotCapture, err)
		}
		return &ngReader{r: ng}, nil
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCapture, err)
	}
	return &pcapReader{r: pr, l: pr.LinkType()}, nil
}

// run reads every packet.
func (d *decoder) run(r io.Reader) error {
	pr, err := openReader(r)
	if err != nil {
		return err
	}
	for {
		data, ci, err := pr.ZeroCopyReadPacketData()
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
