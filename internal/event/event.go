// Package event holds the leaf types that flow through winnow's pipeline:
// the typed Event produced by parsers, the Entity a detector aggregates by,
// and the Alert (finding) a detector reports. It imports nothing internal.
package event

import (
	"net/netip"
	"time"
)

// Kind is the family of a record.
type Kind uint8

// Kinds of events. New families append; the numeric values are not stable
// across versions and must not be persisted (use String).
const (
	KindUnknown Kind = iota
	KindSyslog       // a syslog line that no specific parser understood
	KindAuth         // authentication, session, privilege and account events
	KindService      // service manager (systemd) events
	KindHTTP         // web access log records
	KindDNS          // DNS queries and responses
	KindFlow         // network flows (captures, Zeek conn.log)
	KindAudit        // host audit events (auditd, SELinux/AppArmor AVC)
	KindFile         // files transferred on the network (Zeek files.log)
)

var kindNames = [...]string{"unknown", "syslog", "auth", "service", "http", "dns", "flow", "audit", "file"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Outcome is the ECS event.outcome of an event.
type Outcome uint8

// Outcomes, as in ECS.
const (
	OutcomeUnknown Outcome = iota
	OutcomeSuccess
	OutcomeFailure
)

func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeFailure:
		return "failure"
	}
	return "unknown"
}

// Ref points at the record an event came from: the input's name as the
// user gave it (or "-" for stdin) and the 1-based line number.
type Ref struct {
	File string
	Line int64
	// Off is the uncompressed byte offset just past the line in its input
	// (where a resumed run starts after it); 0 when not known.
	Off int64
}

// Event is one typed record. Parsers fill it; detectors read it.
//
// Ownership: every string field is immutable and may be retained. Raw
// aliases the reader's input buffer, which is never rewritten but is large:
// a consumer that keeps any part of Raw beyond the call that received the
// event must copy it (string(ev.Raw)), or it pins the whole buffer.
type Event struct {
	Time    time.Time // event time from the record, never the wall clock
	Kind    Kind
	Action  Action  // what happened; see actions.go
	Outcome Outcome // success or failure where the record says

	Host    string // the host that wrote the record (syslog hostname)
	Program string // the program (syslog tag), e.g. "sshd"
	PID     int32

	SrcIP   netip.Addr // remote source address, when the record has one
	SrcPort uint16
	// SrcHost is the remote source's host name when the record names it by
	// name instead of address (sshd with UseDNS yes: "from host.example.org",
	// PAM "rhost=host.example.org"); SrcIP is then unset. ECS source.domain.
	SrcHost string
	DstIP   netip.Addr // destination address (flows: the responder), when the record has one
	DstPort uint16

	User       string // the account acted as or attempted (ECS user.name)
	TargetUser string // the account acted on: sudo runas, su target, useradd name (ECS user.target.name)
	Method     string // authentication method: password, publickey, keyboard-interactive, ...
	Command    string // sudo COMMAND= or similar
	Unit       string // systemd unit for service events

	// Count is how many identical records this event stands for; parsers
	// expand "message repeated N times" into N events so it is normally 1.
	Count int32
	// InvalidUser is set when the record says the account does not exist.
	InvalidUser bool
	// Preauth is set when sshd marks the record "[preauth]": the
	// connection had not authenticated (a key-only server logs a failed
	// guess only as a preauth disconnect).
	Preauth bool

	// Per-kind parts, nil for other kinds. A parser allocates a fresh part
	// per event (or none); consumers must not modify it.
	HTTP  *HTTP  // KindHTTP: see http.go
	DNS   *DNS   // KindDNS: see dns.go
	Flow  *Flow  // KindFlow: see flow.go
	Audit *Audit // KindAudit: see audit.go
	File  *File  // KindFile: see flow.go

	// Sensor is what saw the event, from its input's configuration (nil
	// when none was given); shared by the input's events, never modified.
	Sensor *Sensor

	Ref Ref
	Raw []byte // the whole input line, without line terminator; see Ownership
	Msg []byte // the message part of a syslog line (aliases Raw)
}

// Entity is what findings are about.
type Entity struct {
	Type  EntityType
	Value string
}

// EntityType names the kind of entity.
type EntityType uint8

// Entity types.
const (
	EntityNone EntityType = iota
	EntityIP
	EntityUser
	EntityDomain
	EntityHost
)

var entityNames = [...]string{"none", "ip", "user", "domain", "host"}

func (t EntityType) String() string {
	if int(t) < len(entityNames) {
		return entityNames[t]
	}
	return "none"
}

// MarshalText encodes the type as its name (ECS-style strings in JSON).
func (t EntityType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// String renders an entity as type:value.
func (e Entity) String() string { return e.Type.String() + ":" + e.Value }

// IsZero reports whether the entity is unset.
func (e Entity) IsZero() bool { return e.Type == EntityNone }
