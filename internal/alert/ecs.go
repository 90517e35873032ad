// Package alert renders incidents and findings for machines: JSON Lines
// documents with Elastic Common Schema field names, ready to ingest (every
// top-level field is an ECS field of the right type; winnow's own fields
// are under winnow.*). Field names here are a stable contract; see
// docs/format/alerts.md.
package alert

import (
	"encoding/json"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"

	"winnow/internal/correlate"
	"winnow/internal/event"
)

// Doc is one incident or finding as an ECS document.
type Doc struct {
	Timestamp string    `json:"@timestamp"`
	Message   string    `json:"message"`
	Event     EventF    `json:"event"`
	Rule      RuleF     `json:"rule"`
	Source    *SourceF  `json:"source,omitempty"`
	User      *UserF    `json:"user,omitempty"`
	Host      *HostF    `json:"host,omitempty"`
	URL       *URLF     `json:"url,omitempty"`
	DNS       *DNSF     `json:"dns,omitempty"`
	Related   *RelatedF `json:"related,omitempty"`
	Threat    *ThreatF  `json:"threat,omitempty"`
	Winnow    WinnowF   `json:"winnow"`
}

// EventF is ECS event.*.
type EventF struct {
	Kind      string   `json:"kind"`     // always "alert"
	Category  []string `json:"category"` // ECS allowed values (see Categories)
	Type      []string `json:"type"`     // "info" (or "indicator" for threat)
	ID        string   `json:"id"`       // the incident's or finding's stable ID
	Dataset   string   `json:"dataset"`  // winnow.incident or winnow.finding
	Module    string   `json:"module"`   // winnow
	Start     string   `json:"start"`
	End       string   `json:"end"`
	Severity  int      `json:"severity"`   // 1–100
	RiskScore float64  `json:"risk_score"` // 0–100
}

// RuleF is ECS rule.*.
type RuleF struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"` // the rule's family: auth, web, dns, series, ...
	Ruleset     string `json:"ruleset"`  // winnow
}

// SourceF is ECS source.*: the attacker or client the finding is about.
// Domain is set instead of IP when the log names the source by host name
// (sshd with UseDNS).
type SourceF struct {
	IP     string `json:"ip,omitempty"`
	Domain string `json:"domain,omitempty"`
}

// UserF is ECS user.name.
type UserF struct {
	Name string `json:"name"`
}

// HostF is ECS host.name: the machine the evidence was logged on.
type HostF struct {
	Name string `json:"name"`
}

// URLF is ECS url.*: the site (virtual host) and a path the finding is
// about.
type URLF struct {
	Domain string `json:"domain,omitempty"`
	Path   string `json:"path,omitempty"`
}

// DNSF is ECS dns.*.
type DNSF struct {
	Question DNSQuestionF `json:"question"`
}

// DNSQuestionF is ECS dns.question.*.
type DNSQuestionF struct {
	Name             string `json:"name,omitempty"`
	RegisteredDomain string `json:"registered_domain,omitempty"`
}

// RelatedF is ECS related.*: every address, account and host name the
// incident involves, for pivoting.
type RelatedF struct {
	IP    []string `json:"ip,omitempty"`
	User  []string `json:"user,omitempty"`
	Hosts []string `json:"hosts,omitempty"`
}

// ThreatF is ECS threat.*.
type ThreatF struct {
	Framework string     `json:"framework"`
	Technique TechniqueF `json:"technique"`
}

// TechniqueF lists ATT&CK technique ids.
type TechniqueF struct {
	ID []string `json:"id"`
}

// WinnowF holds winnow's own fields (not ECS).
type WinnowF struct {
	Record       string         `json:"record"` // "incident" or "finding"
	Entity       EntityF        `json:"entity"`
	SeverityName string         `json:"severity_name"`
	Score        float64        `json:"score"`
	Incident     IncidentF      `json:"incident"`
	Evidence     map[string]any `json:"evidence"`
	Samples      []event.Sample `json:"samples"`
	Related      []EntityF      `json:"related,omitempty"`
	// Sensors saw the evidence (--sensor): name, vantage, domain.
	Sensors []SensorF `json:"sensors,omitempty"`
}

// IncidentF describes the incident a document is (record "incident") or
// belongs to (record "finding": ID, Rank and in a live stream Risk, Update
// and Open are set).
type IncidentF struct {
	ID   string  `json:"id"`
	Rank int     `json:"rank"`
	Risk float64 `json:"risk,omitempty"`
	// Update counts the earlier reports of this incident in a live stream
	// (0 = the first); Open is true while a later report may supersede
	// this one.
	Update   int       `json:"update,omitempty"`
	Open     bool      `json:"open,omitempty"`
	Findings int       `json:"findings,omitempty"`
	Version  int       `json:"version,omitempty"`
	Reasons  []ReasonF `json:"reasons,omitempty"`
	Context  []ReasonF `json:"context,omitempty"`
	Linked   []EntityF `json:"linked,omitempty"`
	Merged   []string  `json:"merged,omitempty"`
}

