package event

import (
	"net/netip"
	"time"
)

// DNS is the DNS part of an event (ECS dns.*). Strings are immutable and
// may be retained.
//
// For DNS events Event.SrcIP/SrcPort are always the client's (the host
// that asked), whichever direction the packet went; the resolver is
// ServerIP/ServerPort. An ActDNSQuery event is one query with its response
// when one was matched (Answered); an ActDNSResponse event is a response
// whose query was not seen (capture started late, or a log that records
// responses on their own lines, as tshark exports do).
type DNS struct {
	Name       string // ECS dns.question.name, lower case, no trailing dot
	Registered string // ECS dns.question.registered_domain (Public Suffix List eTLD+1)
	QType      string // ECS dns.question.type ("A", "TXT", "NULL", ...)
	RCode      string // ECS dns.response_code ("NOERROR", "NXDOMAIN", ...; "" when unanswered)

	ID         uint16     // ECS dns.id, the transaction id
	QTypeCode  uint16     // numeric question type (1 = A, 16 = TXT, ...)
	ServerIP   netip.Addr // the resolver (ECS destination.ip of the query)
	ServerPort uint16
	Transport  string // "udp" or "tcp" ("" when the record does not say)

	// QuerySize and RespSize are the DNS message sizes in bytes (without
	// IP/UDP headers; 0 when unknown). Log formats that record no sizes
	// leave them 0 and set SizeEstimated with sizes computed from the name
	// and answers.
	QuerySize     int32
	RespSize      int32
	SizeEstimated bool

	Answered  bool          // a response was seen for the query
	RTT       time.Duration // response time minus query time (0 when unknown)
	Truncated bool          // TC flag of the response
	EDNS      bool          // the query carried an EDNS0 OPT record
	EDNSSize  uint16        // EDNS0 UDP payload size advertised by the client

	// Answers are the response's answer records (capped by the decoder;
	// AnswerCount is the count the header announced).
	Answers     []Answer
	AnswerCount uint16

	// Orphan says why a query is an orphan (OrphanNone if it is not).
	Orphan Orphan
}

// Answer is one resource record of a response's answer section.
type Answer struct {
	Type string // "A", "CNAME", "TXT", ...
	TTL  uint32
	Data string // rendered address or name; TXT/NULL/other data as its length ("<37 bytes>")
	Size uint16 // rdata length in bytes
}

// Orphan classifies an unanswered or unused query.
type Orphan uint8

// Orphan kinds.
const (
	OrphanNone Orphan = iota
	// OrphanUnanswered: no response within the matching timeout.
	OrphanUnanswered
	// OrphanUnused: answered with addresses, but the client sent no
	// traffic to any of them within the follow-up window although the
	// capture shows its other traffic (pcap input only).
	OrphanUnused
)

func (o Orphan) String() string {
	switch o {
	case OrphanUnanswered:
		return "unanswered"
	case OrphanUnused:
		return "unused"
	}
	return ""
}
