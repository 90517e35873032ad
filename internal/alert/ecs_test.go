package alert

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"winnow/internal/correlate"
	"winnow/internal/event"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func fixture() []event.Alert {
	return []event.Alert{{
		Rule: "auth.brute_force", Description: "12 failed logins", Severity: 73, Score: 0.8123,
		Entity: event.Entity{Type: event.EntityIP, Value: "203.0.113.7"}, SourceIP: netip.MustParseAddr("203.0.113.7"),
		User: "root", Start: t0, End: t0.Add(5 * time.Minute), Techniques: []string{"T1110.001"},
		Evidence: map[string]any{"attempts": 12, "threshold": 10, "hosts": []string{"web-01"}},
		Samples:  []event.Sample{{File: "auth.log", Line: 7, Text: "Nov 22 10:00:00 h sshd[1]: Failed password for root"}},
		Related:  []event.Entity{{Type: event.EntityUser, Value: "root"}, {Type: event.EntityUser, Value: "admin"}},
	}, {
		Rule: "auth.root_login", Description: "root tries", Severity: 21, Score: 0.7,
		Entity: event.Entity{Type: event.EntityIP, Value: "203.0.113.7"}, SourceIP: netip.MustParseAddr("203.0.113.7"),
		User: "root", Start: t0, End: t0.Add(4 * time.Minute), Techniques: []string{"T1078.003"},
	}, {
		Rule: "auth.account_change", Description: "created user x", Severity: 21, Score: 1,
		Entity: event.Entity{Type: event.EntityHost, Value: "web-01"}, Start: t0, End: t0,
	}, {
		Rule: "web.scanner", Description: "asked for 40 missing paths", Severity: 47, Score: 0.6,
		Entity: event.Entity{Type: event.EntityIP, Value: "198.51.100.4"}, SourceIP: netip.MustParseAddr("198.51.100.4"),
		Start: t0, End: t0.Add(time.Minute), Evidence: map[string]any{"site": "shop.example", "examples": []string{"/.env", "/.git/HEAD"}},
	}, {
		Rule: "dns.tunnel", Description: "tunnel under t.example", Severity: 73, Score: 1,
		Entity: event.Entity{Type: event.EntityDomain, Value: "t.example"}, Start: t0, End: t0.Add(time.Minute),
		Related: []event.Entity{{Type: event.EntityIP, Value: "10.0.0.66"}},
	}}
}

func lines(t *testing.T, buf *bytes.Buffer) []string {
	t.Helper()
	return strings.Split(strings.TrimSpace(buf.String()), "\n")
}

// TestJSONContract pins the field names and nesting of an incident
// document: a rename here breaks users' pipelines.
func TestJSONContract(t *testing.T) {
	alerts := fixture()[:2]
	c := correlate.Build(alerts, correlate.Config{})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, c.Snapshot(), alerts, c.IncidentOf, event.SeverityMedium); err != nil {
		t.Fatal(err)
	}
	l := lines(t, &buf)
	if len(l) != 1 {
		t.Fatalf("%d lines, want 1 incident:\n%s", len(l), buf.String())
	}
	id := correlate.FindingID(&alerts[1]) // the root tries end first: they open the incident
	want := `{"@timestamp":"2026-11-22T10:05:00Z","message":"12 failed logins","event":{"kind":"alert","category":["intrusion_detection","authentication"],"type":["info"],"id":"` + id + `","dataset":"winnow.incident","module":"winnow","start":"2026-11-22T10:00:00Z","end":"2026-11-22T10:05:00Z","severity":73,"risk_score":62.29},"rule":{"name":"auth.brute_force","description":"12 failed logins","category":"auth","ruleset":"winnow"},"source":{"ip":"203.0.113.7"},"user":{"name":"root"},"host":{"name":"web-01"},"related":{"ip":["203.0.113.7"],"user":["root","admin"],"hosts":["web-01"]},"threat":{"framework":"MITRE ATT&CK","technique":{"id":["T1110.001","T1078.003"]}},"winnow":{"record":"incident","entity":{"type":"ip","value":"203.0.113.7"},"severity_name":"high","score":0.812,"incident":{"id":"` + id + `","rank":1,"risk":0.623,"findings":2,"version":2,"reasons":[{"rule":"auth.brute_force","severity":73,"severity_name":"high","score":0.812,"count":1,"description":"12 failed logins","start":"2026-11-22T10:00:00Z","end":"2026-11-22T10:05:00Z"}],"context":[{"rule":"auth.root_login","severity":21,"severity_name":"low","score":0.7,"count":1,"description":"root tries","start":"2026-11-22T10:00:00Z","end":"2026-11-22T10:04:00Z"}]},"evidence":{"attempts":12,"hosts":["web-01"],"threshold":10},"samples":[{"file":"auth.log","line":7,"text":"Nov 22 10:00:00 h sshd[1]: Failed password for root"}],"related":[{"type":"user","value":"root"},{"type":"user","value":"admin"}]}}`
	if l[0] != want {
		t.Errorf("incident document:\n got %s\nwant %s", l[0], want)
	}
}

