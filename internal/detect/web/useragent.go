package web

import (
	"fmt"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

type uaState struct {
	tools    counted[string] // attack-tool names
	toolReqs int32
	research int32
	empty    int32
	fake     int32 // claims a search engine's crawler from outside its ranges
	fakeName string
	uas      counted[uint64] // distinct user agents (by hash, version numbers ignored)
	families counted[string] // browser families
	oses     counted[string] // browser operating systems
	changes  int32           // consecutive requests with different user agents
	last     uint64
	lastUA   string
	lastInfo uaInfo
	firstUA  string
}

// uaShape hashes a user agent with its digits left out, so that version
// bumps and tools' counters ("Nikto … (Test:000123)") are one agent.
func uaShape(ua string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(ua); i++ {
		if c := ua[i]; c < '0' || c > '9' {
			h ^= uint64(c)
			h *= 1099511628211
		}
	}
	return h
}

type userAgentDetector struct {
	c        common
	minEmpty int
	rotUAs   int
	rotShare float64
	rotMin   int
	eps      *episodes[uaState]
	cache    uaCache
	key      ipKey
}

func userAgentSpec() detect.Spec {
	tech := []string{"T1595", "T1036"}
	return detect.Spec{
		Name:    "web.user_agent",
		Summary: "user-agent anomalies: attack and scanning tools (sqlmap, Nikto, Nuclei, …), fake search-engine crawlers, a client rotating user agents or flipping browser family/OS mid-session, empty user agents",
		Key:     detect.KeySourceIP, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("30m", "a browsing session or a scan; half an hour of silence ends it"),
			paramMaxEntities, paramSamples,
			{Name: "min_empty", Default: "10", Doc: "requests without a user agent per episode for a (low) finding; health checks and some libraries send none now and then"},
			{Name: "rotation_uas", Default: "5", Doc: "distinct user agents for rotation; a household behind one address has a few browsers"},
			{Name: "rotation_share", Default: "0.7", Doc: "share of consecutive requests whose user agent changed (runs shorter than 1.5 requests on average); people behind a NAT browse in runs of one agent (a page and its assets), rotating tools change on nearly every request"},
			{Name: "rotation_min_requests", Default: "20", Doc: "requests before rotation is judged"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "min_empty", "rotation_uas", "rotation_min_requests")
			if err != nil {
				return nil, err
			}
			f, err := floats(p, "rotation_share")
			if err != nil {
				return nil, err
			}
			d := &userAgentDetector{c: c, minEmpty: v[0], rotUAs: v[1], rotMin: v[2], rotShare: f[0]}
			d.eps = newEpisodes(c, d.end)
			return d, nil
		},
	}
}

var _ detect.Detector = (*userAgentDetector)(nil)

func (d *userAgentDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || !ev.SrcIP.IsValid() {
		return
	}
	d.key = keyOf(ev.SrcIP)
	e := d.eps.touch(d.key[:], ev.Time, emit)
	e.requests++
	noteUser(e, ev)
	s := &e.v
	var info uaInfo
	if e.requests > 1 && h.UserAgent == s.lastUA { // interned: usually a pointer compare
		info = s.lastInfo
	} else {
		hsh := uaShape(h.UserAgent)
		if e.requests > 1 && hsh != s.last {
			s.changes++
		}
		if e.requests == 1 {
			s.firstUA = h.UserAgent
		}
		if s.uas.Add(hsh, 1, 256) && s.uas.Distinct() > 1 && s.uas.Distinct() <= 3 {
			e.smp.add(ev, d.c.samples) // the first few different agents are the evidence
		}
		info = d.cache.get(h.UserAgent)
		s.last, s.lastUA, s.lastInfo = hsh, h.UserAgent, info
	}
	switch info.kind {
	case uaTool:
		s.toolReqs++
		if s.tools.Add(info.family, 1, 16) {
			e.smp.add(ev, d.c.samples)
		}
	case uaResearch:
		s.research++
	case uaEmpty:
		s.empty++
	case uaBrowser:
		s.families.Add(info.family, 1, 16)
		if info.os != "" {
			s.oses.Add(info.os, 1, 16)
		}
	case uaCrawler:
		if info.claimed != "" && !verifiedCrawler(info.claimed, ev.SrcIP) {
			if s.fake == 0 {
				e.smp.add(ev, d.c.samples)
			}
			s.fake++
			s.fakeName = info.family
		}
	}
	if e.requests == 1 && len(e.smp.list) == 0 {
		e.smp.add(ev, d.c.samples)
	}
}

