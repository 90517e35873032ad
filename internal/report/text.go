// Package report renders incidents for people: a terminal report that fits
// a screen (ranked incidents one line each, then detail for the top ones),
// coloured on a terminal, plain when piped, wrapped to the terminal's
// width, with every attacker-controlled string escaped; and the run
// summary.
package report

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"winnow/internal/correlate"
	"winnow/internal/event"
	"winnow/internal/textsafe"
)

// TextOptions control the terminal report.
type TextOptions struct {
	Color       bool
	Top         int // incidents listed; 0 = all
	Detail      int // incidents shown in detail after the list; 0 = DefaultDetail, <0 = none
	MinSeverity int // incidents below are hidden (counted)
	Samples     int // evidence lines shown per finding in the detail; 0 = all kept
	Width       int // columns (default DefaultWidth)
	// Findings adds, in each detail, every kept finding (not only the
	// strongest per rule) with its evidence.
	Findings bool
}

// Defaults.
const (
	DefaultWidth  = 100
	DefaultDetail = 2
	minWidth      = 40
	// maxDetailFindings caps the findings an incident's detail shows in
	// full (the others are named on one line; --format json has them).
	maxDetailFindings = 2
	// maxEvidenceLines caps a finding's evidence in the detail.
	maxEvidenceLines = 1
)

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

func sevColor(sev int) string {
	switch {
	case sev >= event.SeverityCritical:
		return "\x1b[1;97;41m"
	case sev >= event.SeverityHigh:
		return "\x1b[1;31m"
	case sev >= event.SeverityMedium:
		return "\x1b[33m"
	case sev >= event.SeverityLow:
		return "\x1b[36m"
	}
	return ansiDim
}

type painter struct{ on bool }

func (p painter) c(code, s string) string {
	if !p.on {
		return s
	}
	return code + s + ansiReset
}

