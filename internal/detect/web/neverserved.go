package web

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// servedBy counts the distinct clients a site answered 2xx for one
// extension or framework, up to a few.
type servedBy struct {
	clients [4]uint64
	n       uint8
	ok      int64
}

func (s *servedBy) add(client uint64) {
	s.ok++
	for i := 0; i < int(s.n); i++ {
		if s.clients[i] == client {
			return
		}
	}
	if int(s.n) < len(s.clients) {
		s.clients[s.n] = client
		s.n++
	}
}

// nsSite is what a site serves.
type nsSite struct {
	exts map[string]*servedBy // server-side extension → who got 2xx
	fws  map[string]*servedBy // framework → who got 2xx
	ok   int64                // 2xx answers seen
	over int64                // keys not kept (caps)
}

const maxServedKeys = 4096

type nsProbe struct {
	key, path string
}

type nsState struct {
	paths    pathSet
	keys     counted[string] // "ext:php", "framework:wordpress" → distinct probe paths
	examples []nsProbe
}

type neverServedDetector struct {
	c          common
	minProbes  int
	minClients int
	minSite    int
	sc         siteClient[nsState]
	sites      *sites[nsSite]
	dirs       map[string]string
}

func neverServedSpec() detect.Spec {
	tech := []string{"T1595.002", "T1595.003"}
	return detect.Spec{
		Name:    "web.never_served",
		Summary: "a client probes for server-side extensions (.php, .asp, .jsp, …) and frameworks (WordPress, phpMyAdmin, Tomcat manager, file managers, routers, …) that the site never serves, learned from what the site answers 2xx",
		Key:     detect.KeySite, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("30m", "probes of one sweep come together"),
			paramMaxEntities, paramSamples,
			{Name: "min_probes", Default: "3", Doc: "distinct probe paths per episode for a medium finding (a sweep for wp-login.php, administrator/ and admin.php is three); one or two are reported low (Internet background noise); ten times as many are high"},
			{Name: "min_clients", Default: "3", Doc: "distinct clients the site must have answered 2xx for an extension or framework before it counts as served (one compromised upload does not teach the site PHP)"},
			{Name: "min_site_answers", Default: "100", Doc: "2xx answers the site must have given before anything is judged: until then it is unknown what it serves"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "min_probes", "min_clients", "min_site_answers")
			if err != nil {
				return nil, err
			}
			d := &neverServedDetector{c: c, minProbes: v[0], minClients: v[1], minSite: v[2]}
			d.sc.eps = newEpisodes(c, d.end)
			d.sites = newSites(func(s *nsSite) {
				s.exts = map[string]*servedBy{}
				s.fws = map[string]*servedBy{}
			})
			return d, nil
		},
	}
}

var _ detect.Detector = (*neverServedDetector)(nil)

// framework returns the framework of a request (the query counts for
// index.php, where Joomla and ThinkPHP route).
func (d *neverServedDetector) framework(h *event.HTTP) string {
	t := h.PathDecoded
	if h.QueryDecoded != "" && strings.Contains(h.PathDecoded, "index.php") {
		t = h.PathDecoded + "?" + h.QueryDecoded
	}
	return frameworkOf(lowerASCII(t))
}

func (d *neverServedDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || h.Invalid || !ev.SrcIP.IsValid() {
		return
	}
	site := siteOf(ev)
	st := d.sites.get(site, ev.Time)
	ext := ""
	if serverExts[h.Ext] {
		ext = h.Ext
	}
	served := h.Status >= 200 && h.Status < 300 || h.Status == 304
	var fw string
	if served && staticExts[h.Ext] {
		// Assets teach frameworks by their directory (/wp-content/…/
		// style.css); directories repeat, so they are memoised.
		fw = d.dirFramework(h.PathDecoded)
		if fw == "" {
			st.ok++
			return
		}
	} else {
		fw = d.framework(h)
	}
	if served {
		st.ok++
		if ext == "" && fw == "" {
			return
		}
		k := keyOf(ev.SrcIP)
		client := hashString(string(k[:]))
		if ext != "" {
			servedKey(st, st.exts, ext).add(client)
		}
		if fw != "" {
			servedKey(st, st.fws, fw).add(client)
		}
		return
	}
	if ext == "" && fw == "" {
		return
	}
	e := d.sc.touch(ev, site, emit)
	s := &e.v
	p := lowerASCII(h.PathDecoded)
	if !s.paths.add(hashString(p), 4096) {
		return
	}
	key := "framework:" + fw
	if fw == "" {
		key = "ext:" + ext
	}
	s.keys.Add(key, 1, 64)
	if len(s.examples) < 20 {
		s.examples = append(s.examples, nsProbe{key, clip(h.Path, 100)})
	}
	e.smp.add(ev, d.c.samples)
}