// TestInfoIsComplete: at --min-severity info every finding follows its
// incident, each naming it.
func TestInfoIsComplete(t *testing.T) {
	alerts := fixture()
	c := correlate.Build(alerts, correlate.Config{})
	incs := c.Snapshot()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, incs, alerts, c.IncidentOf, 1); err != nil {
		t.Fatal(err)
	}
	var nInc, nFind int
	cur := ""
	for _, l := range lines(t, &buf) {
		var d Doc
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		switch d.Winnow.Record {
		case "incident":
			nInc++
			cur = d.Winnow.Incident.ID
		case "finding":
			nFind++
			if d.Winnow.Incident.ID != cur || d.Event.Dataset != "winnow.finding" || d.Event.ID == "" {
				t.Errorf("finding %s not after its incident %s: %+v", d.Rule.Name, cur, d.Winnow.Incident)
			}
		}
	}
	if nInc != len(incs) || nFind != len(alerts) {
		t.Errorf("%d incidents %d findings, want %d and %d", nInc, nFind, len(incs), len(alerts))
	}
}

// ecsField is one field of the ECS reference (ECS 9.x, generated/ecs/
// ecs_flat.yml of github.com/elastic/ecs): its type, whether it is an
// array, and its allowed values when the reference lists them.
type ecsField struct {
	typ     string // keyword, ip, date, long, float, match_only_text, wildcard
	array   bool
	allowed []string
}

// ecsReference holds the ECS fields winnow's documents use, copied by hand
// from the ECS field reference. A document field outside winnow.* that is
// not here fails the test: either it is not ECS, or it must be checked
// against the reference and added.
var ecsReference = map[string]ecsField{
	"@timestamp":                     {typ: "date"},
	"message":                        {typ: "match_only_text"},
	"event.kind":                     {typ: "keyword", allowed: []string{"alert", "asset", "enrichment", "event", "metric", "state", "pipeline_error", "signal"}},
	"event.category":                 {typ: "keyword", array: true, allowed: []string{"api", "authentication", "configuration", "database", "driver", "email", "file", "host", "iam", "intrusion_detection", "library", "malware", "network", "package", "process", "registry", "session", "threat", "vulnerability", "web"}},
	"event.type":                     {typ: "keyword", array: true, allowed: []string{"access", "admin", "allowed", "change", "connection", "creation", "deletion", "denied", "device", "end", "error", "group", "indicator", "info", "installation", "protocol", "start", "user"}},
	"event.id":                       {typ: "keyword"},
	"event.dataset":                  {typ: "keyword"},
	"event.module":                   {typ: "keyword"},
	"event.start":                    {typ: "date"},
	"event.end":                      {typ: "date"},
	"event.severity":                 {typ: "long"},
	"event.risk_score":               {typ: "float"},
	"rule.name":                      {typ: "keyword"},
	"rule.description":               {typ: "keyword"},
	"rule.category":                  {typ: "keyword"},
	"rule.ruleset":                   {typ: "keyword"},
	"source.ip":                      {typ: "ip"},
	"source.domain":                  {typ: "keyword"},
	"user.name":                      {typ: "keyword"},
	"host.name":                      {typ: "keyword"},
	"url.domain":                     {typ: "keyword"},
	"url.path":                       {typ: "wildcard"},
	"dns.question.name":              {typ: "keyword"},
	"dns.question.registered_domain": {typ: "keyword"},
	"related.ip":                     {typ: "ip", array: true},
	"related.user":                   {typ: "keyword", array: true},
	"related.hosts":                  {typ: "keyword", array: true},
	"threat.framework":               {typ: "keyword"},
	"threat.technique.id":            {typ: "keyword", array: true},
}

// ecsExpectedTypes: for each event.category, the event.type values the
// reference expects with it (expected_event_types).
var ecsExpectedTypes = map[string][]string{
	"authentication":      {"start", "end", "info"},
	"iam":                 {"admin", "change", "creation", "deletion", "group", "info", "user"},
	"intrusion_detection": {"allowed", "denied", "info"},
	"network":             {"access", "allowed", "connection", "denied", "end", "info", "protocol", "start"},
	"process":             {"access", "change", "end", "info", "start"},
	"host":                {"access", "change", "end", "info", "start"},
	"web":                 {"access", "error", "info"},
}