// SensorF is a sensor that saw a finding's evidence.
type SensorF struct {
	Name    string `json:"name"`
	Vantage string `json:"vantage,omitempty"`
	Domain  string `json:"domain,omitempty"`
}

// ReasonF is one rule's contribution to an incident.
type ReasonF struct {
	Rule         string  `json:"rule"`
	Severity     int     `json:"severity"`
	SeverityName string  `json:"severity_name"`
	Score        float64 `json:"score"`
	Count        int     `json:"count"`
	Description  string  `json:"description"`
	Start        string  `json:"start"`
	End          string  `json:"end"`
}

// EntityF is an entity.
type EntityF struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func entities(es []event.Entity) []EntityF {
	out := make([]EntityF, 0, len(es))
	for _, e := range es {
		out = append(out, EntityF{Type: e.Type.String(), Value: e.Value})
	}
	return out
}

func reasons(rs []event.Reason) []ReasonF {
	out := make([]ReasonF, 0, len(rs))
	for _, r := range rs {
		out = append(out, ReasonF{Rule: r.Rule, Severity: r.Severity, SeverityName: event.SeverityName(r.Severity),
			Score: round3(r.Score), Count: r.Count, Description: r.Description, Start: ts(r.Start), End: ts(r.End)})
	}
	return out
}

// IncidentDoc maps an incident at rank (1 = most urgent) to its document.
// ECS fields come from the incident's entity, its strongest finding and
// the entities its findings name.
func IncidentDoc(in *event.Incident, rank int) Doc {
	var best event.Alert
	if len(in.Findings) > 0 {
		best = in.Findings[0]
	}
	strongest := in.Strongest()
	if strongest.Rule != "" {
		for _, f := range in.Findings {
			if f.Rule == strongest.Rule {
				best = f
				break
			}
		}
	}
	d := Doc{
		Timestamp: ts(in.End),
		Message:   strongest.Description,
		Event: EventF{Kind: "alert", ID: in.ID, Dataset: "winnow.incident", Module: "winnow",
			Start: ts(in.Start), End: ts(in.End), Severity: in.Severity, RiskScore: round3(in.Risk * 100)},
		Rule: RuleF{Name: strongest.Rule, Description: strongest.Description, Category: family(strongest.Rule), Ruleset: "winnow"},
		Winnow: WinnowF{
			Record:       "incident",
			Entity:       EntityF{Type: in.Entity.Type.String(), Value: in.Entity.Value},
			SeverityName: event.SeverityName(in.Severity),
			Score:        round3(best.Score),
			Incident: IncidentF{ID: in.ID, Rank: rank, Risk: round3(in.Risk), Findings: in.Count, Version: in.Version,
				Reasons: reasons(in.Reasons), Context: reasons(in.Context), Linked: entities(in.Linked), Merged: in.Merged},
			Evidence: best.Evidence,
			Samples:  best.Samples,
			Related:  entities(in.Related),
		},
	}
	var rules []string
	var techs []string
	for _, f := range in.Findings {
		rules = append(rules, f.Rule)
		techs = appendNew(techs, f.Techniques...)
	}
	d.Event.Category, d.Event.Type = Categories(rules)
	fill(&d, in.Entity, &best, in.Findings, in.Related)
	if len(techs) > 0 {
		d.Threat = &ThreatF{Framework: "MITRE ATT&CK", Technique: TechniqueF{ID: techs}}
	}
	finish(&d)
	return d
}

// FindingDoc maps one finding to its document; incID and rank name the
// incident it belongs to ("" and 0 when none).
func FindingDoc(a *event.Alert, incID string, rank int) Doc {
	d := Doc{
		Timestamp: ts(a.End),
		Message:   a.Description,
		Event: EventF{Kind: "alert", ID: correlate.FindingID(a), Dataset: "winnow.finding", Module: "winnow",
			Start: ts(a.Start), End: ts(a.End), Severity: a.Severity, RiskScore: round3(weight(a) * 100)},
		Rule: RuleF{Name: a.Rule, Description: a.Description, Category: family(a.Rule), Ruleset: "winnow"},
		Winnow: WinnowF{
			Record:       "finding",
			Entity:       EntityF{Type: a.Entity.Type.String(), Value: a.Entity.Value},
			SeverityName: event.SeverityName(a.Severity),
			Score:        round3(a.Score),
			Incident:     IncidentF{ID: incID, Rank: rank},
			Evidence:     a.Evidence,
			Samples:      a.Samples,
			Related:      entities(a.Related),
		},
	}
	d.Event.Category, d.Event.Type = Categories([]string{a.Rule})
	fill(&d, a.Entity, a, []event.Alert{*a}, a.Related)
	if len(a.Techniques) > 0 {
		d.Threat = &ThreatF{Framework: "MITRE ATT&CK", Technique: TechniqueF{ID: a.Techniques}}
	}
	finish(&d)
	return d
}

