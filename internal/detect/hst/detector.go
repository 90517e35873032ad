package hst

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/stablehash"
)

// Register adds the Half-Space Trees detectors to r.
func Register(r *detect.Registry) {
	r.MustRegister(ClientSpec())
}

// Features of a client's window of HTTP requests, in vector order.
var clientFeatures = []string{
	"requests", "requests_per_minute", "distinct_path_share", "post_share", "other_method_share",
	"status_3xx_share", "status_4xx_share", "status_5xx_share", "mean_bytes", "query_share",
	"odd_char_share", "user_agents", "mean_path_length", "distinct_extension_share",
}

// ClientSpec is "hst.http_client": every client's HTTP requests are
// summarised per window (request rate, distinct paths, method and status
// mix, bytes, queries, odd characters, user agents, path lengths,
// extensions) and the summary vectors of a site's clients stream through
// one Half-Space Trees forest per site. A window whose vector lies where
// the site's recent windows put little mass — among the most anomalous
// `quantile` of the site's windows so far, and above `min_score` — is
// reported: "this client's behaviour is unlike anything the site has
// seen". Per site one forest, so results do not depend on sharding.
// Findings are low severity: unusual is not bad by itself (a busy API
// client is unusual too); they rank entities and explain what stands out.
func ClientSpec() detect.Spec {
	return detect.Spec{
		Name:    "hst.http_client",
		Summary: "Half-Space Trees over per-client behaviour vectors (rate, paths, methods, statuses, bytes, odd characters) per window: clients unlike the site's other clients",
		Key:     detect.KeySite,
		Kinds:   []event.Kind{event.KindHTTP},
		Params: []detect.Param{
			{Name: "window", Default: "10m", Doc: "a client's behaviour is summarised over this much event time"},
			{Name: "min_requests", Default: "10", Doc: "windows with fewer requests are not scored (too little to describe behaviour)"},
			{Name: "quantile", Default: "0.01", Doc: "report windows among this most anomalous share of the site's scored windows so far"},
			{Name: "min_score", Default: "0.9", Doc: "and only with an HST score (0–1) at least this"},
			{Name: "warmup", Default: "200", Doc: "scored windows a site needs before anything is reported (after the forest's first reference window)"},
			{Name: "trees", Default: "10", Doc: "trees per forest (River's default)"},
			{Name: "height", Default: "8", Doc: "tree height (River's default)"},
			{Name: "forest_window", Default: "250", Doc: "windows per HST reference window (River's default 250)"},
			{Name: "seed", Default: "42", Doc: "random seed of the forests (results are deterministic per seed)"},
			{Name: "max_entities", Default: "20000", Doc: "clients tracked per shard; beyond it the least recently active is closed early and counted as shed"},
			{Name: "max_sites", Default: "256", Doc: "sites (forests) per shard; events of further sites are not scored"},
			{Name: "samples", Default: "3", Doc: "evidence lines kept per finding"},
		},
		New: newClientDetector,
	}
}

type clientConfig struct {
	window      time.Duration
	minRequests int
	quantile    float64
	minScore    float64
	warmup      int
	forest      Config
	maxSites    int
	samples     int
}

type clientDetector struct {
	cfg     clientConfig
	sites   map[string]*siteModel
	clients *detect.Table[clientWindow]
	shed    []clientWindow
	skipped int64
}

// siteModel is a site's forest, encoder, score distribution and the
// running mean of its encoded windows (to name a window's unusual
// features).
type siteModel struct {
	forest *Forest
	enc    *Encoder
	hist   [1000]int64 // scores of scored windows, by 0.001
	scored int64
	mean   []float64
	n      float64
}

// clientWindow accumulates one client's window.
type clientWindow struct {
	site, client string
	ip           netip.Addr
	first, last  time.Time
	n            int
	post, other  int
	s3, s4, s5   int
	bytes        float64
	query        int
	odd          int
	pathLen      int
	paths        map[uint64]struct{}
	exts         map[string]struct{}
	agents       map[string]struct{}
	samples      []event.Sample
}

// Caps of the per-window sets.
const (
	maxWindowPaths  = 512
	maxWindowExts   = 64
	maxWindowAgents = 16
)