// Text writes the report: a header, the ranked incidents one line each
// (the strongest reason), a line on what is not listed, then the top
// incidents in detail.
func Text(w io.Writer, incidents []event.Incident, o TextOptions) error {
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	o.Width = max(o.Width, minWidth)
	if o.Detail == 0 {
		o.Detail = DefaultDetail
	}
	p := painter{on: o.Color}
	var shown []*event.Incident
	var hidden []*event.Incident
	weak := 0
	for i := range incidents {
		in := &incidents[i]
		if in.Severity < o.MinSeverity {
			weak++
			continue
		}
		if o.Top > 0 && len(shown) >= o.Top {
			hidden = append(hidden, in)
			continue
		}
		shown = append(shown, in)
	}
	var b strings.Builder
	writeHeader(&b, p, shown, hidden, weak, o)
	if len(shown) == 0 {
		_, err := io.WriteString(w, b.String())
		return err
	}
	writeList(&b, p, shown, o)
	if len(hidden) > 0 {
		for _, l := range wrap(describeHidden(hidden), o.Width, "… ", "  ") {
			b.WriteString(l + "\n")
		}
	}
	for i, in := range shown {
		if o.Detail < 0 || i >= o.Detail {
			break
		}
		b.WriteByte('\n')
		writeDetail(&b, p, i+1, in, o)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeHeader(b *strings.Builder, p painter, shown, hidden []*event.Incident, weak int, o TextOptions) {
	n := len(shown) + len(hidden)
	if n == 0 {
		fmt.Fprintf(b, "No incidents at or above %s.", event.SeverityName(o.MinSeverity))
		if weak > 0 {
			fmt.Fprintf(b, " %d weaker %s hidden (--min-severity %s shows them).", weak, incWord(weak), lowerBand(o.MinSeverity))
		}
		b.WriteByte('\n')
		return
	}
	bands := map[int]int{}
	var first, last time.Time
	for _, l := range [][]*event.Incident{shown, hidden} {
		for _, in := range l {
			bands[correlate.Band(in.Severity)]++
			if first.IsZero() || in.Start.Before(first) {
				first = in.Start
			}
			if in.End.After(last) {
				last = in.End
			}
		}
	}
	var parts []string
	for band := 4; band >= 0; band-- {
		if bands[band] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", bands[band], bandName(band)))
		}
	}
	head := fmt.Sprintf("%d %s (%s), %s", n, incWord(n), strings.Join(parts, ", "), timeRange(first, last))
	if weak > 0 {
		head += fmt.Sprintf("; %d weaker %s hidden (--min-severity %s shows them)", weak, incWord(weak), lowerBand(o.MinSeverity))
	}
	for _, l := range wrap(head, o.Width, "", "  ") {
		b.WriteString(p.c(ansiBold, l) + "\n")
	}
	b.WriteByte('\n')
}

func incWord(n int) string {
	if n == 1 {
		return "incident"
	}
	return "incidents"
}

func bandName(band int) string {
	return [...]string{"info", "low", "medium", "high", "critical"}[band]
}

// lowerBand names the band below the minimum severity.
func lowerBand(min int) string {
	switch b := correlate.Band(min); {
	case b >= 2:
		return bandName(b - 1)
	}
	return "info"
}

// writeList writes one line per incident: rank, severity, entity, time,
// strongest reason (cut to the width).
func writeList(b *strings.Builder, p painter, shown []*event.Incident, o TextOptions) {
	entW := 0
	for _, in := range shown {
		entW = max(entW, width(entityLabel(in.Entity)))
	}
	entW = min(entW, max(16, o.Width/4))
	sameDay := true
	for _, in := range shown {
		if !sameDate(in.Start, shown[0].Start) || !sameDate(in.End, shown[0].Start) {
			sameDay = false
		}
	}
	for i, in := range shown {
		ent := cut(entityLabel(in.Entity), entW)
		when := shortRange(in.Start, in.End, sameDay)
		prefix := fmt.Sprintf("%3d %-8s %-*s %s  ", i+1, strings.ToUpper(event.SeverityName(in.Severity)), entW, ent, when)
		why := reasonLine(in)
		line := cut(prefix+why, o.Width)
		// colour the severity word only (after cutting, so widths hold)
		sev := strings.ToUpper(event.SeverityName(in.Severity))
		if p.on {
			line = strings.Replace(line, sev, p.c(sevColor(in.Severity), sev), 1)
		}
		b.WriteString(line + "\n")
	}
}

// reasonLine is the strongest reason in words, with how many more rules
// and context observations back it.
func reasonLine(in *event.Incident) string {
	r := in.Strongest()
	// the list names the entity already: "203.0.113.7 made 40 …" → "made 40 …"
	desc := strings.TrimPrefix(r.Description, in.Entity.Value+" ")
	s := textsafe.Terminal(desc)
	if s == "" {
		s = r.Rule
	}
	var more []string
	if n := len(in.Reasons) - 1; n > 0 {
		more = append(more, fmt.Sprintf("+%d more %s", n, plural(n, "rule", "rules")))
	}
	if n := len(in.Context); n > 0 {
		more = append(more, fmt.Sprintf("+%d context", n))
	}
	if len(more) > 0 {
		s = "[" + strings.Join(more, ", ") + "] " + s
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// describeHidden summarises the incidents not listed by rule.
func describeHidden(hidden []*event.Incident) string {
	byRule := map[string]int{}
	for _, in := range hidden {
		byRule[in.Strongest().Rule]++
	}
	rules := make([]string, 0, len(byRule))
	for r := range byRule {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool {
		if byRule[rules[i]] != byRule[rules[j]] {
			return byRule[rules[i]] > byRule[rules[j]]
		}
		return rules[i] < rules[j]
	})
	parts := make([]string, 0, len(rules))
	for _, r := range rules {
		parts = append(parts, fmt.Sprintf("%d %s", byRule[r], r))
	}
	return fmt.Sprintf("%d more %s not listed (%s); --top 0 lists all", len(hidden), incWord(len(hidden)), strings.Join(parts, ", "))
}

func entityLabel(e event.Entity) string {
	if e.Value == "-" && (e.Type == event.EntityDomain || e.Type == event.EntityHost) {
		return "site (unnamed)" // a web log without virtual hosts
	}
	return e.Type.String() + " " + textsafe.Terminal(e.Value)
}

// writeDetail writes one incident in full: header, links, each reason with
// its evidence and sample lines, then the context.
func writeDetail(b *strings.Builder, p painter, rank int, in *event.Incident, o TextOptions) {
	sev := strings.ToUpper(event.SeverityName(in.Severity))
	head := fmt.Sprintf("#%d %s %s · risk %.2f · %s · %s · incident %s",
		rank, sev, entityLabel(in.Entity), in.Risk, timeRange(in.Start, in.End), countFindings(in.Count), in.ID)
	for i, l := range wrap(head, o.Width, "", "    ") {
		if i == 0 && p.on {
			l = strings.Replace(l, sev, p.c(sevColor(in.Severity), sev), 1)
		}
		b.WriteString(p.c(ansiBold, l) + "\n")
	}
	if len(in.Linked) > 0 {
		writeWrapped(b, "linked: "+entityList(in.Linked), o.Width, "    ", "      ")
	}
	if ss := incidentSensors(in); ss != "" {
		writeWrapped(b, "seen by: "+ss, o.Width, "    ", "      ")
	}
	findings := in.Findings
	if !o.Findings {
		findings = strongestPerRule(in)
	}
	shown := 0
	var more []string
	for i := range findings {
		f := &findings[i]
		if isContext(in, f.Rule) {
			continue
		}
		if !o.Findings && shown == maxDetailFindings {
			more = append(more, fmt.Sprintf("%s %s", event.SeverityName(f.Severity), f.Rule))
			continue
		}
		shown++
		writeFinding(b, p, f, o)
	}
	if len(more) > 0 {
		writeWrapped(b, "also: "+strings.Join(more, ", "), o.Width, "    ", "      ")
	}
	if len(in.Context) > 0 {
		parts := make([]string, 0, len(in.Context))
		for _, c := range in.Context {
			s := fmt.Sprintf("%s %s", event.SeverityName(c.Severity), c.Rule)
			if c.Count > 1 {
				s += fmt.Sprintf(" ×%d", c.Count)
			}
			parts = append(parts, s)
		}
		writeWrapped(b, "context: "+strings.Join(parts, ", "), o.Width, "    ", "      ")
		for _, c := range in.Context {
			writeWrapped(b, textsafe.Terminal(c.Description), o.Width, "      · ", "        ")
		}
	}
}

func countFindings(n int) string {
	if n == 1 {
		return "1 finding"
	}
	return fmt.Sprintf("%d findings", n)
}

func isContext(in *event.Incident, rule string) bool {
	for _, c := range in.Context {
		if c.Rule == rule {
			return true
		}
	}
	return false
}

// strongestPerRule returns the first (strongest) kept finding of each rule,
// in the order of the incident's findings.
func strongestPerRule(in *event.Incident) []event.Alert {
	seen := map[string]bool{}
	var out []event.Alert
	for _, f := range in.Findings {
		if !seen[f.Rule] {
			seen[f.Rule] = true
			out = append(out, f)
		}
	}
	return out
}

func writeFinding(b *strings.Builder, p painter, f *event.Alert, o TextOptions) {
	const ind = "    "
	const sub = "        "
	sevWord := fmt.Sprintf("%-8s", event.SeverityName(f.Severity))
	lines := wrap(f.Rule+": "+textsafe.Terminal(f.Description), o.Width, ind+sevWord+" ", sub+"  ")
	for i, l := range lines {
		if i == 0 && p.on {
			l = strings.Replace(l, sevWord, p.c(sevColor(f.Severity), sevWord), 1)
		}
		b.WriteString(l + "\n")
	}
	meta := fmt.Sprintf("score %.2f · %s", f.Score, timeRange(f.Start, f.End))
	if len(f.Techniques) > 0 {
		meta += " · ATT&CK " + strings.Join(f.Techniques, ", ")
	}
	for _, l := range wrap(meta, o.Width, sub, sub+"  ") {
		b.WriteString(p.c(ansiDim, l) + "\n")
	}
	if ev := Evidence(f.Evidence); len(ev) > 0 {
		lines := wrap(strings.Join(ev, "; "), o.Width, sub, sub+"  ")
		if !o.Findings && len(lines) > maxEvidenceLines {
			// the description carries the key numbers; the rest is in
			// --format json (or --findings)
			lines = lines[:maxEvidenceLines]
			lines[maxEvidenceLines-1] = cut(lines[maxEvidenceLines-1]+" …", o.Width)
		}
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	n := len(f.Samples)
	if o.Samples > 0 && n > o.Samples {
		n = o.Samples
	}
	for _, s := range f.Samples[:n] {
		line := fmt.Sprintf("%s:%d  %s", filepath.Base(s.File), s.Line, textsafe.Terminal(s.Text))
		b.WriteString(p.c(ansiDim, cut(sub+line, o.Width)) + "\n")
	}
}

func writeWrapped(b *strings.Builder, text string, w int, first, indent string) {
	for _, l := range wrap(text, w, first, indent) {
		b.WriteString(l + "\n")
	}
}

func entityList(es []event.Entity) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = entityLabel(e)
	}
	return list(parts)
}

func sameDate(a, b time.Time) bool {
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// shortRange is a compact time range for the list: times only when every
// listed incident is on one day.
func shortRange(a, b time.Time, sameDay bool) string {
	if sameDay {
		if a.Equal(b) {
			return a.Format("15:04") + "        "
		}
		return a.Format("15:04") + "–" + b.Format("15:04") + "  "
	}
	if sameDate(a, b) {
		return a.Format("01-02 15:04") + "–" + b.Format("15:04")
	}
	return a.Format("01-02 15:04") + "–" + b.Format("01-02")
}

func timeRange(a, b time.Time) string {
	const layout = "2006-01-02 15:04:05"
	if a.IsZero() {
		return ""
	}
	if a.Equal(b) || b.IsZero() {
		return a.Format(layout)
	}
	if sameDate(a, b) {
		return a.Format(layout) + " → " + b.Format("15:04:05")
	}
	return a.Format(layout) + " → " + b.Format(layout)
}

// incidentSensors lists the sensors of an incident's findings: one
// attacker seen by the edge capture and a server's log shows both views.
func incidentSensors(in *event.Incident) string {
	seen := map[string]bool{}
	var out []string
	for i := range in.Findings {
		for j := range in.Findings[i].Sensors {
			s := &in.Findings[i].Sensors[j]
			if k := s.String(); !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
