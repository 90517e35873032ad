package event

import (
	"net/netip"
	"time"
)

// Severity bands, as Elastic's detection rules use them (1–100).
const (
	SeverityInfo     = 10
	SeverityLow      = 21
	SeverityMedium   = 47
	SeverityHigh     = 73
	SeverityCritical = 99
)

// SeverityName maps a 1–100 severity to its band name.
func SeverityName(s int) string {
	switch {
	case s >= SeverityCritical:
		return "critical"
	case s >= SeverityHigh:
		return "high"
	case s >= SeverityMedium:
		return "medium"
	case s >= SeverityLow:
		return "low"
	}
	return "info"
}

// ParseSeverity maps a band name or a number to a severity; ok is false if s
// is neither.
func ParseSeverity(s string) (int, bool) {
	switch s {
	case "critical":
		return SeverityCritical, true
	case "high":
		return SeverityHigh, true
	case "medium":
		return SeverityMedium, true
	case "low":
		return SeverityLow, true
	case "info":
		return 1, true
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' || n > 100 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if s == "" || n < 1 || n > 100 {
		return 0, false
	}
	return n, true
}

// Sample is one evidence line of a finding.
type Sample struct {
	File string `json:"file"`
	Line int64  `json:"line"`
	Text string `json:"text"`
}

// Alert is one finding: a detector fired on an entity over a time range.
// Alerts are values owned by whoever holds them; they are not on the hot
// path, so Evidence may be a map.
type Alert struct {
	Rule        string    // "<family>.<detector>", e.g. "auth.brute_force"
	Description string    // one sentence, with the numbers that made it fire
	Entity      Entity    // what the finding is about
	Start, End  time.Time // event-time range of the evidence
	Severity    int       // 1–100, Elastic's bands (SeverityLow ...)
	Score       float64   // confidence 0–1
	Techniques  []string  // MITRE ATT&CK technique ids
	SourceIP    netip.Addr
	// SourceHost is the source's host name when the log names it by name,
	// not address (sshd with UseDNS); the entity is then that host.
	SourceHost string
	User       string
	// Related lists other entities this finding involves (the accounts a
	// source tried, the sources that touched an account); correlation uses
	// them to link findings.
	Related []Entity
	// Sensors are the sensors whose events are the finding's evidence
	// (set by the caller from the samples' inputs; nil when none is
	// configured).
	Sensors []Sensor
	// Evidence holds the numbers: observed vs. threshold or baseline,
	// counts, distinct counts. Keys are snake_case; values are JSON-encodable.
	Evidence map[string]any
	Samples  []Sample
	// Open is true for a provisional finding about an episode that is
	// still open (a live run reports an incident as soon as its evidence
	// is complete); a later finding with the same Rule, Entity and Start
	// supersedes it. Findings emitted when an episode closes leave it
	// false.
	Open bool
	// Role, when set, says the finding identifies its entity as
	// infrastructure (RoleDNSResolver): the activity other findings
	// attribute to the entity is its clients', and correlation treats
	// those findings as context of the entity, not reasons.
	Role string
}

// Roles an entity can be identified in.
const (
	// RoleDNSResolver: the address answers other hosts' DNS queries and
	// re-asks them upstream; its own query traffic is its clients'.
	RoleDNSResolver = "dns-resolver"
)