func newClientDetector(p detect.Params) (detect.Detector, error) {
	var c clientConfig
	var err error
	if c.window, err = p.Duration("window"); err != nil {
		return nil, err
	}
	ints := map[string]*int{"min_requests": &c.minRequests, "warmup": &c.warmup, "trees": &c.forest.Trees,
		"height": &c.forest.Height, "forest_window": &c.forest.WindowSize, "max_sites": &c.maxSites, "samples": &c.samples}
	for name, dst := range ints {
		if *dst, err = p.Int(name); err != nil {
			return nil, err
		}
	}
	if c.quantile, err = p.Float("quantile"); err != nil {
		return nil, err
	}
	if c.minScore, err = p.Float("min_score"); err != nil {
		return nil, err
	}
	seed, err := p.Int("seed")
	if err != nil {
		return nil, err
	}
	c.forest.Seed = uint64(seed)
	max, err := p.Int("max_entities")
	if err != nil {
		return nil, err
	}
	if c.window <= 0 || c.minRequests < 1 || !(c.quantile > 0 && c.quantile <= 1) || !(c.minScore >= 0 && c.minScore <= 1) ||
		c.warmup < 0 || c.maxSites < 1 || c.samples < 0 || max < 1 {
		return nil, fmt.Errorf("detector hst.http_client: window > 0, min_requests ≥ 1, 0 < quantile ≤ 1, min_score in [0, 1], warmup ≥ 0, max_sites ≥ 1, samples ≥ 0 and max_entities ≥ 1 are required")
	}
	if _, err := New(len(clientFeatures), c.forest); err != nil {
		return nil, fmt.Errorf("detector hst.http_client: %w", err)
	}
	d := &clientDetector{cfg: c, sites: map[string]*siteModel{}}
	d.clients = detect.NewTable(max, detect.TableOptions[clientWindow]{
		Shed: func(_ string, w *clientWindow) { d.shed = append(d.shed, *w) },
	})
	return d, nil
}

func (d *clientDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || !ev.SrcIP.IsValid() {
		return
	}
	site := detect.Site(ev)
	client := ev.SrcIP.String()
	key := site + " " + client
	w, created := d.clients.Upsert(key, ev.Time)
	for _, s := range d.shed {
		d.close(&s, emit)
	}
	d.shed = d.shed[:0]
	if !created && ev.Time.Sub(w.first) >= d.cfg.window {
		d.close(w, emit)
		created = true
	}
	if created {
		*w = clientWindow{site: site, client: client, ip: ev.SrcIP, first: ev.Time}
	}
	w.last = ev.Time
	w.n++
	switch h.Method {
	case "GET", "HEAD":
	case "POST":
		w.post++
	default:
		w.other++
	}
	switch {
	case h.Status >= 500:
		w.s5++
	case h.Status >= 400:
		w.s4++
	case h.Status >= 300:
		w.s3++
	}
	if h.Bytes > 0 {
		w.bytes += float64(h.Bytes)
	}
	if h.Query != "" {
		w.query++
	}
	if oddChars(h.PathDecoded) || oddChars(h.QueryDecoded) {
		w.odd++
	}
	w.pathLen += len(h.PathDecoded)
	if w.paths == nil {
		w.paths = make(map[uint64]struct{}, 8)
		w.exts = make(map[string]struct{}, 4)
		w.agents = make(map[string]struct{}, 2)
	}
	if len(w.paths) < maxWindowPaths {
		w.paths[stablehash.String(h.PathDecoded)] = struct{}{}
	}
	if len(w.exts) < maxWindowExts {
		w.exts[h.Ext] = struct{}{}
	}
	if len(w.agents) < maxWindowAgents {
		w.agents[h.UserAgent] = struct{}{}
	}
	if len(w.samples) < d.cfg.samples && (w.n&(w.n-1)) == 0 {
		w.samples = append(w.samples, sampleOf(ev))
	}
}

// oddChars reports characters that ordinary paths and queries rarely hold
// (quotes, angle brackets, parent directories, NUL, backticks, braces).
func oddChars(s string) bool {
	return strings.ContainsAny(s, "'\"<>`{}\x00;") || strings.Contains(s, "../")
}

func (d *clientDetector) Advance(t time.Time, emit detect.Emit) {
	d.clients.Expire(t, d.cfg.window, func(_ string, w *clientWindow) { d.close(w, emit) })
}

