package archive

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"winnow/internal/event"
)

func findingRow(a *event.Alert, run string) FindingRow {
	r := FindingRow{
		Timestamp: a.End.UTC(), Start: a.Start.UTC(), Run: run, Rule: a.Rule, Description: a.Description,
		EntityType: a.Entity.Type.String(), EntityValue: a.Entity.Value, Severity: int32(a.Severity), Score: a.Score,
		User: a.User, Techniques: a.Techniques,
	}
	if a.SourceIP.IsValid() {
		r.SourceIP = a.SourceIP.String()
	}
	r.Evidence = jsonText(a.Evidence)
	r.Samples = jsonText(a.Samples)
	type ent struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	rel := make([]ent, 0, len(a.Related))
	for _, e := range a.Related {
		rel = append(rel, ent{e.Type.String(), e.Value})
	}
	r.Related = jsonText(rel)
	return r
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", err.Error())
	}
	return string(b)
}

// Key identifies a finding for comparisons between runs (replay --diff):
// rule, entity and time range.
type Key struct {
	Rule       string
	Entity     event.Entity
	Start, End int64 // unix nanoseconds
}

// KeyOf returns a finding's key.
func KeyOf(a *event.Alert) Key {
	return Key{Rule: a.Rule, Entity: a.Entity, Start: a.Start.UnixNano(), End: a.End.UnixNano()}
}

// rowAlert rebuilds an Alert from a finding row (evidence and samples
// decoded from their JSON).
func rowAlert(r *FindingRow) event.Alert {
	a := event.Alert{
		Rule: r.Rule, Description: r.Description,
		Entity: event.Entity{Type: event.ParseEntityType(r.EntityType), Value: r.EntityValue},
		Start:  r.Start.UTC(), End: r.Timestamp.UTC(), Severity: int(r.Severity), Score: r.Score,
		Techniques: r.Techniques, User: r.User,
	}
	if r.SourceIP != "" {
		a.SourceIP, _ = netip.ParseAddr(r.SourceIP)
	}
	_ = json.Unmarshal([]byte(r.Evidence), &a.Evidence)
	_ = json.Unmarshal([]byte(r.Samples), &a.Samples)
	var rel []struct{ Type, Value string }
	_ = json.Unmarshal([]byte(r.Related), &rel)
	for _, e := range rel {
		a.Related = append(a.Related, event.Entity{Type: event.ParseEntityType(e.Type), Value: e.Value})
	}
	return a
}

// Findings reads the archived findings that ended in [from, to) (zero
// times: unbounded), sorted by end time then rule. Files that cannot be
// read are reported in errs and skipped.
func Findings(dir string, from, to time.Time) (out []event.Alert, errs []error) {
	release, _ := ReadLock(dir)
	defer release()
	files, errs := list(dir, []string{"finding"}, from, to)
	for _, f := range files {
		rows, err := readAll[FindingRow](f.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i := range rows {
			if inWindow(rows[i].Timestamp, from, to) {
				out = append(out, rowAlert(&rows[i]))
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].End.Equal(out[j].End) {
			return out[i].End.Before(out[j].End)
		}
		return out[i].Rule < out[j].Rule
	})
	return out, errs
}

func inWindow(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || t.Before(to))
}
