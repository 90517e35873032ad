package dnspcap

import (
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/packet"
)

// Stream is the DNS decoder fed with frames decoded elsewhere, so that one
// pass over a capture can feed several decoders (parse/capture decodes DNS
// and flows together). Not safe for concurrent use.
type Stream struct{ d *decoder }

// NewStream returns a DNS stream for the input named name; emit receives
// DNS events in query-time order (it must copy *ev).
func NewStream(cfg Config, name string, emit func(*event.Event) error) *Stream {
	return &Stream{d: newDecoder(cfg.withDefaults(), name, emit)}
}

// Packet takes frame number rec, captured at ts, decoded by packet.Decode
// into p with status st (and why, for Malformed).
func (s *Stream) Packet(p *packet.Packet, st packet.Status, why string, ts, rec int64) error {
	s.d.stats.Records = rec
	return s.d.decoded(p, st, why, ts)
}

// Flush emits every query still waiting (end of input).
func (s *Stream) Flush() error { return s.d.flush() }

// Stats returns the DNS decoder's counters. Its Skipped counts every frame
// that was not DNS.
func (s *Stream) Stats() parse.DecodeStats { return s.d.stats }

// Oldest returns the time (unix ns) of the oldest query not yet emitted;
// ok is false when none waits. Nothing emitted later is older.
func (s *Stream) Oldest() (int64, bool) {
	if s.d.q.n == 0 {
		return 0, false
	}
	return s.d.q.front().ev.Time.UnixNano(), true
}