func (d *clientDetector) Flush(emit detect.Emit) {
	for _, s := range d.shed {
		d.close(&s, emit)
	}
	d.shed = d.shed[:0]
	d.clients.Drain(func(_ string, w *clientWindow) { d.close(w, emit) })
}

func (d *clientDetector) Stats() detect.Stats {
	s := d.clients.Stats()
	s.Deferred += d.skipped
	if d.skipped > 0 && s.Shed == 0 {
		s.Limit = "max_sites" // windows of sites beyond the cap were not scored
	}
	return s
}

// vector summarises a window.
func (w *clientWindow) vector(dst []float64) []float64 {
	n := float64(w.n)
	minutes := math.Max(w.last.Sub(w.first).Minutes(), 1)
	return append(dst[:0],
		n, n/minutes, float64(len(w.paths))/n, float64(w.post)/n, float64(w.other)/n,
		float64(w.s3)/n, float64(w.s4)/n, float64(w.s5)/n, w.bytes/n, float64(w.query)/n,
		float64(w.odd)/n, float64(len(w.agents)), float64(w.pathLen)/n, float64(len(w.exts))/n)
}

// close scores a finished window and reports it if it is anomalous.
func (d *clientDetector) close(w *clientWindow, emit detect.Emit) {
	if w.n < d.cfg.minRequests {
		return
	}
	m := d.sites[w.site]
	if m == nil {
		if len(d.sites) >= d.cfg.maxSites {
			d.skipped++
			return
		}
		f, _ := New(len(clientFeatures), d.cfg.forest)
		m = &siteModel{forest: f, enc: NewEncoder(make([]bool, len(clientFeatures))), mean: make([]float64, len(clientFeatures))}
		d.sites[w.site] = m
	}
	var buf [16]float64
	x := w.vector(buf[:0])
	ready := m.forest.Ready()
	e := m.enc.Encode(x)
	var dev [16]float64
	m.n++
	for i, v := range e {
		dev[i] = math.Abs(v - m.mean[i])
		m.mean[i] += (v - m.mean[i]) / m.n
	}
	score := m.forest.ScoreLearn(e)
	if !ready {
		return
	}
	bin := min(int(score*1000), 999)
	// Share of earlier scored windows at or above this score.
	var above int64
	for i := bin; i < len(m.hist); i++ {
		above += m.hist[i]
	}
	m.hist[bin]++
	m.scored++
	if m.scored <= int64(d.cfg.warmup) || score < d.cfg.minScore {
		return
	}
	share := float64(above) / float64(m.scored-1)
	if share > d.cfg.quantile {
		return
	}
	ev := map[string]any{"hst_score": round4(score), "share_of_windows_as_anomalous": round4(share),
		"windows_scored": m.scored, "window": d.cfg.window.String()}
	for i, name := range clientFeatures {
		ev[name] = round4(x[i])
	}
	top := topFeatures(x, dev[:len(x)])
	emit(event.Alert{
		Rule: "hst.http_client",
		Description: fmt.Sprintf("%d requests in %s unlike the site's other client windows (HST score %.3f, in the top %.2f%% of %d windows); most unusual: %s",
			w.n, w.last.Sub(w.first).Round(time.Second), score, 100*share, m.scored, strings.Join(top, ", ")),
		Entity:   event.Entity{Type: event.EntityIP, Value: w.client},
		Start:    w.first,
		End:      w.last,
		Severity: event.SeverityLow, // unusual is not (yet) bad: it ranks, other rules decide
		Score:    round4(score),
		SourceIP: w.ip,
		Related:  []event.Entity{{Type: event.EntityHost, Value: w.site}},
		Evidence: ev,
		Samples:  w.samples,
	})
}

// topFeatures names the three features whose scaled values lie furthest
// from the site's running mean.
func topFeatures(x, dev []float64) []string {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return dev[idx[a]] > dev[idx[b]] })
	out := make([]string, 0, 3)
	for _, i := range idx[:3] {
		out = append(out, fmt.Sprintf("%s=%.3g", clientFeatures[i], x[i]))
	}
	return out
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

func sampleOf(ev *event.Event) event.Sample {
	const max = 240
	text := string(ev.Raw)
	if len(text) > max {
		text = text[:max] + "…"
	}
	return event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: text}
}

var _ detect.Detector = (*clientDetector)(nil)
