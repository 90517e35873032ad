package auth

import (
	"fmt"
	"net/netip"
	"sort"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// ---- auth.distributed_brute_force: many sources against one account ----

type distState struct {
	sources counted[addrKey]
	fails   int32
}

type distributed struct {
	c          common
	minSources int
	maxShare   float64
	eps        *episodes[distState]
}

func distributedSpec() detect.Spec {
	name := "auth.distributed_brute_force"
	tech := []string{"T1110.001"}
	return detect.Spec{
		Name: name, Summary: "one existing account fails from many sources, each contributing a little (a botnet sharing the work)",
		Key: detect.KeyUser, Kinds: []event.Kind{event.KindAuth},
		Actions:    []event.Action{event.ActLoginFailure},
		Techniques: tech,
		Params: []detect.Param{
			gapParam("1h", "distributed attacks pace each bot slowly; an hour keeps them in one episode"),
			paramMaxEntities, paramSamples,
			{Name: "min_sources", Default: "10", Doc: "distinct failing sources on the account per episode; a person uses 1–3 addresses"},
			{Name: "max_share", Default: "0.5", Doc: "the busiest source's share of failures must be below this, else it is one source's brute force"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := positive(p, "min_sources")
			if err != nil {
				return nil, err
			}
			share, err := p.Float("max_share")
			if err != nil {
				return nil, err
			}
			if share <= 0 || share > 1 {
				return nil, errParam("max_share must be in (0, 1]")
			}
			d := &distributed{c: c, minSources: v[0], maxShare: share}
			d.eps = newEpisodes(c, func(key string, e *ep[distState], emit detect.Emit) { d.end(name, tech, key, e, emit) })
			return d, nil
		},
	}
}

func (d *distributed) Observe(ev *event.Event, emit detect.Emit) {
	// Failures on names the server calls invalid are skipped: there is no
	// account to take over, every Internet-facing server sees "admin" and
	// "test" tried from hundreds of addresses a day, and the sources that
	// persist are reported by the per-source rules.
	if ev.User == "" || ev.InvalidUser || !ev.SrcIP.IsValid() || ev.Method == "none" {
		return
	}
	e := d.eps.touchString(ev.User, ev.Time, emit)
	if e == nil {
		return
	}
	e.v.fails++
	if e.v.sources.Add(keyOf(ev.SrcIP), 1, d.c.maxNames) {
		e.smp.add(ev, d.c.samples)
	}
}

func (d *distributed) end(rule string, tech []string, user string, e *ep[distState], emit detect.Emit) {
	s := &e.v
	n := s.sources.Distinct()
	if n < d.minSources {
		return
	}
	tops := topAddrs(&s.sources, 10)
	share := float64(tops[0].Count) / float64(s.fails)
	if share >= d.maxShare {
		return
	}
	a := base(rule, tech, event.Entity{Type: event.EntityUser, Value: user}, e)
	a.User = user
	a.Severity = event.SeverityMedium
	a.Score = strength(float64(n), float64(d.minSources))
	for _, t := range tops {
		a.Related = append(a.Related, event.Entity{Type: event.EntityIP, Value: t.Key})
	}
	a.Evidence = map[string]any{
		"sources": n, "failed_logins": s.fails, "min_sources": d.minSources,
		"top_source_share": round2(share), "max_share": d.maxShare, "top_sources": tops,
		"duration_minutes": round2(minutes(e.start, e.last)),
	}
	a.Description = fmt.Sprintf("account %s failed %d times from %d sources in %s, none more than %.0f%% (threshold %d sources)",
		user, s.fails, n, span(e), share*100, d.minSources)
	emit(a)
}

func (d *distributed) Advance(t time.Time, emit detect.Emit) { d.eps.advance(t, emit) }
func (d *distributed) Flush(emit detect.Emit)                { d.eps.flush(emit) }
func (d *distributed) Stats() detect.Stats                   { return d.eps.stats() }

// ---- per-account history: takeover, first-seen source, unusual hour ----

// history is what an account did over a long horizon (history_ttl): the
// sources it logged in from and the hours it logs in at, plus its recent
// failures. It is only created by events about the account, so an attacker
// cannot grow it with successes they do not have; failures on invalid
// accounts never reach it.
type history struct {
	logins      int32
	known       counted[addrKey] // sources of successful logins
	nets        counted[netKey]  // their networks (/24, /48)
	hours       [24]float32      // successful logins per hour of day
	fails       int32            // sshd failures in the current failure episode
	pam         int32            // PAM failures in it (the only record in PAM-only logs)
	failStart   int64
	failLast    int64
	failSources counted[addrKey]
	smp         samples
	lastHourAt  int64 // last unusual-hour finding (one a day at most)
}

// netKey is an address's network: /24 for IPv4, /48 for IPv6.
type netKey [7]byte

func netOf(a addrKey) netKey {
	ad := a.addr()
	var n netKey
	if ad.Is4() {
		b := ad.As4()
		n[0] = 4
		copy(n[1:], b[:3])
		return n
	}
	n[0] = 6
	copy(n[1:], a[:6])
	return n
}

// historyDetector is one of the per-account history rules; mode picks
// which.
type historyDetector struct {
	rule      string
	tech      []string
	c         common
	ttl       time.Duration
	tab       *detect.Table[history]
	mode      int
	minFail   int
	minLogins int
	maxProb   float64
}

const (
	modeTakeover = iota
	modeNewSource
	modeHour
)

func historyParams(extra ...detect.Param) []detect.Param {
	return append([]detect.Param{
		gapParam("1h", "failures on the account older than this are not linked to a login"),
		{Name: "history_ttl", Default: "720h", Doc: "an account's learned sources and hours are forgotten after this much event time without a login (30 days)"},
		paramMaxEntities, paramSamples,
	}, extra...)
}

func historySpec(name, summary string, tech []string, mode int, actions []event.Action, extra []detect.Param,
	read func(d *historyDetector, p detect.Params) error) detect.Spec {
	return detect.Spec{
		Name: name, Summary: summary, Key: detect.KeyUser, Kinds: []event.Kind{event.KindAuth},
		Actions: actions, Techniques: tech, Params: historyParams(extra...),
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			ttl, err := p.Duration("history_ttl")
			if err != nil {
				return nil, err
			}
			if ttl <= 0 {
				return nil, errParam("history_ttl must be positive")
			}
			d := &historyDetector{rule: name, tech: tech, c: c, ttl: ttl, mode: mode,
				tab: detect.NewTable[history](c.max, detect.TableOptions[history]{})}
			if err := read(d, p); err != nil {
				return nil, err
			}
			return d, nil
		},
	}
}

func accountTakeoverSpec() detect.Spec {
	return historySpec("auth.account_success_after_failures",
		"an account that failed many times (from any sources) logs in from a source it never used before: a likely takeover",
		[]string{"T1110", "T1078"}, modeTakeover,
		[]event.Action{event.ActLoginFailure, event.ActAuthFailurePAM, event.ActLoginSuccess},
		[]detect.Param{{Name: "min_failures", Default: "10", Doc: "failures on the account in the episode before the login; typos are 1–3"}},
		func(d *historyDetector, p detect.Params) error {
			v, err := positive(p, "min_failures")
			if err == nil {
				d.minFail = v[0]
			}
			return err
		})
}

func newSourceSpec() detect.Spec {
	return historySpec("auth.new_source",
		"an account with a login history logs in from an address and network it never used",
		[]string{"T1078"}, modeNewSource, []event.Action{event.ActLoginSuccess},
		[]detect.Param{{Name: "min_logins", Default: "10", Doc: "logins learned before a new source is unusual; fewer and every source is new"}},
		func(d *historyDetector, p detect.Params) error {
			v, err := positive(p, "min_logins")
			if err == nil {
				d.minLogins = v[0]
			}
			return err
		})
}

func unusualHourSpec() detect.Spec {
	return historySpec("auth.unusual_hour",
		"an account logs in at an hour of day it rarely uses (a learned, smoothed per-account profile)",
		[]string{"T1078"}, modeHour, []event.Action{event.ActLoginSuccess},
		[]detect.Param{
			{Name: "min_logins", Default: "20", Doc: "logins learned before the profile is trusted"},
			{Name: "max_probability", Default: "0.01", Doc: "report a login whose smoothed hour probability is below this (uniform is 0.042) and whose hour and neighbours hold less than one earlier login"},
		},
		func(d *historyDetector, p detect.Params) error {
			v, err := positive(p, "min_logins")
			if err != nil {
				return err
			}
			d.minLogins = v[0]
			d.maxProb, err = p.Float("max_probability")
			if err == nil && (d.maxProb <= 0 || d.maxProb >= 1) {
				err = errParam("max_probability must be in (0, 1)")
			}
			return err
		})
}

func (d *historyDetector) Observe(ev *event.Event, emit detect.Emit) {
	if ev.User == "" || ev.InvalidUser {
		return
	}
	if ev.Action != event.ActLoginSuccess {
		if d.mode == modeTakeover && ev.SrcIP.IsValid() && ev.Method != "none" {
			h, _ := d.tab.Upsert(ev.User, ev.Time)
			d.failure(h, ev)
		}
		return
	}
	if !ev.SrcIP.IsValid() {
		return
	}
	h, _ := d.tab.Upsert(ev.User, ev.Time)
	src := keyOf(ev.SrcIP)
	switch d.mode {
	case modeTakeover:
		d.takeover(h, ev, src, emit)
	case modeNewSource:
		d.newSource(h, ev, src, emit)
	case modeHour:
		d.unusualHour(h, ev, emit)
	}
	h.logins++
	h.known.Add(src, 1, 256)
	h.nets.Add(netOf(src), 1, 256)
	h.hours[ev.Time.Hour()]++
}

func (d *historyDetector) failure(h *history, ev *event.Event) {
	t := ev.Time.UnixNano()
	if h.failures() > 0 && t-h.failLast > int64(d.c.gap) {
		h.fails, h.pam, h.failSources, h.smp = 0, 0, counted[addrKey]{}, samples{}
	}
	if h.failures() == 0 {
		h.failStart = t
	}
	if ev.Action == event.ActAuthFailurePAM {
		h.pam++
		return
	}
	h.fails++
	h.failLast = max(h.failLast, t)
	h.failSources.Add(keyOf(ev.SrcIP), 1, d.c.maxNames)
	h.smp.add(ev, d.c.samples)
}

// failures counts each attempt once whether sshd, PAM or both logged it.
func (h *history) failures() int32 { return max(h.fails, h.pam) }

func (d *historyDetector) alert(h *history, ev *event.Event, start int64) event.Alert {
	a := event.Alert{Rule: d.rule, Techniques: d.tech,
		Entity: event.Entity{Type: event.EntityUser, Value: ev.User},
		Start:  unix(start), End: ev.Time.UTC(), User: ev.User, SourceIP: ev.SrcIP}
	a.Related = []event.Entity{{Type: event.EntityIP, Value: ev.SrcIP.String()}}
	if ev.Host != "" {
		a.Related = append(a.Related, event.Entity{Type: event.EntityHost, Value: ev.Host})
	}
	return a
}

// Attribution of a login after failures on the account: was it the
// failing source itself, were the failures aimed at this account (one
// source guessing it repeatedly, or many sources several times each) or
// a spray's one or two tries, and has the account used the login's
// network before. aimedPerSource and aimedMean draw the line: a spray
// tries one or two passwords per account per source.
const (
	aimedPerSource = 5   // one source's failures on the account
	aimedMean      = 2.5 // mean failures per failing source
	aimedSources   = 10  // failing sources (a botnet sharing the work, as auth.distributed_brute_force)
)

func (d *historyDetector) takeover(h *history, ev *event.Event, src addrKey, emit detect.Emit) {
	recent := ev.Time.UnixNano()-h.failLast <= int64(d.c.gap)
	if h.failures() < int32(d.minFail) || !recent || h.known.Get(src) > 0 {
		return
	}
	fromFailing := h.failSources.Get(src) > 0
	knownNet := h.nets.Get(netOf(src)) > 0
	tops := top(&h.failSources, 10, addrKey.String)
	nSources := h.failSources.Distinct()
	maxPer := int32(0)
	if len(tops) > 0 {
		maxPer = int32(tops[0].Count)
	}
	mean := float64(h.fails) / float64(max(nSources, 1))
	aimed := maxPer >= aimedPerSource || mean > aimedMean || nSources >= aimedSources
	a := d.alert(h, ev, h.failStart)
	// source.ip is the attacker: the login source when it failed too,
	// else the busiest failing source. The login address is evidence.
	attacker := src.addr()
	if !fromFailing && len(tops) > 0 {
		attacker = addrFromString(tops[0].Key)
	}
	a.SourceIP = attacker
	a.Related = []event.Entity{{Type: event.EntityIP, Value: attacker.String()}}
	for _, t := range tops {
		if t.Key != attacker.String() {
			a.Related = append(a.Related, event.Entity{Type: event.EntityIP, Value: t.Key})
		}
	}
	if !fromFailing {
		a.Related = append(a.Related, event.Entity{Type: event.EntityIP, Value: ev.SrcIP.String()})
	}
	if ev.Host != "" {
		a.Related = append(a.Related, event.Entity{Type: event.EntityHost, Value: ev.Host})
	}
	span := between(h.failStart, h.failLast)
	switch {
	case fromFailing:
		a.Severity = event.SeverityCritical
		a.Description = fmt.Sprintf("account %s logged in from %s, a source it never used, after %d failures in %s, %d of them from that same address: likely compromised",
			ev.User, ev.SrcIP, h.failures(), span, h.failSources.Get(src))
	case aimed && !knownNet:
		a.Severity = event.SeverityHigh
		a.Description = fmt.Sprintf("account %s logged in from %s, a network it never used, while %s were guessing its password (%d failures in %s, up to %d from one source; %s did not fail itself): possible takeover",
			ev.User, ev.SrcIP, plural(nSources, "source", "sources"), h.failures(), span, maxPer, ev.SrcIP)
	default:
		// The owner logging in (from a network of theirs, or amid a spray
		// that tried the account once or twice from elsewhere).
		a.Severity = event.SeverityLow
		why := "a spray tried it"
		if aimed {
			why = "it was under attack"
		}
		where := "a new address"
		if knownNet {
			where = "a network it used before"
		}
		a.Description = fmt.Sprintf("account %s logged in from %s (%s) after %d failures from %s in %s; the login address did not fail: %s, the owner logged in",
			ev.User, ev.SrcIP, where, h.failures(), plural(nSources, "other source", "other sources"), span, why)
	}
	a.Score = max(0.7, strength(float64(h.failures()), float64(d.minFail)))
	if a.Severity < event.SeverityHigh {
		a.Score = 0.5
	}
	a.Samples = append(h.smp.take(), sampleOf(ev))
	a.Evidence = map[string]any{
		"failures": h.failures(), "failing_sources": nSources, "min_failures": d.minFail,
		"login_source_ip": ev.SrcIP.String(), "login_source_failed_first": fromFailing,
		"login_network_known": knownNet, "failures_aimed_at_account": aimed,
		"max_failures_from_one_source": maxPer, "mean_failures_per_source": round2(mean),
		"top_failing_sources": tops, "known_sources": h.known.Distinct(), "method": ev.Method,
		"host": ev.Host, "prior_logins": h.logins,
	}
	h.fails, h.pam, h.failSources = 0, 0, counted[addrKey]{}
	emit(a)
}

func addrFromString(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}

func (d *historyDetector) newSource(h *history, ev *event.Event, src addrKey, emit detect.Emit) {
	if h.logins < int32(d.minLogins) || h.known.Get(src) > 0 || h.nets.Get(netOf(src)) > 0 {
		return
	}
	a := d.alert(h, ev, ev.Time.UnixNano())
	a.Severity = event.SeverityLow
	a.Score = min(0.9, 0.4+0.02*float64(h.logins))
	a.Samples = []event.Sample{sampleOf(ev)}
	a.Evidence = map[string]any{
		"prior_logins": h.logins, "min_logins": d.minLogins, "known_sources": topAddrs(&h.known, 5),
		"known_source_count": h.known.Distinct(), "method": ev.Method, "host": ev.Host,
	}
	a.Description = fmt.Sprintf("account %s logged in from %s, outside every address and network of its %d earlier logins",
		ev.User, ev.SrcIP, h.logins)
	emit(a)
}

// hourProbability is the smoothed share of logins at hour hr: counts are
// spread over neighbouring hours (weights 1, ½, ¼, wrapping at midnight)
// so that 09:00 supports 08:00 and 10:00, plus a small uniform prior.
func hourProbability(hours *[24]float32, hr int) float64 {
	w := [...]float64{1, 0.5, 0.25}
	var num, den float64
	for h := 0; h < 24; h++ {
		var k float64
		for off := -2; off <= 2; off++ {
			k += float64(hours[(h+off+24)%24]) * w[abs(off)]
		}
		if h == hr {
			num = k
		}
		den += k
	}
	const prior = 0.1
	return (num + prior) / (den + 24*prior)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (d *historyDetector) unusualHour(h *history, ev *event.Event, emit detect.Emit) {
	if h.logins < int32(d.minLogins) {
		return
	}
	hr := ev.Time.Hour()
	p := hourProbability(&h.hours, hr)
	t := ev.Time.UnixNano()
	near := h.hours[(hr+23)%24] + h.hours[hr] + h.hours[(hr+1)%24]
	if p >= d.maxProb || near >= 1 || t-h.lastHourAt < int64(24*time.Hour) {
		return
	}
	h.lastHourAt = t
	a := d.alert(h, ev, t)
	a.Severity = event.SeverityLow
	a.Score = min(1, 0.5+0.5*(1-p/d.maxProb))
	a.Samples = []event.Sample{sampleOf(ev)}
	a.Evidence = map[string]any{
		"hour": hr, "probability": round4(p), "max_probability": d.maxProb, "prior_logins": h.logins,
		"usual_hours": usualHours(&h.hours), "host": ev.Host,
	}
	a.Description = fmt.Sprintf("account %s logged in at %02d:00, an hour it uses with probability %.3f (threshold %.3f; usually %v)",
		ev.User, hr, p, d.maxProb, usualHours(&h.hours))
	emit(a)
}

func round4(x float64) float64 { return float64(int64(x*10000+0.5)) / 10000 }

// usualHours lists the hours holding most (80%) of the logins.
func usualHours(hours *[24]float32) []int {
	idx := make([]int, 24)
	var total float32
	for i := range idx {
		idx[i] = i
		total += hours[i]
	}
	sort.Slice(idx, func(i, j int) bool { return hours[idx[i]] > hours[idx[j]] })
	var out []int
	var acc float32
	for _, h := range idx {
		if acc >= 0.8*total || hours[h] == 0 {
			break
		}
		out = append(out, h)
		acc += hours[h]
	}
	sort.Ints(out)
	return out
}

func (d *historyDetector) Advance(t time.Time, _ detect.Emit) { d.tab.Expire(t, d.ttl, nil) }
func (d *historyDetector) Flush(detect.Emit)                  { d.tab.Drain(nil) }
func (d *historyDetector) Stats() detect.Stats                { return d.tab.Stats() }
