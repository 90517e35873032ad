package web

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// The rare user-agent rule learns, per site in event time, which
// user-agent families the site's traffic uses and reports a client whose
// requests come from a family that is rare on that site and that behaves
// unusually (many requests, or client errors). A family is a bucket, not
// the raw string: browsers by family and operating system ("Chrome on
// Windows"), HTTP libraries by name ("python-requests"), every
// unrecognised agent as one "other" bucket. Crawlers, attack tools,
// research scanners and empty agents get a bucket each for the site's
// totals but are never judged here (web.user_agent reports tools, fake
// crawlers and empty agents; real crawlers are benign).

// uaBucket is the site-population bucket of a user agent.
type uaBucket struct {
	key    string // "Chrome on Windows", "library python-requests", "other", "crawler", …
	judged bool   // browsers, libraries and unrecognised agents
}

func bucketOf(info uaInfo) uaBucket {
	switch info.kind {
	case uaBrowser:
		os := info.os
		if os == "" {
			os = "unknown OS"
		}
		return uaBucket{info.family + " on " + os, true}
	case uaLibrary:
		return uaBucket{"library " + info.family, true}
	case uaOther:
		return uaBucket{"other", true}
	}
	return uaBucket{info.kind.String(), false}
}

// maxFamilies bounds the buckets a site keeps. Buckets are few by
// construction (browser families × operating systems, library names, and
// one bucket per other kind: about 130 at most); the cap is a safety net.
// A bucket beyond it is counted in over and never judged (its share is
// unknown).
const maxFamilies = 256

// familyHalveAt: when a site's total passes it, every count is halved, so
// that the population the site has now outweighs the one it had weeks
// ago (a browser release changes the mix) while shares stay exact.
const familyHalveAt = 1 << 22

// rareSite is a site's user-agent population.
type rareSite struct {
	fams  map[string]int64
	total int64 // requests (halved with the counts)
	seen  int64 // requests ever seen (the warm-up counter; never halved)
	over  int64 // requests in buckets beyond maxFamilies
}

func (st *rareSite) add(key string) {
	st.total++
	st.seen++
	if _, ok := st.fams[key]; ok || len(st.fams) < maxFamilies {
		st.fams[key]++
	} else {
		st.over++
	}
	if st.total >= familyHalveAt {
		st.total, st.over = 0, st.over/2
		for k, n := range st.fams {
			if n /= 2; n == 0 {
				delete(st.fams, k)
			} else {
				st.fams[k] = n
			}
			st.total += n
		}
		st.total += st.over
	}
}

// share of key in the site's requests; ok is false when the bucket is not
// kept (beyond the cap: unknown).
func (st *rareSite) share(key string) (float64, bool) {
	n, ok := st.fams[key]
	if !ok || st.total == 0 {
		return 0, false
	}
	return float64(n) / float64(st.total), true
}

// topFamilies lists the site's most used buckets with their shares.
func (st *rareSite) topFamilies(n int) []string {
	type fc struct {
		k string
		n int64
	}
	l := make([]fc, 0, len(st.fams))
	for k, c := range st.fams {
		l = append(l, fc{k, c})
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].n != l[j].n {
			return l[i].n > l[j].n
		}
		return l[i].k < l[j].k
	})
	var out []string
	for i := 0; i < len(l) && i < n; i++ {
		out = append(out, fmt.Sprintf("%s (%.1f%%)", l[i].k, 100*float64(l[i].n)/float64(max(st.total, 1))))
	}
	return out
}

// rareState is one client's episode on one site.
type rareState struct {
	fams   counted[string] // judged buckets → the client's requests in them
	errs   int32           // 4xx answers
	agents []rareAgent     // the first agent of each judged bucket
	warm   bool            // the site had its warm-up when the episode began
}

type rareAgent struct {
	bucket, ua string
}

type rareUADetector struct {
	c           common
	maxShare    float64
	warmup      int
	minRequests int
	minErrors   int
	sc          siteClient[rareState]
	sites       *sites[rareSite]
	cache       strCache[uaBucket]
	lastUA      string
	lastB       uaBucket
}

