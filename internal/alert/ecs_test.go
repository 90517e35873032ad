package alert

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"winnow/internal/correlate"
	"winnow/internal/event"
)

// TestJSONContract pins the field names and nesting of the JSON Lines
// contract: a rename here breaks users' pipelines.
func TestJSONContract(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	alerts := []event.Alert{{
		Rule: "auth.brute_force", Description: "12 failed logins", Severity: 73, Score: 0.8123,
		Entity: event.Entity{Type: event.EntityIP, Value: "203.0.113.7"}, SourceIP: netip.MustParseAddr("203.0.113.7"),
		User: "root", Start: t0, End: t0.Add(5 * time.Minute), Techniques: []string{"T1110.001"},
		Evidence: map[string]any{"attempts": 12, "threshold": 10},
		Samples:  []event.Sample{{File: "auth.log", Line: 7, Text: "Nov 22 10:00:00 h sshd[1]: Failed password for root"}},
	}, {
		Rule: "auth.account_change", Severity: 21, Score: 1,
		Entity: event.Entity{Type: event.EntityHost, Value: "web-01"}, Start: t0, End: t0,
	}}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, correlate.Correlate(alerts), 1); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	want := `{"@timestamp":"2026-11-22T10:05:00Z","event":{"kind":"alert","start":"2026-11-22T10:00:00Z","end":"2026-11-22T10:05:00Z","severity":73,"severity_name":"high"},"rule":{"name":"auth.brute_force","description":"12 failed logins"},"winnow":{"entity":{"type":"ip","value":"203.0.113.7"},"score":0.812,"risk":0.593,"rank":1,"evidence":{"attempts":12,"threshold":10},"samples":[{"file":"auth.log","line":7,"text":"Nov 22 10:00:00 h sshd[1]: Failed password for root"}]},"source":{"ip":"203.0.113.7"},"user":{"name":"root"},"threat":{"framework":"MITRE ATT&CK","technique":{"id":["T1110.001"]}}}`
	if lines[0] != want {
		t.Errorf("line 1:\n got %s\nwant %s", lines[0], want)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"source", "user", "threat"} {
		if _, ok := doc[k]; ok {
			t.Errorf("line 2 has %q although the finding has none", k)
		}
	}
	w := doc["winnow"].(map[string]any)
	if w["samples"] == nil || w["evidence"] == nil {
		t.Errorf("samples/evidence must be present (empty), got %v", w)
	}

	buf.Reset()
	if err := WriteJSON(&buf, correlate.Correlate(alerts), event.SeverityMedium); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Errorf("min severity medium: %d lines, want 1", n)
	}
}
