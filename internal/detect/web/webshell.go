package web

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// wsSite is what the web-shell detector knows of a site: when it was first
// seen (the learning period runs from there) and who the site answered 2xx
// for each executable extension.
type wsSite struct {
	first int64
	exts  map[string]*servedBy
}

// wsPath is one executable path of a site: when the site first answered it
// 2xx and to which clients.
type wsPath struct {
	first   int64
	clients [3]uint64
	n       uint8
}

func (p *wsPath) add(client uint64) int {
	for i := 0; i < int(p.n); i++ {
		if p.clients[i] == client {
			return int(p.n)
		}
	}
	if int(p.n) < len(p.clients) {
		p.clients[p.n] = client
		p.n++
	}
	return int(p.n)
}

// Signals that a 2xx on an executable path is a web shell.
const (
	sigUploadDir   = 1 << iota // it lies where uploads and static files go
	sigShellName               // its name is a known shell's, or random
	sigCommand                 // the request passes a command
	sigAfterUpload             // the same client uploaded something shortly before
	sigPost                    // the client talks to it with POST
	sigNewExt                  // the site never served this extension before
)

var sigNames = []string{"in an upload/static directory", "shell-like file name", "command parameter", "uploaded by the same client shortly before", "driven with POST", "an extension the site never served"}