func weight(a *event.Alert) float64 {
	return min(1, max(0, a.Score)) * float64(a.Severity) / 100
}

func finish(d *Doc) {
	if d.Winnow.Evidence == nil {
		d.Winnow.Evidence = map[string]any{}
	}
	if d.Winnow.Samples == nil {
		d.Winnow.Samples = []event.Sample{}
	}
}

// fill sets the ECS context fields (source, user, host, url, dns, related)
// from the entity, the main finding and every finding's named entities.
func fill(d *Doc, ent event.Entity, main *event.Alert, all []event.Alert, related []event.Entity) {
	for i := range all {
		for _, sn := range all[i].Sensors {
			f := SensorF{Name: sn.Name, Vantage: sn.Vantage, Domain: sn.Domain}
			dup := false
			for _, x := range d.Winnow.Sensors {
				dup = dup || x == f
			}
			if !dup {
				d.Winnow.Sensors = append(d.Winnow.Sensors, f)
			}
		}
	}
	var rel RelatedF
	addIP := func(s string) {
		if a, err := netip.ParseAddr(s); err == nil {
			rel.IP = appendNew(rel.IP, a.String())
		}
	}
	switch ent.Type {
	case event.EntityIP:
		if _, err := netip.ParseAddr(ent.Value); err == nil {
			d.Source = &SourceF{IP: ent.Value}
		}
	case event.EntityHost:
		if main.SourceHost == ent.Value {
			// a source that the log names by host name (sshd UseDNS)
			d.Source = &SourceF{Domain: ent.Value}
		} else {
			// a machine that logged (auth, series by host)
			d.Host = &HostF{Name: ent.Value}
		}
	case event.EntityUser:
		d.User = &UserF{Name: ent.Value}
	}
	if main.SourceIP.IsValid() && d.Source == nil {
		d.Source = &SourceF{IP: main.SourceIP.String()}
	}
	if main.SourceHost != "" && d.Source == nil {
		d.Source = &SourceF{Domain: main.SourceHost}
	}
	if main.User != "" && d.User == nil {
		d.User = &UserF{Name: main.User}
	}
	if d.Host == nil {
		if h := hostOf(main); h != "" {
			d.Host = &HostF{Name: h}
		}
	}
	if strings.HasPrefix(main.Rule, "web.") || strings.HasPrefix(main.Rule, "hst.http") || strings.HasPrefix(main.Rule, "series.http") {
		u := URLF{Path: pathOf(main)}
		if s, _ := main.Evidence["site"].(string); s != "" && s != "-" {
			u.Domain = s
		} else if ent.Type == event.EntityDomain && ent.Value != "-" {
			u.Domain = ent.Value
		}
		if u != (URLF{}) {
			d.URL = &u
		}
	}
	if strings.HasPrefix(main.Rule, "dns.") || strings.HasPrefix(main.Rule, "series.dns") {
		q := DNSQuestionF{Name: dnsName(main)}
		if ent.Type == event.EntityDomain {
			q.RegisteredDomain = ent.Value
		}
		if q != (DNSQuestionF{}) {
			d.DNS = &DNSF{Question: q}
		}
	}
	// related.*: the entity, every finding's source and user, the named
	// entities and hosts.
	for _, e := range append([]event.Entity{ent}, related...) {
		switch e.Type {
		case event.EntityIP:
			addIP(e.Value)
		case event.EntityUser:
			rel.User = appendNew(rel.User, e.Value)
		case event.EntityHost:
			if e.Value != "-" {
				rel.Hosts = appendNew(rel.Hosts, e.Value)
			}
		}
	}
	for i := range all {
		a := &all[i]
		if a.SourceIP.IsValid() {
			rel.IP = appendNew(rel.IP, a.SourceIP.String())
		}
		if a.User != "" {
			rel.User = appendNew(rel.User, a.User)
		}
		if a.SourceHost != "" {
			rel.Hosts = appendNew(rel.Hosts, a.SourceHost)
		}
		if h := hostOf(a); h != "" {
			rel.Hosts = appendNew(rel.Hosts, h)
		}
		if s, _ := a.Evidence["login_source_ip"].(string); s != "" {
			addIP(s)
		}
	}
	if d.Host != nil {
		rel.Hosts = appendNew(rel.Hosts, d.Host.Name)
	}
	if len(rel.IP)+len(rel.User)+len(rel.Hosts) > 0 {
		d.Related = &rel
	}
}