func rareUserAgentSpec() detect.Spec {
	tech := []string{"T1595"}
	return detect.Spec{
		Name: "web.rare_user_agent",
		Summary: "a client whose user-agent family (browser family on its OS, HTTP library, or unrecognised) is rare in the site's own traffic, learned per site in event time, " +
			"and that behaves unusually (many requests or client errors); low severity: context for other findings",
		Key: detect.KeySite, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("30m", "a browsing session or a scan; half an hour of silence ends it"),
			paramMaxEntities, paramSamples,
			{Name: "max_share", Default: "0.001", Doc: "a family is rare below this share of the site's requests (0.1 %: on a site with 100,000 requests a day, fewer than 100 — a handful of visitors; " +
				"real browser families on a real OS are each well above it, and the share counts the client's own requests, so a busy client such as an API sync job makes its own library common)"},
			{Name: "warmup", Default: "5000", Doc: "requests the site must have had when a client's episode begins for the client to be judged: below it a 0.1 % share is under five requests, too few to tell rare from not seen yet, and clients of the first minutes are what the site learns from"},
			{Name: "min_requests", Default: "50", Doc: "requests of the rare family in the episode that make it unusual (a visitor reads a few pages: with their assets, tens of requests; a script or sweep makes more)"},
			{Name: "min_errors", Default: "5", Doc: "or 4xx answers in the episode that make it unusual (a visitor meets a broken link or two; probes meet many)"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "warmup", "min_requests", "min_errors")
			if err != nil {
				return nil, err
			}
			f, err := floats(p, "max_share")
			if err != nil {
				return nil, err
			}
			if f[0] >= 1 {
				return nil, errParam("parameter max_share must be below 1")
			}
			d := &rareUADetector{c: c, maxShare: f[0], warmup: v[0], minRequests: v[1], minErrors: v[2]}
			d.sc.eps = newEpisodes(c, d.end)
			d.sites = newSites(func(s *rareSite) { s.fams = make(map[string]int64, 32) })
			return d, nil
		},
	}
}

var _ detect.Detector = (*rareUADetector)(nil)

// bucket classifies a user agent (memoised by the interned string).
func (d *rareUADetector) bucket(ua string) uaBucket {
	if b, ok := d.cache.get(ua); ok {
		return b
	}
	b := bucketOf(classifyUA(ua))
	d.cache.put(ua, b)
	return b
}

func (d *rareUADetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || !ev.SrcIP.IsValid() {
		return
	}
	site := siteOf(ev)
	st := d.sites.get(site, ev.Time)
	b := d.lastB
	if h.UserAgent != d.lastUA || d.lastB.key == "" { // interned: usually a pointer compare
		b = d.bucket(h.UserAgent)
		d.lastUA, d.lastB = h.UserAgent, b
	}
	st.add(b.key)
	if !b.judged {
		return
	}
	e := d.sc.touch(ev, site, emit)
	s := &e.v
	if e.requests == 1 {
		// a client that arrived while the site was still learning is part
		// of what it learned
		s.warm = st.seen >= int64(d.warmup)
	}
	isNew := s.fams.Add(b.key, 1, 8)
	if isNew && len(s.agents) < 8 {
		s.agents = append(s.agents, rareAgent{b.key, clip(h.UserAgent, 200)})
	}
	client := h.Status >= 400 && h.Status < 500
	if client {
		s.errs++
	}
	if isNew || client {
		e.smp.add(ev, d.c.samples)
	}
}

func (d *rareUADetector) Advance(t time.Time, emit detect.Emit) { d.sc.eps.advance(t, emit) }
func (d *rareUADetector) Flush(emit detect.Emit)                { d.sc.eps.flush(emit) }
func (d *rareUADetector) Stats() detect.Stats {
	return combined(d.sc.eps.stats(), detect.Stats{Shed: d.sites.tab.Stats().Shed})
}

func (d *rareUADetector) end(key string, e *ep[rareState], emit detect.Emit) {
	site, ip := splitSiteClient(key)
	st := d.sites.peek(site)
	s := &e.v
	if st == nil || !s.warm {
		return
	}
	// the rarest judged family the client used that is below max_share
	fam, share, n := "", 1.0, int32(0)
	s.fams.Each(func(k string, c int32) {
		sh, ok := st.share(k)
		if !ok || sh >= d.maxShare {
			return
		}
		if sh < share || sh == share && k < fam {
			fam, share, n = k, sh, c
		}
	})
	if fam == "" {
		return
	}
	var why []string
	if int(n) >= d.minRequests {
		why = append(why, fmt.Sprintf("%d requests (threshold %d)", n, d.minRequests))
	}
	if int(s.errs) >= d.minErrors {
		why = append(why, fmt.Sprintf("%d client errors (threshold %d)", s.errs, d.minErrors))
	}
	if len(why) == 0 {
		return
	}
	ua := ""
	for _, a := range s.agents {
		if a.bucket == fam {
			ua = a.ua
			break
		}
	}
	top := st.topFamilies(5)
	a := finding("web.rare_user_agent", []string{"T1595"}, ip, e)
	a.Severity = event.SeverityLow
	a.Score = 0.3
	a.Evidence = map[string]any{
		"site":             site,
		"family":           fam,
		"family_share":     round6(share),
		"max_share":        d.maxShare,
		"site_requests":    st.total,
		"site_top":         top,
		"requests":         e.requests,
		"family_requests":  n,
		"client_errors":    s.errs,
		"user_agent":       ua,
		"client_families":  names(top5(&s.fams)),
		"duration_minutes": round2(minutes(e.start, e.last)),
	}
	a.Description = fmt.Sprintf("%s used %s, %.3f%% of %s's requests (rare below %.3f%%; the site's top: %s), with %s in %s",
		a.Entity.Value, fam, 100*share, siteName(site), 100*d.maxShare, strings.Join(first(top, 3), ", "), strings.Join(why, " and "), span(e))
	emit(a)
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func top5(c *counted[string]) []kv { return top(c, 5, ident) }
