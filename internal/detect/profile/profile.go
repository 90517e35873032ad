// Package profile learns what is usual for each client — the software it
// runs (browser family and OS from its user agents) and the hours it is
// active, for web and DNS activity — and reports a change: the seeds'
// example, a Linux/Firefox host that starts sending Internet Explorer
// requests at 03:00, is news. (Logins have their per-account hour
// profile in auth.unusual_hour and source profile in auth.new_source.)
package profile

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// Register adds the profile detectors.
func Register(r *detect.Registry) {
	r.MustRegister(WebClient())
	r.MustRegister(Hours("profile.web_hours", event.KindHTTP))
	r.MustRegister(Hours("profile.dns_hours", event.KindDNS))
}

// maxClients caps the software families a client's profile keeps.
const maxClients = 8

// hours is an activity histogram by hour of day (UTC) with the days seen.
type hours struct {
	n     [24]float64
	total float64
	days  []int32 // distinct days with activity (the last 64)
}

func (h *hours) add(t time.Time) {
	h.n[t.UTC().Hour()]++
	h.total++
	d := int32(t.Unix() / 86400)
	if len(h.days) == 0 || h.days[len(h.days)-1] != d {
		if !slices.Contains(h.days, d) {
			if len(h.days) == 64 {
				h.days = h.days[1:]
			}
			h.days = append(h.days, d)
		}
	}
}

// share is the smoothed share of activity at hour h: the hour and its two
// neighbours, with a pseudo-count so an empty profile is not certain.
func (h *hours) share(hr int) float64 {
	s := h.n[hr] + h.n[(hr+23)%24] + h.n[(hr+1)%24]
	return (s + 0.5) / (h.total + 12)
}

