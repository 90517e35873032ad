// Package host holds the host-audit detectors over audit events
// (parse/audit, and AVC records from syslog): SELinux/AppArmor denials,
// privilege changes, executables run from writable or temporary paths,
// audit tampering, and account and group changes. They are rules, not
// statistics — a properly configured system has no AVC denial and no
// unknown setuid execution, so the first is news — but every rule
// aggregates its matches per host and signature into one finding per
// episode (with the count, first and last time and samples), so a
// looping denial is one finding, not ten thousand.
package host

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// Register adds every host detector to r.
func Register(r *detect.Registry) {
	for _, s := range Specs() {
		r.MustRegister(s)
	}
}

// Specs returns the host detector specs.
func Specs() []detect.Spec {
	return []detect.Spec{avcSpec(), privilegeSpec(), tempExecSpec(), tamperSpec(), accountSpec()}
}

var auditKinds = []event.Kind{event.KindAudit}

// match is what a rule says about one event: the signature its matches
// are grouped by (within a host), and how to describe the group.
type match struct {
	sig      string
	severity int
	what     string         // one line for the description
	entity   event.Entity   // zero: the host
	related  []event.Entity // other entities involved (the user, the source address)
	evidence map[string]any // first match's numbers
}

// rule decides whether an event matches.
type rule func(ev *event.Event) (match, bool)

// group is an open episode of one (host, signature).
type group struct {
	m           match
	host        string
	start, last time.Time
	count       int64
	users       map[string]struct{}
	samples     []event.Sample
}

type detector struct {
	name    string
	tech    []string
	rule    rule
	gap     time.Duration
	samples int
	tab     *detect.Table[group]
	emit    detect.Emit
}

func newDetector(name string, tech []string, r rule, p detect.Params) (detect.Detector, error) {
	e, err := p.Episode()
	if err != nil {
		return nil, err
	}
	d := &detector{name: name, tech: tech, rule: r, gap: e.Gap, samples: e.Samples}
	d.tab = detect.NewTable(e.Max, detect.TableOptions[group]{Shed: func(_ string, g *group) { d.end(g) }})
	return d, nil
}

func params(gapDefault, gapWhy string) []detect.Param {
	return []detect.Param{
		detect.GapParam(gapDefault, gapWhy),
		{Name: "max_entities", Default: "20000", Doc: "open (host, signature) groups per shard; beyond it the least recently active is reported early (counted as shed)"},
		detect.SamplesParam(),
	}
}

func (d *detector) Observe(ev *event.Event, emit detect.Emit) {
	if ev.Audit == nil {
		return
	}
	m, ok := d.rule(ev)
	if !ok {
		return
	}
	d.emit = emit
	key := ev.Host + "\x00" + m.sig
	g, created := d.tab.Upsert(key, ev.Time)
	if !created && ev.Time.Sub(g.last) > d.gap {
		d.end(g)
		*g = group{}
		created = true
	}
	if created || g.count == 0 {
		g.m, g.host, g.start = m, ev.Host, ev.Time
	}
	if ev.Time.After(g.last) {
		g.last = ev.Time
	}
	g.count++
	if ev.User != "" && len(g.users) < 8 {
		if g.users == nil {
			g.users = map[string]struct{}{}
		}
		g.users[ev.User] = struct{}{}
	}
	if len(g.samples) < d.samples {
		g.samples = append(g.samples, sampleOf(ev))
	}
}

func (d *detector) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	d.tab.Expire(t, d.gap, func(_ string, g *group) { d.end(g) })
}

func (d *detector) Flush(emit detect.Emit) {
	d.emit = emit
	d.tab.Drain(func(_ string, g *group) { d.end(g) })
}

func (d *detector) Stats() detect.Stats { return d.tab.Stats() }

func (d *detector) end(g *group) {
	if g.count == 0 || d.emit == nil {
		return
	}
	ent := g.m.entity
	if ent.IsZero() {
		ent = event.Entity{Type: event.EntityHost, Value: g.host}
	}
	ev := map[string]any{"count": g.count, "host": g.host}
	for k, v := range g.m.evidence {
		ev[k] = v
	}
	users := make([]string, 0, len(g.users))
	for u := range g.users {
		users = append(users, u)
	}
	sort.Strings(users)
	if len(users) > 0 {
		ev["users"] = strings.Join(users, ",")
	}
	times := ""
	if g.count > 1 {
		times = fmt.Sprintf(" (%d times)", g.count)
	}
	a := event.Alert{
		Rule:        d.name,
		Description: fmt.Sprintf("%s on %s%s", g.m.what, g.host, times),
		Entity:      ent,
		Start:       g.start,
		End:         g.last,
		Severity:    g.m.severity,
		Score:       float64(g.m.severity) / 100,
		Techniques:  d.tech,
		Related:     append([]event.Entity{{Type: event.EntityHost, Value: g.host}}, g.m.related...),
		Evidence:    ev,
		Samples:     g.samples,
	}
	if len(users) == 1 {
		a.User = users[0]
	}
	for _, r := range g.m.related {
		if r.Type == event.EntityIP && !a.SourceIP.IsValid() {
			a.SourceIP = parseAddr(r.Value)
		}
	}
	d.emit(a)
	*g = group{}
}

func sampleOf(ev *event.Event) event.Sample {
	text := string(ev.Raw)
	if text == "" {
		a := ev.Audit
		text = fmt.Sprintf("audit(%s:%d) %s", ev.Time.UTC().Format(time.RFC3339Nano), a.Serial, a.Type)
		if a.Exe != "" {
			text += " exe=" + a.Exe
		}
		if ev.Command != "" {
			text += " cmd=" + ev.Command
		}
		if a.Perms != "" {
			text += " denied={" + a.Perms + "} scontext=" + a.SContext + " tcontext=" + a.TContext + " tclass=" + a.TClass + " name=" + a.Name
		}
		if a.Op != "" {
			text += " op=" + a.Op
		}
		if ev.User != "" {
			text += " auid=" + a.AUID + " uid=" + a.UID + " euid=" + a.EUID
		}
	}
	return event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: text}
}

func userEntity(u string) []event.Entity {
	if u == "" || u == "unset" {
		return nil
	}
	return []event.Entity{{Type: event.EntityUser, Value: u}}
}