// dirFramework is frameworkOf of a path's directory, memoised (bounded,
// reset when full).
func (d *neverServedDetector) dirFramework(p string) string {
	dir := p[:strings.LastIndexByte(p, '/')+1]
	if fw, ok := d.dirs[dir]; ok {
		return fw
	}
	fw := frameworkOf(lowerASCII(dir))
	if d.dirs == nil || len(d.dirs) >= 4096 {
		d.dirs = make(map[string]string, 256)
	}
	d.dirs[dir] = fw
	return fw
}

// staticExts are asset extensions: they are judged by their directory.
var staticExts = map[string]bool{"png": true, "jpg": true, "jpeg": true, "gif": true, "webp": true, "svg": true, "ico": true, "css": true,
	"js": true, "woff": true, "woff2": true, "ttf": true, "map": true, "avif": true, "mp4": true, "webm": true}

func servedKey(st *nsSite, m map[string]*servedBy, k string) *servedBy {
	sb := m[k]
	if sb == nil {
		if len(st.exts)+len(st.fws) >= maxServedKeys {
			st.over++
			return &servedBy{}
		}
		sb = &servedBy{}
		m[k] = sb
	}
	return sb
}

func (d *neverServedDetector) Advance(t time.Time, emit detect.Emit) { d.sc.eps.advance(t, emit) }
func (d *neverServedDetector) Flush(emit detect.Emit)                { d.sc.eps.flush(emit) }
func (d *neverServedDetector) Stats() detect.Stats {
	return combined(d.sc.eps.stats(), detect.Stats{Shed: d.sites.tab.Stats().Shed})
}

// servedNow reports whether the site serves a probe key.
func (d *neverServedDetector) servedNow(st *nsSite, key string) bool {
	kind, name, _ := strings.Cut(key, ":")
	m := st.exts
	if kind == "framework" {
		m = st.fws
	}
	sb := m[name]
	return sb != nil && int(sb.n) >= d.minClients
}

func (d *neverServedDetector) end(key string, e *ep[nsState], emit detect.Emit) {
	site, ip := splitSiteClient(key)
	st := d.sites.peek(site)
	if st == nil || st.ok < int64(d.minSite) {
		return
	}
	s := &e.v
	probes := map[string]int32{}
	n := 0
	s.keys.Each(func(k string, c int32) {
		if !d.servedNow(st, k) {
			probes[k] = c
			n += int(c)
		}
	})
	if n == 0 {
		return
	}
	var examples []string
	for _, x := range s.examples {
		if _, ok := probes[x.key]; ok && len(examples) < 8 {
			examples = append(examples, x.path)
		}
	}
	var kl []string
	for k := range probes {
		kl = append(kl, strings.TrimPrefix(strings.TrimPrefix(k, "framework:"), "ext:."))
	}
	sort.Strings(kl)
	a := finding("web.never_served", []string{"T1595.002"}, ip, e)
	a.Severity = event.SeverityLow
	switch {
	case n >= 10*d.minProbes:
		a.Severity = event.SeverityHigh
	case n >= d.minProbes:
		a.Severity = event.SeverityMedium
	}
	a.Score = strength(float64(n), float64(d.minProbes))
	a.Evidence = map[string]any{
		"site":             site,
		"requests":         e.requests,
		"probe_paths":      n,
		"probes":           probes,
		"examples":         examples,
		"min_probes":       d.min(),
		"site_2xx":         st.ok,
		"duration_minutes": round2(minutes(e.start, e.last)),
	}
	a.Description = fmt.Sprintf("%s probed %s for %s it never serves (%s) in %s, e.g. %s (threshold %d)",
		a.Entity.Value, siteName(site), plural(n, "path", "paths"), strings.Join(first(kl, 6), ", "), span(e), strings.Join(first(examples, 3), ", "), d.minProbes)
	emit(a)
}

func (d *neverServedDetector) min() int { return d.minProbes }