// usual renders the busiest hours ("08–18h").
func (h *hours) usual() string {
	var on []int
	for hr, c := range h.n {
		if h.total > 0 && c/h.total >= 0.02 {
			on = append(on, hr)
		}
	}
	if len(on) == 0 {
		return "none"
	}
	var parts []string
	for i := 0; i < len(on); {
		j := i
		for j+1 < len(on) && on[j+1] == on[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, fmt.Sprintf("%02dh", on[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%02d–%02dh", on[i], on[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// learnParams are the parameters every profile detector shares.
func learnParams(minEvents string) []detect.Param {
	return []detect.Param{
		{Name: "min_events", Default: minEvents, Doc: "events a client's profile needs before a change is reported"},
		{Name: "min_days", Default: "3", Doc: "distinct days of activity the profile needs (a profile of one day knows nothing of hours)"},
		{Name: "max_share", Default: "0.01", Doc: "an hour is unusual when it and its neighbours held less than this share of the client's activity"},
		{Name: "max_entities", Default: "50000", Doc: "clients profiled per shard (least recently active evicted first)"},
		{Name: "idle", Default: "720h", Doc: "a client's profile is forgotten after this much event time without activity"},
	}
}

type learn struct {
	minEvents float64
	minDays   int
	maxShare  float64
	idle      time.Duration
	max       int
}

func readLearn(p detect.Params) (learn, error) {
	var l learn
	n, err := p.PositiveInt("min_events")
	if err != nil {
		return l, err
	}
	l.minEvents = float64(n)
	if l.minDays, err = p.PositiveInt("min_days"); err != nil {
		return l, err
	}
	if l.maxShare, err = p.Float("max_share"); err != nil {
		return l, err
	}
	if l.idle, err = p.PositiveDuration("idle"); err != nil {
		return l, err
	}
	if l.max, err = p.PositiveInt("max_entities"); err != nil {
		return l, err
	}
	if !(l.maxShare > 0 && l.maxShare < 1) {
		return l, fmt.Errorf("max_share must be in (0, 1)")
	}
	return l, nil
}

func (l learn) trusted(h *hours) bool { return h.total >= l.minEvents && len(h.days) >= l.minDays }

func sample(ev *event.Event) event.Sample {
	return event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: string(ev.Raw)}
}

// WebClient is "profile.web_client": per client address, the software
// families its requests come from and its hours; once the profile is
// trusted, requests from a family never seen are reported (once per
// family; it then joins the profile) — low, or medium when they also come
// at an hour unusual for the client.
func WebClient() detect.Spec {
	return detect.Spec{
		Name:    "profile.web_client",
		Summary: "a web client whose user agents (browser family and OS) and hours were learned sends requests from other software",
		Key:     detect.KeySourceIP, Kinds: []event.Kind{event.KindHTTP}, Techniques: []string{"T1036"},
		Params: learnParams("50"),
		New: func(p detect.Params) (detect.Detector, error) {
			l, err := readLearn(p)
			if err != nil {
				return nil, fmt.Errorf("detector profile.web_client: %w", err)
			}
			return &webClient{l: l, tab: detect.NewTable(l.max, detect.TableOptions[client]{Recycle: func(c *client) {
				*c = client{fams: c.fams[:0], h: hours{days: c.h.days[:0]}}
			}})}, nil
		},
	}
}

type family struct {
	name string
	n    float64
}

type client struct {
	first   time.Time
	lastUA  string // the last request's user agent and its family (a cache)
	lastFam string
	fams    []family
	h       hours
	full    bool // more families than maxClients: not a one-machine client
}

type webClient struct {
	l    learn
	tab  *detect.Table[client]
	keys detect.KeyCache
}

func (d *webClient) Observe(ev *event.Event, emit detect.Emit) {
	if ev.HTTP == nil || !ev.SrcIP.IsValid() {
		return
	}
	key, _ := d.keys.Value(detect.KeySourceIP, ev)
	c, created := d.tab.Upsert(key, ev.Time)
	if created {
		c.first = ev.Time
	}
	// A client's user agent rarely changes between requests: classify
	// only a new one.
	fam := c.lastFam
	if created || ev.HTTP.UserAgent != c.lastUA {
		fam = Client(ev.HTTP.UserAgent)
		c.lastUA, c.lastFam = ev.HTTP.UserAgent, fam
	}
	i := slices.IndexFunc(c.fams, func(f family) bool { return f.name == fam })
	if i < 0 && !c.full {
		if d.l.trusted(&c.h) {
			emit(d.alert(ev, c, fam))
		}
		if len(c.fams) < maxClients {
			c.fams = append(c.fams, family{name: fam})
			i = len(c.fams) - 1
		} else {
			c.full = true // a proxy or NAT: many machines, no profile
		}
	}
	if i >= 0 {
		c.fams[i].n++
	}
	c.h.add(ev.Time)
}

func (d *webClient) alert(ev *event.Event, c *client, fam string) event.Alert {
	hr := ev.Time.UTC().Hour()
	share := c.h.share(hr)
	odd := share < d.l.maxShare
	known := make([]string, 0, len(c.fams))
	for _, f := range c.fams {
		known = append(known, fmt.Sprintf("%s %.0f%%", f.name, 100*f.n/c.h.total))
	}
	sev := event.SeverityLow
	when := ""
	if odd {
		sev = event.SeverityMedium
		when = fmt.Sprintf(" at %02d:%02d UTC, an hour it is rarely active (usual %s)", hr, ev.Time.UTC().Minute(), c.h.usual())
	}
	src := ev.SrcIP.String()
	a := event.Alert{
		Rule: "profile.web_client",
		Description: fmt.Sprintf("%s sent requests as %s%s; in %.0f requests over %d days it was %s",
			src, fam, when, c.h.total, len(c.h.days), strings.Join(known, ", ")),
		Entity: event.Entity{Type: event.EntityIP, Value: src}, Start: ev.Time, End: ev.Time, Severity: sev,
		Score: 0.5 + 0.3*b2f(odd), Techniques: []string{"T1036"}, SourceIP: ev.SrcIP,
		Evidence: map[string]any{
			"new_client": fam, "user_agent": ev.HTTP.UserAgent, "known_clients": known, "requests_learned": c.h.total,
			"days_learned": len(c.h.days), "hour": hr, "hour_share": math.Round(share*1e4) / 1e4, "usual_hours": c.h.usual(),
			"since": c.first.UTC().Format(time.RFC3339),
		},
		Samples: []event.Sample{sample(ev)},
	}
	return a
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (d *webClient) Advance(t time.Time, _ detect.Emit) { d.tab.Expire(t, d.l.idle, nil) }
func (d *webClient) Flush(detect.Emit)                  {}
func (d *webClient) Stats() detect.Stats                { return d.tab.Stats() }

// Hours is "profile.web_hours" or "profile.dns_hours": per client
// address, the hours of day it is active; once the profile is trusted,
// activity at an hour that (with its neighbours) held less than max_share
// of it is reported, once per client and day.
func Hours(name string, kind event.Kind) detect.Spec {
	what := "web requests"
	if kind == event.KindDNS {
		what = "DNS queries"
	}
	return detect.Spec{
		Name:    name,
		Summary: "a client active (" + what + ") at an hour of day it has not been active in before",
		Key:     detect.KeySourceIP, Kinds: []event.Kind{kind},
		Params: learnParams("200"),
		New: func(p detect.Params) (detect.Detector, error) {
			l, err := readLearn(p)
			if err != nil {
				return nil, fmt.Errorf("detector %s: %w", name, err)
			}
			d := &hourly{name: name, what: what, l: l}
			d.tab = detect.NewTable(l.max, detect.TableOptions[hourState]{
				// An evicted client's open episode is reported, not lost.
				Shed: func(key string, s *hourState) {
					if s.ep != nil && d.emit != nil {
						d.close(key, s, d.emit)
					}
				},
				Recycle: func(s *hourState) { *s = hourState{h: hours{days: s.h.days[:0]}} },
			})
			return d, nil
		},
	}
}

type hourState struct {
	first    time.Time
	h        hours
	reported int32     // day of the last finding
	ep       *openHour // the odd-hour episode still collecting events
}

// openHour is an odd-hour finding still collecting events (plain data, so
// it survives a snapshot).
type openHour struct {
	Hour       int
	Count      int
	Start, End time.Time
	Share      float64
	Usual      string
	Learned    float64
	Days       int
	Since      time.Time
	Sample     event.Sample
}

type hourly struct {
	name, what string
	l          learn
	tab        *detect.Table[hourState]
	// open holds the keys of clients with an episode (a subset of tab; an
	// entry evicted from tab is dropped from it).
	open map[string]struct{}
	emit detect.Emit // the current call's, for the Shed callback
	keys detect.KeyCache
}

func (d *hourly) Observe(ev *event.Event, emit detect.Emit) {
	if !ev.SrcIP.IsValid() {
		return
	}
	d.emit = emit
	src, _ := d.keys.Value(detect.KeySourceIP, ev)
	s, created := d.tab.Upsert(src, ev.Time)
	if created {
		s.first = ev.Time
	}
	day := int32(ev.Time.Unix() / 86400)
	hr := ev.Time.UTC().Hour()
	if ep := s.ep; ep != nil {
		// The odd-hour episode goes on while the client stays in that hour.
		if ev.Time.Sub(ep.End) <= time.Hour && hr == ep.Hour {
			ep.End = ev.Time
			ep.Count++
			s.h.add(ev.Time)
			return
		}
		d.close(src, s, emit)
	}
	if d.l.trusted(&s.h) && s.reported != day {
		if share := s.h.share(hr); share < d.l.maxShare {
			s.ep = &openHour{Hour: hr, Count: 1, Start: ev.Time, End: ev.Time, Share: share, Usual: s.h.usual(),
				Learned: s.h.total, Days: len(s.h.days), Since: s.first, Sample: sample(ev)}
			if d.open == nil {
				d.open = map[string]struct{}{}
			}
			d.open[src] = struct{}{}
			s.reported = day
		}
	}
	s.h.add(ev.Time)
}

func (d *hourly) close(src string, s *hourState, emit detect.Emit) {
	ep := s.ep
	s.ep = nil
	delete(d.open, src)
	a := event.Alert{
		Rule: d.name,
		Description: fmt.Sprintf("%s was active (%s) at %02d:%02d UTC; in %.0f events over %d days its usual hours were %s",
			src, d.what, ep.Hour, ep.Start.UTC().Minute(), ep.Learned, ep.Days, ep.Usual),
		Entity: event.Entity{Type: event.EntityIP, Value: src}, Start: ep.Start, End: ep.End,
		Severity: event.SeverityLow, Score: 0.5,
		Evidence: map[string]any{"hour": ep.Hour, "hour_share": math.Round(ep.Share*1e4) / 1e4, "usual_hours": ep.Usual,
			"events_learned": ep.Learned, "days_learned": ep.Days, "since": ep.Since.UTC().Format(time.RFC3339), "events": ep.Count},
		Samples: []event.Sample{ep.Sample},
	}
	a.SourceIP, _ = netip.ParseAddr(src)
	if ep.Count > 1 {
		a.Description += fmt.Sprintf("; %d events in that hour", ep.Count)
	}
	emit(a)
}

// closeDue closes the episodes idle for more than an hour before t (all
// when t is zero), in key order.
func (d *hourly) closeDue(t time.Time, emit detect.Emit) {
	if len(d.open) == 0 {
		return
	}
	keys := make([]string, 0, len(d.open))
	for k := range d.open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := d.tab.Get(k)
		if s == nil || s.ep == nil {
			delete(d.open, k)
			continue
		}
		if t.IsZero() || t.Sub(s.ep.End) > time.Hour {
			d.close(k, s, emit)
		}
	}
}

func (d *hourly) Advance(t time.Time, emit detect.Emit) {
	d.closeDue(t, emit)
	d.tab.Expire(t, d.l.idle, nil)
}

func (d *hourly) Flush(emit detect.Emit) { d.closeDue(time.Time{}, emit) }

func (d *hourly) Stats() detect.Stats { return d.tab.Stats() }