// hostOf is the machine a finding's evidence was logged on, when it says.
func hostOf(a *event.Alert) string {
	if h, _ := a.Evidence["host"].(string); h != "" {
		return h
	}
	if hs, _ := a.Evidence["hosts"].([]string); len(hs) > 0 {
		return hs[0]
	}
	for _, e := range a.Related {
		if e.Type == event.EntityHost {
			return e.Value
		}
	}
	return ""
}

// pathOf is the path a web finding is about (its first example).
func pathOf(a *event.Alert) string {
	for _, k := range []string{"path", "upload"} {
		if s, _ := a.Evidence[k].(string); s != "" {
			return s
		}
	}
	if ex, _ := a.Evidence["examples"].([]string); len(ex) > 0 {
		return ex[0]
	}
	return ""
}

// dnsName is a name a DNS finding is about.
func dnsName(a *event.Alert) string {
	for _, k := range []string{"resolved_dga_domains", "name"} {
		if s, _ := a.Evidence[k].(string); s != "" {
			return s
		}
	}
	return ""
}

// Categories maps the rules of an incident to ECS event.category and
// event.type values (from the ECS allowed values; every category here
// expects "info"). An indicator match is intrusion_detection: the
// indicator itself is in winnow.evidence.
func Categories(rules []string) (cats, types []string) {
	cats = []string{"intrusion_detection"}
	types = []string{"info"}
	for _, r := range rules {
		switch {
		case r == "auth.account_change":
			cats = appendNew(cats, "iam")
		case r == "auth.sudo_sensitive" || r == "auth.sudo_failure":
			cats = appendNew(cats, "process")
		case r == "auth.service_failures":
			cats = appendNew(cats, "host")
		case strings.HasPrefix(r, "auth.") || strings.HasPrefix(r, "series.auth") || strings.HasPrefix(r, "series.failed_logins") || r == "bayes.auth":
			cats = appendNew(cats, "authentication")
		case strings.HasPrefix(r, "web.") || strings.HasPrefix(r, "hst.http") || strings.HasPrefix(r, "series.http") || r == "bayes.http":
			cats = appendNew(cats, "web")
		case strings.HasPrefix(r, "dns.") || strings.HasPrefix(r, "series.dns") || r == "bayes.dns":
			cats = appendNew(cats, "network")
		}
	}
	return cats, types
}

func family(rule string) string {
	if i := strings.IndexByte(rule, '.'); i > 0 {
		return rule[:i]
	}
	return rule
}

func appendNew(l []string, vs ...string) []string {
	for _, v := range vs {
		found := false
		for _, x := range l {
			if x == v {
				found = true
				break
			}
		}
		if !found {
			l = append(l, v)
		}
	}
	return l
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

// WriteJSON writes one document per incident at or above minSeverity, in
// rank order. When minSeverity is at most info (1), every finding follows
// the incident it belongs to as a document of its own (record "finding"),
// so the output holds everything the run found: findings are all the
// run's findings and incidentOf names the incident each joined.
func WriteJSON(w io.Writer, incidents []event.Incident, findings []event.Alert, incidentOf func(*event.Alert) string, minSeverity int) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	all := minSeverity <= 1
	byInc := map[string][]int{}
	if all {
		for i := range findings {
			id := ""
			if incidentOf != nil {
				id = incidentOf(&findings[i])
			}
			byInc[id] = append(byInc[id], i)
		}
	}
	for i := range incidents {
		in := &incidents[i]
		if in.Severity < minSeverity {
			continue
		}
		if err := enc.Encode(IncidentDoc(in, i+1)); err != nil {
			return err
		}
		if !all {
			continue
		}
		ids := byInc[in.ID]
		delete(byInc, in.ID)
		sort.SliceStable(ids, func(a, b int) bool { return findingLess(&findings[ids[a]], &findings[ids[b]]) })
		for _, j := range ids {
			if err := enc.Encode(FindingDoc(&findings[j], in.ID, i+1)); err != nil {
				return err
			}
		}
	}
	// findings whose incident is not in the list (none when incidents
	// came from these findings)
	rest := make([]string, 0, len(byInc))
	for id := range byInc {
		rest = append(rest, id)
	}
	sort.Strings(rest)
	for _, id := range rest {
		for _, j := range byInc[id] {
			if err := enc.Encode(FindingDoc(&findings[j], id, 0)); err != nil {
				return err
			}
		}
	}
	return nil
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
	return a.Description < b.Description
}
