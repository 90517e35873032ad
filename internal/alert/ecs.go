// Package alert renders findings for machines: the JSON Lines contract with
// Elastic Common Schema names. Field names here are a stable contract.
package alert

import (
	"encoding/json"
	"io"
	"time"

	"winnow/internal/correlate"
	"winnow/internal/event"
)

// Doc is one finding as a JSON document.
type Doc struct {
	Timestamp string   `json:"@timestamp"`
	Event     EventF   `json:"event"`
	Rule      RuleF    `json:"rule"`
	Winnow    WinnowF  `json:"winnow"`
	Source    *IPF     `json:"source,omitempty"`
	User      *UserF   `json:"user,omitempty"`
	Threat    *ThreatF `json:"threat,omitempty"`
}

// EventF is ECS event.*.
type EventF struct {
	Kind     string `json:"kind"`
	Start    string `json:"start"`
	End      string `json:"end"`
	Severity int    `json:"severity"`
	// SeverityName is the band (low, medium, high, critical) for humans.
	SeverityName string `json:"severity_name"`
}

// RuleF is ECS rule.*.
type RuleF struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// WinnowF holds winnow's own fields.
type WinnowF struct {
	Entity   EntityF        `json:"entity"`
	Score    float64        `json:"score"`
	Risk     float64        `json:"risk"` // the entity's combined risk (see correlate)
	Rank     int            `json:"rank"` // the entity's rank, 1 = most urgent
	Evidence map[string]any `json:"evidence"`
	Samples  []event.Sample `json:"samples"`
	Related  []EntityF      `json:"related,omitempty"`
	Linked   []EntityF      `json:"linked,omitempty"`
	// Incident is set by live runs (see sink.Finding): the incident this
	// report belongs to, how many reports came before it, and whether the
	// episode is still open.
	Incident *IncidentF `json:"incident,omitempty"`
}

// IncidentF identifies one report of an incident in a live stream.
type IncidentF struct {
	ID     string `json:"id"`
	Update int    `json:"update"`
	Open   bool   `json:"open"`
}

// EntityF is an entity.
type EntityF struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// IPF is ECS source.ip.
type IPF struct {
	IP string `json:"ip"`
}

// UserF is ECS user.name.
type UserF struct {
	Name string `json:"name"`
}

// ThreatF is ECS threat.technique.id.
type ThreatF struct {
	Framework string     `json:"framework"`
	Technique TechniqueF `json:"technique"`
}

// TechniqueF lists ATT&CK technique ids.
type TechniqueF struct {
	ID []string `json:"id"`
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func entities(es []event.Entity) []EntityF {
	out := make([]EntityF, 0, len(es))
	for _, e := range es {
		out = append(out, EntityF{Type: e.Type.String(), Value: e.Value})
	}
	return out
}

// NewDoc maps a finding of a ranked entity to its document.
func NewDoc(a *event.Alert, er *correlate.EntityRisk, rank int) Doc {
	d := Doc{
		Timestamp: ts(a.End),
		Event: EventF{Kind: "alert", Start: ts(a.Start), End: ts(a.End),
			Severity: a.Severity, SeverityName: event.SeverityName(a.Severity)},
		Rule: RuleF{Name: a.Rule, Description: a.Description},
		Winnow: WinnowF{
			Entity:   EntityF{Type: a.Entity.Type.String(), Value: a.Entity.Value},
			Score:    round3(a.Score),
			Risk:     round3(er.Risk),
			Rank:     rank,
			Evidence: a.Evidence,
			Samples:  a.Samples,
			Related:  entities(a.Related),
			Linked:   entities(er.Linked),
		},
	}
	if d.Winnow.Evidence == nil {
		d.Winnow.Evidence = map[string]any{}
	}
	if d.Winnow.Samples == nil {
		d.Winnow.Samples = []event.Sample{}
	}
	if a.SourceIP.IsValid() {
		d.Source = &IPF{IP: a.SourceIP.String()}
	}
	if a.User != "" {
		d.User = &UserF{Name: a.User}
	}
	if len(a.Techniques) > 0 {
		d.Threat = &ThreatF{Framework: "MITRE ATT&CK", Technique: TechniqueF{ID: a.Techniques}}
	}
	return d
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// WriteJSON writes one line per finding, entities in rank order and each
// entity's findings most severe first. Findings below minSeverity are left
// out (ranks are not renumbered).
func WriteJSON(w io.Writer, ranked []correlate.EntityRisk, minSeverity int) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range ranked {
		er := &ranked[i]
		for j := range er.Findings {
			a := &er.Findings[j]
			if a.Severity < minSeverity {
				continue
			}
			if err := enc.Encode(NewDoc(a, er, i+1)); err != nil {
				return err
			}
		}
	}
	return nil
}
