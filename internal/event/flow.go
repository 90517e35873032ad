package event

import "time"

// Flow is the network-flow part of an event (ECS network.*, source.*,
// destination.*): one connection, or one active-timeout slice of a long
// one, as a flow assembler or Zeek's conn.log reports it. Strings are
// immutable and may be retained.
//
// The originator is Event.SrcIP/SrcPort (the side that sent the first
// request: the SYN, the first datagram), the responder Event.DstIP/DstPort.
// Event.Time is the first packet's time (ECS event.start, Zeek ts); End the
// last packet's. For ICMP the ports are 0 and ICMPType/ICMPCode say what
// the first packet was (echo requests keep their identifier in SrcPort).
type Flow struct {
	Transport string // ECS network.transport: "tcp", "udp", "icmp", "icmp6", "arp", or "ip-proto-N"
	Proto     uint8  // IANA protocol number (0 for ARP)
	End       time.Time

	OrigPackets, RespPackets int64
	// OrigBytes and RespBytes are IP-level bytes (headers included, as
	// NetFlow and Zeek's orig_ip_bytes count them).
	OrigBytes, RespBytes int64

	// OrigFlags and RespFlags are the TCP flags seen from each side, OR-ed
	// (FlagFIN, FlagSYN, ...).
	OrigFlags, RespFlags uint8
	// State is Zeek's conn_state: S0 (attempt, no reply), S1, SF, REJ,
	// S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH. UDP, ICMP and ARP
	// flows are S0 without a reply and SF with one.
	State string
	// Service is the application protocol when known (Zeek's service
	// column: "dns", "http", ...); "" otherwise.
	Service string

	ICMPType, ICMPCode uint8
	// Unreachable is set when an ICMP destination-unreachable (or ICMPv6
	// equivalent) answered the flow's packets; UnreachCode is its code
	// (3 = port unreachable: a closed UDP port).
	Unreachable bool
	UnreachCode uint8
	// Reversed is set when the responder's packet was seen first (a SYN-ACK,
	// a reply from a service port): the request is not in the capture —
	// the signature of reflected traffic arriving at a spoofed victim.
	Reversed bool
	// Partial is set when the assembler cut a long flow at its active
	// timeout: records for the same connection follow.
	Partial bool
	// UID is Zeek's connection uid ("" for captures).
	UID string
}

// TCP flag bits (Flow.OrigFlags, Flow.RespFlags).
const (
	FlagFIN = 0x01
	FlagSYN = 0x02
	FlagRST = 0x04
	FlagPSH = 0x08
	FlagACK = 0x10
	FlagURG = 0x20
	FlagECE = 0x40
	FlagCWR = 0x80
)

// Packets is the flow's packet count, both directions.
func (f *Flow) Packets() int64 { return f.OrigPackets + f.RespPackets }

// Bytes is the flow's IP byte count, both directions.
func (f *Flow) Bytes() int64 { return f.OrigBytes + f.RespBytes }

// Answered reports whether the responder sent anything.
func (f *Flow) Answered() bool { return f.RespPackets > 0 }

// File is a transferred file seen on the network (Zeek files.log): its
// hashes let indicator sets (known-bad, NSRL known-good) match. Event.SrcIP
// is the host that sent it, Event.DstIP the one that received it. Strings
// are lower case hex for hashes and immutable.
type File struct {
	MD5, SHA1, SHA256 string
	Name              string // file name when the protocol gave one
	MimeType          string
	Size              int64  // bytes seen (-1 when unknown)
	Source            string // protocol that carried it ("HTTP", "SMTP", ...)
	FUID              string // Zeek file id
	ConnUID           string // Zeek connection uid, when the log gives one
}

// Sensor is what saw an event: set per input from its configuration and
// shared by every event of that input (never modified). ECS observer.*.
type Sensor struct {
	Name    string // observer.name, e.g. "edge-tap", "web1"
	Vantage string // where it looks from: "edge", "internal", "host", ...
	Domain  string // what it sees: "network", "host", "service"
}

// String renders a sensor as name (vantage/domain), leaving out what is
// unset.
func (s *Sensor) String() string {
	if s == nil {
		return ""
	}
	out := s.Name
	if out == "" {
		out = "-"
	}
	switch {
	case s.Vantage != "" && s.Domain != "":
		out += " (" + s.Vantage + "/" + s.Domain + ")"
	case s.Vantage != "":
		out += " (" + s.Vantage + ")"
	case s.Domain != "":
		out += " (" + s.Domain + ")"
	}
	return out
}