func sigList(m int) []string {
	var out []string
	for i, n := range sigNames {
		if m&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

type wsHit struct {
	path    string
	signals int
	hits    int32
	posts   int32
}

type wsState struct {
	lastUpload     int64
	lastUploadPath string
	hits           []wsHit
	signals        int
	accesses       int32
	uploadSample   event.Sample
}

type webShellDetector struct {
	c          common
	warmup     time.Duration
	maxClients int
	uploadWin  time.Duration
	sc         siteClient[wsState]
	sites      *sites[wsSite]
	paths      *detect.Table[wsPath]
	buf        []byte
	in         Inspector
	out        []Match
}

func webShellSpec() detect.Spec {
	tech := []string{"T1505.003", "T1190"}
	return detect.Spec{
		Name:    "web.web_shell",
		Summary: "2xx answers on executable paths that are not the site's (new after the learning period, reached by one or two clients) with web-shell signs: upload directory, shell-like name, command parameters, POST interaction, an upload just before",
		Key:     detect.KeySite, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("2h", "an operator comes back to a shell now and then; two hours keep one intrusion in one finding"),
			paramMaxEntities, paramSamples,
			{Name: "warmup", Default: "1h", Doc: "event time from a site's first request during which its executable paths are learned as its own"},
			{Name: "max_clients", Default: "2", Doc: "a path answered 2xx to more distinct clients is the site's (a shell is reached by its operator alone)"},
			{Name: "upload_window", Default: "1h", Doc: "a 2xx on a new script within this time after the same client's POST upload is an upload-then-execute sequence"},
			{Name: "max_paths", Default: "200000", Doc: "executable paths remembered per shard (least recently used are shed, counted)"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "max_clients", "max_paths")
			if err != nil {
				return nil, err
			}
			w, err := p.Duration("warmup")
			if err != nil {
				return nil, err
			}
			u, err := p.Duration("upload_window")
			if err != nil {
				return nil, err
			}
			if w < 0 || u <= 0 {
				return nil, errParam("warmup ≥ 0 and upload_window > 0 are required")
			}
			d := &webShellDetector{c: c, warmup: w, maxClients: v[0], uploadWin: u}
			d.sc.eps = newEpisodes(c, d.end)
			d.sites = newSites(func(s *wsSite) { s.exts = map[string]*servedBy{} })
			d.paths = detect.NewTable(v[1], detect.TableOptions[wsPath]{})
			return d, nil
		},
	}
}

var _ detect.Detector = (*webShellDetector)(nil)

func lastSegment(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// uploadish reports whether a POST to p is likely an upload.
func uploadish(p string) bool {
	for _, k := range []string{"upload", "file", "media", "attach", "import", "avatar", "image", "photo", "asset", "document", "plugin", "theme", "editor", "install"} {
		if strings.Contains(p, k) {
			return true
		}
	}
	return false
}

func (d *webShellDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || h.Invalid || !ev.SrcIP.IsValid() {
		return
	}
	site := siteOf(ev)
	st := d.sites.get(site, ev.Time)
	now := ev.Time.UnixNano()
	if st.first == 0 || now < st.first {
		st.first = now
	}
	ok := h.Status >= 200 && h.Status < 300
	exe := webShellExts[h.Ext]
	if h.Method == "POST" && h.Status >= 200 && h.Status < 400 && (!exe || strings.Contains(lowerASCII(lastSegment(h.PathDecoded)), "upload")) {
		p := lowerASCII(h.PathDecoded)
		if uploadish(p) {
			e := d.sc.touch(ev, site, emit)
			e.v.lastUpload = now
			e.v.lastUploadPath = h.Path
			e.v.uploadSample = sampleOf(ev)
		}
		return
	}
	if !ok || !exe {
		return
	}
	k := keyOf(ev.SrcIP)
	client := hashString(string(k[:]))
	newExt := false
	sb := st.exts[h.Ext]
	if sb == nil && len(st.exts) < 64 {
		sb = &servedBy{}
		st.exts[h.Ext] = sb
	}
	if sb != nil {
		newExt = int(sb.n) < 3 && now-st.first >= int64(d.warmup)
		sb.add(client)
	}
	p := lowerASCII(h.PathDecoded)
	d.buf = append(append(append(d.buf[:0], site...), 0), p...)
	wp, created := d.paths.UpsertBytes(d.buf, ev.Time)
	if created {
		wp.first = now
	}
	n := wp.add(client)
	learned := wp.first-st.first < int64(d.warmup)
	if learned || n > d.maxClients {
		return // the site's own path
	}
	sig := 0
	if uploadDir(p) {
		sig |= sigUploadDir
	}
	if shellName(p) {
		sig |= sigShellName
	}
	q := lowerASCII(h.QueryDecoded)
	if q != "" && commandParam(q) {
		sig |= sigCommand
	} else if q != "" {
		d.out = d.in.Inspect(h.QueryDecoded, FieldQuery, d.out[:0])
		for _, m := range d.out {
			if m.Class == ClassCommand || m.Class == ClassCode {
				sig |= sigCommand
			}
		}
	}
	if h.Method == "POST" {
		sig |= sigPost
	}
	if newExt {
		sig |= sigNewExt
	}
	e := d.sc.get(ev, site)
	if e != nil && e.v.lastUpload != 0 && now-e.v.lastUpload <= int64(d.uploadWin) {
		sig |= sigAfterUpload
	}
	strong := sig & (sigUploadDir | sigShellName | sigCommand | sigAfterUpload)
	if strong == 0 && !(sig&sigNewExt != 0 && sig&sigPost != 0) {
		return
	}
	e = d.sc.touch(ev, site, emit)
	s := &e.v
	s.accesses++
	s.signals |= sig
	found := false
	for i := range s.hits {
		if s.hits[i].path == h.Path {
			s.hits[i].signals |= sig
			s.hits[i].hits++
			if h.Method == "POST" {
				s.hits[i].posts++
			}
			found = true
			break
		}
	}
	if !found && len(s.hits) < 16 {
		hit := wsHit{path: h.Path, signals: sig, hits: 1}
		if h.Method == "POST" {
			hit.posts = 1
		}
		s.hits = append(s.hits, hit)
	}
	e.smp.add(ev, d.c.samples)
}

// get returns the (site, client) episode without touching it.
func (sc *siteClient[V]) get(ev *event.Event, site string) *ep[V] {
	sc.buf = siteClientKey(sc.buf, site, ev.SrcIP)
	return sc.eps.get(sc.buf)
}

func (d *webShellDetector) Advance(t time.Time, emit detect.Emit) { d.sc.eps.advance(t, emit) }
func (d *webShellDetector) Flush(emit detect.Emit)                { d.sc.eps.flush(emit) }
func (d *webShellDetector) Stats() detect.Stats {
	return combined(d.sc.eps.stats(), detect.Stats{Shed: d.sites.tab.Stats().Shed + d.paths.Stats().Shed})
}

func (d *webShellDetector) end(key string, e *ep[wsState], emit detect.Emit) {
	s := &e.v
	if len(s.hits) == 0 {
		return
	}
	site, ip := splitSiteClient(key)
	a := finding("web.web_shell", []string{"T1505.003"}, ip, e)
	strong := 0
	for m := s.signals & (sigUploadDir | sigShellName | sigCommand | sigAfterUpload | sigPost); m != 0; m &= m - 1 {
		strong++
	}
	a.Severity = event.SeverityMedium
	if strong >= 2 || s.signals&(sigCommand|sigAfterUpload) != 0 {
		a.Severity = event.SeverityHigh
	}
	if s.signals&sigAfterUpload != 0 && s.signals&(sigCommand|sigPost) != 0 {
		a.Severity = event.SeverityCritical // upload, then execute: a compromise
	}
	a.Score = min(1, 0.5+0.1*float64(strong))
	sort.SliceStable(s.hits, func(i, j int) bool { return s.hits[i].hits > s.hits[j].hits })
	var paths []map[string]any
	var pl []string
	for _, h := range s.hits {
		paths = append(paths, map[string]any{"path": h.path, "requests": h.hits, "posts": h.posts, "signals": sigList(h.signals)})
		pl = append(pl, clip(h.path, 80))
	}
	a.Evidence = map[string]any{
		"site":             site,
		"paths":            paths,
		"accesses":         s.accesses,
		"signals":          sigList(s.signals),
		"warmup":           d.warmup.String(),
		"max_clients":      d.maxClients,
		"duration_minutes": round2(minutes(e.start, e.last)),
	}
	a.Description = fmt.Sprintf("%s got 2xx answers from %s on %s that %s did not serve before (%s)",
		a.Entity.Value, plural(len(s.hits), "executable path", "executable paths"), strings.Join(first(pl, 3), ", "), siteName(site), strings.Join(sigList(s.signals), ", "))
	if s.signals&sigAfterUpload != 0 {
		a.Description += fmt.Sprintf("; it had uploaded to %s just before", s.lastUploadPath)
		a.Evidence["upload"] = s.lastUploadPath
		a.Samples = append([]event.Sample{s.uploadSample}, a.Samples...)
	}
	emit(a)
}
