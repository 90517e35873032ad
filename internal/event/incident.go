package event

import "time"

// Incident is the unit of output: the findings about one entity in one
// episode, joined. It grows while the episode lasts (more findings, a
// later End, a higher Severity); its ID does not change.
//
// Incidents are values: whoever holds one owns it. The correlator that
// builds them hands out copies.
type Incident struct {
	// ID is stable: the hash of the rule, entity and start of the finding
	// that opened the incident (see correlate.FindingID). A finding that is
	// delivered again (after a restart, or by a second worker) updates the
	// incident it joined before instead of opening another.
	ID     string
	Entity Entity
	// Start and End span every finding in the incident, context included.
	Start, End time.Time
	// Severity is the highest severity of the findings that are reasons;
	// context does not raise it.
	Severity int
	// Risk combines the reasons, the context and linked incidents, 0–1
	// (see package correlate for the formula).
	Risk float64
	// Reasons are the rules that made the incident, strongest first: one
	// entry per rule with its strongest finding.
	Reasons []Reason
	// Context are weak observations about the entity during the incident
	// (a new source, a rare user agent, a blip in a series): they raise
	// Risk, not Severity. An incident whose every finding is weak has
	// them as Reasons instead, and its Severity is theirs.
	Context []Reason
	// Findings are the findings kept as evidence, strongest first, at most
	// a few per rule; Count is how many were folded in.
	Findings []Alert
	Count    int
	// Related are the other entities the findings involve (the accounts a
	// source tried, the sources that touched an account), in order of
	// first mention, capped.
	Related []Entity
	// Linked are related entities that have incidents of their own
	// overlapping this one (filled when incidents are ranked).
	Linked []Entity
	// Merged lists the IDs of incidents that were merged into this one
	// when a late finding bridged them.
	Merged []string
	// Version counts the updates: 1 when opened, +1 for every finding that
	// changed it.
	Version int
}

// Reason is one rule's contribution to an incident: its strongest
// finding's description and numbers, and how many findings of the rule
// the incident holds.
type Reason struct {
	Rule        string
	Severity    int
	Score       float64
	Count       int
	Description string
	Start, End  time.Time
}

// Strongest returns the incident's first reason (the zero Reason if it has
// none).
func (in *Incident) Strongest() Reason {
	if len(in.Reasons) > 0 {
		return in.Reasons[0]
	}
	return Reason{}
}