func (d *userAgentDetector) Advance(t time.Time, emit detect.Emit) { d.eps.advance(t, emit) }
func (d *userAgentDetector) Flush(emit detect.Emit)                { d.eps.flush(emit) }
func (d *userAgentDetector) Stats() detect.Stats                   { return d.eps.stats() }

func (d *userAgentDetector) end(key string, e *ep[uaState], emit detect.Emit) {
	s := &e.v
	ip := addrOf([]byte(key))
	var reasons []string
	sev := 0
	tech := map[string]bool{}
	ev := map[string]any{
		"requests":             e.requests,
		"distinct_user_agents": s.uas.Distinct(),
		"user_agent_changes":   s.changes,
		"duration_minutes":     round2(minutes(e.start, e.last)),
	}
	if s.toolReqs > 0 {
		tools := names(top(&s.tools, 5, ident))
		reasons = append(reasons, fmt.Sprintf("%d requests with the user agent of %s", s.toolReqs, strings.Join(tools, ", ")))
		sev = max(sev, event.SeverityMedium)
		if s.toolReqs >= 100 {
			sev = event.SeverityHigh
		}
		ev["attack_tools"] = tools
		ev["tool_requests"] = s.toolReqs
		tech["T1595"] = true
	}
	changeShare := float64(s.changes) / float64(max(e.requests-1, 1))
	if s.uas.Distinct() >= d.rotUAs && changeShare >= d.rotShare && e.requests >= int64(d.rotMin) {
		reasons = append(reasons, fmt.Sprintf("rotated through %d user agents, changing on %.0f%% of its requests (thresholds %d and %.0f%%)",
			s.uas.Distinct(), 100*changeShare, d.rotUAs, 100*d.rotShare))
		sev = max(sev, event.SeverityMedium)
		tech["T1036"] = true
	} else if (s.families.Distinct() >= 2 || s.oses.Distinct() >= 2) && s.changes >= 2 && e.requests >= 4 {
		reasons = append(reasons, fmt.Sprintf("flipped browser family/OS mid-session (%s on %s)",
			strings.Join(names(top(&s.families, 4, ident)), "/"), strings.Join(names(top(&s.oses, 4, ident)), "/")))
		sev = max(sev, event.SeverityLow)
		tech["T1036"] = true
	}
	if s.fake > 0 {
		reasons = append(reasons, fmt.Sprintf("claims to be %s from an address outside its published ranges (%d requests)", s.fakeName, s.fake))
		sev = max(sev, event.SeverityLow)
		ev["fake_crawler"] = s.fakeName
		tech["T1036"] = true
	}
	if int(s.empty) >= d.minEmpty && s.empty*2 >= int32(e.requests) {
		reasons = append(reasons, fmt.Sprintf("%d requests without a user agent", s.empty))
		sev = max(sev, event.SeverityLow)
		tech["T1595"] = true
	}
	if sev == 0 {
		return
	}
	a := finding("web.user_agent", nil, ip, e)
	for _, t := range []string{"T1595", "T1036"} {
		if tech[t] {
			a.Techniques = append(a.Techniques, t)
		}
	}
	a.Severity = sev
	a.Score = 0.4
	if s.toolReqs > 0 {
		a.Score = strength(float64(s.toolReqs), 1)
	}
	ev["empty_user_agent"] = s.empty
	ev["browser_families"] = names(top(&s.families, 6, ident))
	ev["browser_os"] = names(top(&s.oses, 6, ident))
	ev["first_user_agent"] = clip(s.firstUA, 200)
	ev["last_user_agent"] = clip(s.lastUA, 200)
	a.Evidence = ev
	a.Description = fmt.Sprintf("%s %s in %s", a.Entity.Value, strings.Join(reasons, "; "), span(e))
	emit(a)
}
