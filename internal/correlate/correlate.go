// Package correlate joins findings about the same entity into one ranked
// risk and links entities that appear in each other's findings (an IP and
// the accounts it touched).
//
// Risk formula (documented in the README):
//
//	weight(f) = score(f) × severity(f)/100         each finding, in [0,1]
//	rule(E,r) = max_{f∈E, rule f = r} weight(f)     repeats of one rule: the strongest
//	own(E)    = 1 − Π_r (1 − rule(E,r))            noisy-OR over E's distinct rules
//	risk(E)   = 1 − (1 − own(E)) × Π_L (1 − ½·own(L))
//
// where L ranges over the entities linked to E. Different rules are
// independent evidence and combine; repeated episodes of one rule are the
// same kind of evidence, so they count once at their strongest (ten small
// scans do not outrank one huge brute force). A linked entity's risk
// counts half: it is indirect evidence. Entities are ranked by the band of
// their highest severity, then risk, then number of findings, then name.
package correlate

import (
	"sort"
	"time"

	"winnow/internal/event"
)

// LinkWeight is the discount applied to a linked entity's own risk.
const LinkWeight = 0.5

// EntityRisk is one entity's joined findings.
type EntityRisk struct {
	Entity   event.Entity
	Risk     float64 // combined, 0–1
	Own      float64 // from the entity's own findings only
	Severity int     // highest severity among its own findings
	Findings []event.Alert
	Linked   []event.Entity // entities with findings that involve this one
	Start    time.Time
	End      time.Time
}

// Correlate groups alerts by entity, links and ranks them. The result is
// deterministic for a given set of alerts, whatever their order.
func Correlate(alerts []event.Alert) []EntityRisk {
	byEnt := map[event.Entity]*EntityRisk{}
	var order []*EntityRisk
	for _, a := range alerts {
		er := byEnt[a.Entity]
		if er == nil {
			er = &EntityRisk{Entity: a.Entity}
			byEnt[a.Entity] = er
			order = append(order, er)
		}
		er.Findings = append(er.Findings, a)
	}
	for _, er := range order {
		summarise(er)
	}
	link(byEnt)
	for _, er := range order {
		rest := 1 - er.Own
		for _, l := range er.Linked {
			rest *= 1 - LinkWeight*byEnt[l].Own
		}
		er.Risk = 1 - rest
	}
	out := make([]EntityRisk, len(order))
	for i, er := range order {
		out[i] = *er
	}
	sort.Slice(out, func(i, j int) bool { return rankLess(&out[i], &out[j]) })
	return out
}

func summarise(er *EntityRisk) {
	sort.Slice(er.Findings, func(i, j int) bool { return findingLess(&er.Findings[i], &er.Findings[j]) })
	strongest := map[string]float64{}
	for _, f := range er.Findings {
		if f.Severity > er.Severity {
			er.Severity = f.Severity
		}
		if w := clamp01(f.Score) * float64(f.Severity) / 100; w > strongest[f.Rule] {
			strongest[f.Rule] = w
		}
		if er.Start.IsZero() || f.Start.Before(er.Start) {
			er.Start = f.Start
		}
		if f.End.After(er.End) {
			er.End = f.End
		}
	}
	rest := 1.0
	for _, w := range strongest {
		rest *= 1 - w
	}
	er.Own = 1 - rest
}

// link connects E and L when a finding of one names the other in Related
// (or as its SourceIP/User) and both have findings of their own.
func link(byEnt map[event.Entity]*EntityRisk) {
	linked := map[event.Entity]map[event.Entity]bool{}
	add := func(a, b event.Entity) {
		if a == b || byEnt[b] == nil {
			return
		}
		if linked[a] == nil {
			linked[a] = map[event.Entity]bool{}
		}
		if linked[b] == nil {
			linked[b] = map[event.Entity]bool{}
		}
		linked[a][b], linked[b][a] = true, true
	}
	for ent, er := range byEnt {
		for _, f := range er.Findings {
			for _, r := range f.Related {
				add(ent, r)
			}
			if f.SourceIP.IsValid() {
				add(ent, event.Entity{Type: event.EntityIP, Value: f.SourceIP.String()})
			}
			if f.User != "" {
				add(ent, event.Entity{Type: event.EntityUser, Value: f.User})
			}
		}
	}
	for ent, set := range linked {
		er := byEnt[ent]
		for l := range set {
			er.Linked = append(er.Linked, l)
		}
		sort.Slice(er.Linked, func(i, j int) bool { return er.Linked[i].String() < er.Linked[j].String() })
	}
}

func band(sev int) int {
	switch {
	case sev >= event.SeverityCritical:
		return 4
	case sev >= event.SeverityHigh:
		return 3
	case sev >= event.SeverityMedium:
		return 2
	case sev >= event.SeverityLow:
		return 1
	}
	return 0
}

func rankLess(a, b *EntityRisk) bool {
	if ba, bb := band(a.Severity), band(b.Severity); ba != bb {
		return ba > bb
	}
	if a.Risk != b.Risk {
		return a.Risk > b.Risk
	}
	if len(a.Findings) != len(b.Findings) {
		return len(a.Findings) > len(b.Findings)
	}
	return a.Entity.String() < b.Entity.String()
}

func findingLess(a, b *event.Alert) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if !a.Start.Equal(b.Start) {
		return a.Start.Before(b.Start)
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	if !a.End.Equal(b.End) {
		return a.End.Before(b.End)
	}
	return a.Description < b.Description
}

func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}