// flatten walks a decoded document into dotted leaf paths (arrays are
// leaves).
func flatten(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, x, out)
		}
		return
	}
	out[prefix] = v
}

func checkECS(t *testing.T, doc map[string]any) {
	t.Helper()
	flat := map[string]any{}
	flatten("", doc, flat)
	for path, v := range flat {
		if strings.HasPrefix(path, "winnow.") {
			continue
		}
		f, ok := ecsReference[path]
		if !ok {
			t.Errorf("%s is not an ECS field winnow checked against the reference", path)
			continue
		}
		vals := []any{v}
		if arr, isArr := v.([]any); isArr {
			if !f.array {
				t.Errorf("%s: an array, the reference says a single %s", path, f.typ)
			}
			vals = arr
		} else if f.array {
			t.Errorf("%s: a single value, the reference normalises it to an array", path)
		}
		for _, x := range vals {
			checkType(t, path, f, x)
		}
	}
	cats, _ := flat["event.category"].([]any)
	types, _ := flat["event.type"].([]any)
	for _, typ := range types {
		for _, c := range cats {
			exp := ecsExpectedTypes[c.(string)]
			found := false
			for _, e := range exp {
				found = found || e == typ
			}
			if !found {
				t.Errorf("event.type %v is not expected with event.category %v (expected %v)", typ, c, exp)
			}
		}
	}
}

func checkType(t *testing.T, path string, f ecsField, x any) {
	t.Helper()
	switch f.typ {
	case "keyword", "wildcard", "match_only_text":
		s, ok := x.(string)
		if !ok || s == "" {
			t.Errorf("%s = %v: want a non-empty string", path, x)
		}
	case "ip":
		s, _ := x.(string)
		if _, err := netip.ParseAddr(s); err != nil {
			t.Errorf("%s = %v: not an IP", path, x)
		}
	case "date":
		s, _ := x.(string)
		if _, err := time.Parse(time.RFC3339, s); err != nil {
			t.Errorf("%s = %v: not a date", path, x)
		}
	case "long":
		n, ok := x.(float64)
		if !ok || n != float64(int64(n)) {
			t.Errorf("%s = %v: not an integer", path, x)
		}
	case "float":
		if _, ok := x.(float64); !ok {
			t.Errorf("%s = %v: not a number", path, x)
		}
	}
	if len(f.allowed) > 0 {
		found := false
		for _, a := range f.allowed {
			found = found || a == x
		}
		if !found {
			t.Errorf("%s = %v: not an allowed value %v", path, x, f.allowed)
		}
	}
}

// TestECSReference checks every field of incident and finding documents
// against the ECS field reference: names, types, arrays and allowed
// values; and the fields an analyst pivots on are filled.
func TestECSReference(t *testing.T) {
	alerts := fixture()
	c := correlate.Build(alerts, correlate.Config{})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, c.Snapshot(), alerts, c.IncidentOf, 1); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range lines(t, &buf) {
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatal(err)
		}
		checkECS(t, doc)
		flat := map[string]any{}
		flatten("", doc, flat)
		for k := range flat {
			seen[k] = true
		}
		if _, bad := flat["event.severity_name"]; bad {
			t.Error("event.severity_name is not ECS")
		}
	}
	for _, want := range []string{"source.ip", "user.name", "host.name", "url.domain", "url.path", "dns.question.registered_domain",
		"related.ip", "related.user", "related.hosts", "event.category", "event.type", "winnow.incident.id"} {
		if !seen[want] {
			var got []string
			for k := range seen {
				got = append(got, k)
			}
			sort.Strings(got)
			t.Errorf("no document sets %s; fields: %v", want, got)
		}
	}
}

func TestCategories(t *testing.T) {
	f := func(rules []string, cats, types string) {
		t.Helper()
		c, ty := Categories(rules)
		if strings.Join(c, ",") != cats || strings.Join(ty, ",") != types {
			t.Errorf("%v: %v %v, want %s %s", rules, c, ty, cats, types)
		}
	}
	f([]string{"auth.brute_force"}, "intrusion_detection,authentication", "info")
	f([]string{"auth.account_change", "auth.sudo_sensitive"}, "intrusion_detection,iam,process", "info")
	f([]string{"web.scanner", "series.http_requests_by_client"}, "intrusion_detection,web", "info")
	f([]string{"dns.dga"}, "intrusion_detection,network", "info")
	f([]string{"ioc.match"}, "intrusion_detection", "info")
}
