package event

// DNS is the DNS part of an event (ECS dns.*). Strings are immutable and
// may be retained.
type DNS struct {
	Name       string // ECS dns.question.name, lower case, no trailing dot
	Registered string // ECS dns.question.registered_domain (Public Suffix List eTLD+1)
	QType      string // ECS dns.question.type ("A", "TXT", "NULL", ...)
	RCode      string // ECS dns.response_code ("NOERROR", "NXDOMAIN", ...; "" when unanswered)
}
