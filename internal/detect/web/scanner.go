package web

import (
	"fmt"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// scanSite is a site's baseline for the scanner detector.
type scanSite struct {
	missing  quantiles // distinct missing paths per ended client episode
	episodes int64
	reqs     float64 // requests and 404s, halved together when large
	notFound float64
}

type scanState struct {
	notFound int32
	head     int32
	missing  pathSet
	examples []string
	crawler  int32 // requests with a self-declared crawler's user agent (verified where the engine publishes its ranges)
	crawlerN string
	lastUA   string // the client's last user agent and whether it is a crawler's
	isCrawl  bool
}

type scannerDetector struct {
	c          common
	minMissing int
	minRatio   float64
	factor     float64
	minClients int
	sc         siteClient[scanState]
	sites      *sites[scanSite]
	ua         uaCache
}

func scannerSpec() detect.Spec {
	tech := []string{"T1595.003", "T1595.002"}
	return detect.Spec{
		Name:    "web.scanner",
		Summary: "a client asks for many paths the site does not have (404s): directory and vulnerability scanning, judged against the site's own baseline of missing pages per client",
		Key:     detect.KeySite, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("30m", "a scan is one burst; a person who follows a few dead links over a day makes several small episodes"),
			paramMaxEntities, paramSamples,
			{Name: "min_missing", Default: "10", Doc: "distinct missing paths per episode at least; on a young site (fewer than min_clients past client episodes) this is the threshold"},
			{Name: "baseline_factor", Default: "3", Doc: "the threshold is also at least this times the site's 99th percentile of distinct missing paths per client episode (a site with broken links raises its own bar)"},
			{Name: "min_ratio", Default: "0.3", Doc: "share of the client's requests answered 404/410, at least, and at least 3× the site's own share; crawlers follow real links and stay far below (Googlebot ≈ 2%), scanners guess (30–100%); ten times the missing-path threshold reports whatever the share"},
			{Name: "min_clients", Default: "50", Doc: "past client episodes before the site's percentile is trusted"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "min_missing", "min_clients")
			if err != nil {
				return nil, err
			}
			f, err := floats(p, "baseline_factor", "min_ratio")
			if err != nil {
				return nil, err
			}
			d := &scannerDetector{c: c, minMissing: v[0], minClients: v[1], factor: f[0], minRatio: f[1]}
			d.sc.eps = newEpisodes(c, d.end)
			d.sites = newSites[scanSite](nil)
			return d, nil
		},
	}
}

var _ detect.Detector = (*scannerDetector)(nil)

func (d *scannerDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || !ev.SrcIP.IsValid() {
		return
	}
	site := siteOf(ev)
	st := d.sites.get(site, ev.Time)
	st.reqs++
	e := d.sc.touch(ev, site, emit)
	s := &e.v
	if h.UserAgent != s.lastUA || e.requests == 1 {
		info := d.ua.get(h.UserAgent)
		s.lastUA = h.UserAgent
		s.isCrawl = info.kind == uaCrawler && (info.claimed == "" || verifiedCrawler(info.claimed, ev.SrcIP))
		if s.isCrawl {
			s.crawlerN = info.family
		}
	}
	if s.isCrawl {
		s.crawler++
	}
	if h.Status != 404 && h.Status != 410 || h.Invalid {
		d.halve(st)
		return
	}
	p := lowerASCII(h.PathDecoded)
	if wellKnown(p) {
		d.halve(st)
		return
	}
	st.notFound++
	d.halve(st)
	s.notFound++
	if h.Method == "HEAD" {
		s.head++
	}
	if s.missing.add(hashString(p), 8192) {
		if len(s.examples) < 10 {
			s.examples = append(s.examples, clip(h.Path, 100))
		}
		e.smp.add(ev, d.c.samples)
	}
}

func (d *scannerDetector) halve(st *scanSite) {
	if st.reqs >= 1<<20 {
		st.reqs /= 2
		st.notFound /= 2
	}
}

func (d *scannerDetector) Advance(t time.Time, emit detect.Emit) { d.sc.eps.advance(t, emit) }
func (d *scannerDetector) Flush(emit detect.Emit)                { d.sc.eps.flush(emit) }
func (d *scannerDetector) Stats() detect.Stats {
	return combined(d.sc.eps.stats(), detect.Stats{Shed: d.sites.tab.Stats().Shed})
}

// minOthers is how many requests of other clients the site's 404 share
// needs before it is used.
const minOthers = 1000

// threshold is the site's bar for distinct missing paths and 404 share,
// the share computed without the client being judged (reqs, notFound).
func (d *scannerDetector) threshold(st *scanSite, reqs, notFound float64) (missing, ratio, p99, siteRatio float64) {
	missing = float64(d.minMissing)
	if st != nil && st.episodes >= int64(d.minClients) {
		p99 = st.missing.quantile(0.99)
		missing = max(missing, d.factor*p99)
	}
	if st != nil && st.reqs-reqs >= minOthers {
		siteRatio = max(0, st.notFound-notFound) / (st.reqs - reqs)
	}
	ratio = min(0.9, max(d.minRatio, 3*siteRatio))
	return
}

func (d *scannerDetector) end(key string, e *ep[scanState], emit detect.Emit) {
	site, ip := splitSiteClient(key)
	st := d.sites.peek(site)
	s := &e.v
	n := s.missing.len()
	defer func() {
		if st != nil {
			st.missing.add(float64(n))
			st.episodes++
		}
	}()
	if n < d.minMissing {
		return
	}
	th, rth, p99, siteRatio := d.threshold(st, float64(e.requests), float64(s.notFound))
	ratio := float64(s.notFound) / float64(max(e.requests, 1))
	// Ten times the missing-path bar reports even at a low 404 share (a
	// vulnerability scanner that also crawls the real site), as long as
	// the share is well above the rest of the site's.
	huge := float64(n) >= 10*th && ratio >= max(0.02, 3*siteRatio)
	if float64(n) < th || ratio < rth && !huge {
		return
	}
	a := finding("web.scanner", []string{"T1595.003"}, ip, e)
	a.Severity = event.SeverityMedium
	if huge {
		a.Severity = event.SeverityHigh
	}
	crawler := s.crawler*2 > int32(e.requests)
	if crawler && !(huge && ratio >= 0.8) {
		a.Severity = event.SeverityLow // a declared crawler following dead links
	}
	a.Score = strength(float64(n), th)
	a.Evidence = map[string]any{
		"site":                 site,
		"requests":             e.requests,
		"not_found":            s.notFound,
		"not_found_ratio":      round3(ratio),
		"distinct_missing":     n,
		"threshold":            round2(th),
		"min_ratio":            round3(rth),
		"site_p99_missing":     p99,
		"site_not_found_ratio": round3(siteRatio),
		"head_requests":        s.head,
		"examples":             s.examples,
		"duration_minutes":     round2(minutes(e.start, e.last)),
	}
	what := fmt.Sprintf("%s asked %s for %d paths it does not have (%d of %d requests answered 404, %.0f%%) in %s, e.g. %s",
		a.Entity.Value, siteName(site), n, s.notFound, e.requests, 100*ratio, span(e), strings.Join(first(s.examples, 3), ", "))
	what += fmt.Sprintf("; the site's bar is %.0f missing paths and a %.0f%% share", th, 100*rth)
	if crawler {
		what += fmt.Sprintf(" (user agent: crawler %s)", s.crawlerN)
		a.Evidence["crawler"] = s.crawlerN
	}
	a.Description = what
	emit(a)
}

func siteName(site string) string {
	if site == "-" || site == "" {
		return "the site"
	}
	return site
}
