package state

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/netip"
	"time"

	"winnow/internal/correlate"
	"winnow/internal/event"
)

// finding is the JSON form of a pending finding (docs/format/state.md).
type finding struct {
	Rule        string         `json:"rule"`
	Description string         `json:"description"`
	Entity      entity         `json:"entity"`
	Start       time.Time      `json:"start"`
	End         time.Time      `json:"end"`
	Severity    int            `json:"severity"`
	Score       float64        `json:"score"`
	Techniques  []string       `json:"techniques"`
	SourceIP    string         `json:"source_ip"`
	User        string         `json:"user"`
	Related     []entity       `json:"related"`
	Evidence    map[string]any `json:"evidence"`
	Samples     []event.Sample `json:"samples"`
}

type entity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func toFinding(a *event.Alert) finding {
	f := finding{Rule: a.Rule, Description: a.Description, Entity: entity{a.Entity.Type.String(), a.Entity.Value},
		Start: a.Start, End: a.End, Severity: a.Severity, Score: a.Score, Techniques: a.Techniques,
		User: a.User, Evidence: a.Evidence, Samples: a.Samples}
	if a.SourceIP.IsValid() {
		f.SourceIP = a.SourceIP.String()
	}
	for _, r := range a.Related {
		f.Related = append(f.Related, entity{r.Type.String(), r.Value})
	}
	return f
}

// EncodeFinding returns a finding's JSON form (for Snapshot.Pending).
// Evidence values must be JSON-encodable, as event.Alert requires.
func EncodeFinding(a *event.Alert) ([]byte, error) {
	b, err := json.Marshal(toFinding(a))
	if err != nil {
		return nil, fmt.Errorf("cannot encode finding %s: %w", a.Rule, err)
	}
	return b, nil
}

// DecodeFinding reads EncodeFinding's form. Evidence comes back as JSON
// values (numbers as float64, lists as []any): it renders the same in
// JSON output. Errors wrap ErrCorrupt.
func DecodeFinding(b []byte) (event.Alert, error) {
	var f finding
	if err := json.Unmarshal(b, &f); err != nil {
		return event.Alert{}, fmt.Errorf("%w: pending finding: %w", ErrCorrupt, err)
	}
	a := event.Alert{Rule: f.Rule, Description: f.Description, Start: f.Start, End: f.End, Severity: f.Severity,
		Score: f.Score, Techniques: f.Techniques, User: f.User, Evidence: f.Evidence, Samples: f.Samples}
	var ok bool
	if a.Entity, ok = toEntity(f.Entity); !ok {
		return event.Alert{}, fmt.Errorf("%w: pending finding: entity type %q", ErrCorrupt, f.Entity.Type)
	}
	if f.SourceIP != "" {
		ip, err := netip.ParseAddr(f.SourceIP)
		if err != nil {
			return event.Alert{}, fmt.Errorf("%w: pending finding: %w", ErrCorrupt, err)
		}
		a.SourceIP = ip
	}
	for _, r := range f.Related {
		e, ok := toEntity(r)
		if !ok {
			return event.Alert{}, fmt.Errorf("%w: pending finding: entity type %q", ErrCorrupt, r.Type)
		}
		a.Related = append(a.Related, e)
	}
	return a, nil
}

func toEntity(e entity) (event.Entity, bool) {
	for t := event.EntityType(0); t < 32; t++ {
		if t.String() == e.Type {
			return event.Entity{Type: t, Value: e.Value}, true
		}
	}
	return event.Entity{}, false
}

// IncidentID is a finding's stable identity as a number: the first 8
// bytes of correlate.FindingID (rule, entity, episode start). Every report
// of one episode has the same id, in every process.
func IncidentID(a *event.Alert) uint64 {
	b, err := hex.DecodeString(correlate.FindingID(a))
	if err != nil || len(b) < 8 {
		panic("BUG: correlate.FindingID is not 16 hex digits")
	}
	return binary.BigEndian.Uint64(b)
}

// Digest summarises what a finding says (its canonical JSON), so that a
// second report of an unchanged finding can be told from an update.
func Digest(a *event.Alert) (uint64, error) {
	b, err := EncodeFinding(a)
	if err != nil {
		return 0, err
	}
	// Canonical: through generic JSON values, whose maps marshal with
	// sorted keys, so a finding read back from Pending digests alike.
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return 0, fmt.Errorf("cannot digest finding %s: %w", a.Rule, err)
	}
	c, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("cannot digest finding %s: %w", a.Rule, err)
	}
	h := fnv.New64a()
	h.Write(c)
	return h.Sum64(), nil
}
