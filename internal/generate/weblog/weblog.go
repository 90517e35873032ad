// Package weblog generates a realistic day of a web shop's access log
// (Apache/nginx combined format) with attacks embedded, for the demo, tests
// and benchmarks, and returns the ground truth.
//
// The site is a small shop: product, category, blog and account pages with
// their CSS, JavaScript, fonts and images; a search; a login form; a JSON
// API. The benign traffic is what a real site sees:
//
//   - visitors: sessions arriving with a day/night rhythm, from IPv4 and
//     IPv6 addresses (some behind shared corporate NATs), with current
//     browser user agents; a page loads its assets, revisits get 304s,
//     referrers come from search engines and the site itself, a few follow
//     dead links (404), some search (including tricky queries such as
//     "o'neill" or "rock & roll"), some log in (a few mistype once);
//   - crawlers with their real user agents and published address ranges
//     (Googlebot, Bingbot) and honest third-party bots (AhrefsBot,
//     SemrushBot) that fetch robots.txt and sitemap.xml and hit some dead
//     links;
//   - health checks from two load balancers every 10 seconds and an
//     uptime monitor;
//   - a busy partner API client (python-requests, HTTP Basic user
//     "acme-sync") polling stock and updating orders all day, ~45/min;
//   - Internet background noise: single probes for /wp-login.php or /.env,
//     TLS handshakes sent to the HTTP port, research scanners.
//
// Embedded attacks (see Truth): a Nikto wordlist scan, sqlmap-style SQL
// injection with XSS probes, traversal/command/Log4Shell attempts,
// credential stuffing on /login from rotating proxies, an HTTP Basic
// brute force on /admin/, an HTTP flood of /search, and a web shell
// uploaded through the avatar form and then driven with POSTs.
//
// Output is deterministic for a Config (math/rand/v2 PCG seeded by Seed)
// and in non-decreasing time order. Memory is bounded by the records of
// episodes in progress (a min-heap), not by the length of the output.
package weblog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strconv"
	"time"
)

// Config configures Generate.
type Config struct {
	Seed     int64
	Start    time.Time     // first timestamp; its Location is the log's zone
	Duration time.Duration // length of the log (at least 1h)
	// Lines is the approximate number of lines. 0 means a natural day
	// (≈ 190k lines). Larger values scale the visitors and crawlers; the
	// attacks, health checks and the API client stay the same.
	Lines int
	// ScannerIP, if set, is the address of the wordlist scanner (the demo
	// gives it the address that also brute-forces SSH in the auth log).
	ScannerIP string
	// Site, if set, writes vhost_combined lines ("site:443 ip - - …").
	Site string
	// Hard adds what fixed per-minute bars and wordlist thresholds miss:
	// six aggressive crawlers (125–450 requests in 15–60 s) and eleven
	// bots probing one known vulnerability each with 3–4 requests.
	Hard bool
}

// DefaultConfig returns a natural day starting 2026-11-21 00:00 UTC.
func DefaultConfig() Config {
	return Config{
		Seed:     1,
		Start:    time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
		Duration: 24 * time.Hour,
	}
}

// Attack is one embedded attack.
type Attack struct {
	Name      string    `json:"name"`
	SourceIPs []string  `json:"source_ips"`
	Users     []string  `json:"users,omitempty"`
	Rules     []string  `json:"rules"` // detector rules expected to fire (medium or above)
	Lines     int       `json:"lines"`
	Start     time.Time `json:"start"`
}

// Benign is a source of heavy benign traffic that must not be reported at
// medium or above.
type Benign struct {
	Name      string   `json:"name"`
	SourceIPs []string `json:"source_ips"`
	Lines     int      `json:"lines"`
}

// Truth is what Generate embedded.
type Truth struct {
	Lines   int      `json:"lines"`
	Attacks []Attack `json:"attacks"`
	Benign  []Benign `json:"benign"`
}

// rec is one access-log record.
type rec struct {
	t      int64 // unix nanoseconds
	seq    uint64
	ip     netip.Addr
	user   string
	method string
	target string
	proto  string
	status int16
	bytes  int32 // -1 writes "-"
	ref    string
	ua     string
	raw    string // a request line written as is (invalid requests)
	src    int16  // index into truth sources (-1 none)
}

type gen struct {
	cfg   Config
	rng   *rand.Rand
	w     *bufio.Writer
	heap  []rec
	seq   uint64
	start int64
	end   int64
	site  string

	visitScale float64
	pl         plan

	truth Truth

	// output scratch
	buf     []byte
	stampS  int64
	stamp   []byte
	visitor visitors
}

// Generate writes the log to w and returns the ground truth.
func Generate(w io.Writer, cfg Config) (Truth, error) {
	if cfg.Start.IsZero() {
		cfg.Start = DefaultConfig().Start
	}
	if cfg.Duration == 0 {
		cfg.Duration = 24 * time.Hour
	}
	if cfg.Duration < time.Hour {
		return Truth{}, errors.New("weblog: duration must be at least 1h")
	}
	if cfg.Lines < 0 {
		return Truth{}, errors.New("weblog: lines must not be negative")
	}
	if cfg.ScannerIP != "" {
		if _, err := netip.ParseAddr(cfg.ScannerIP); err != nil {
			return Truth{}, fmt.Errorf("weblog: scanner address: %w", err)
		}
	}
	g := &gen{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(uint64(cfg.Seed), 0x77656c6f67)),
		w:     bufio.NewWriterSize(w, 1<<16),
		start: cfg.Start.UnixNano(),
		end:   cfg.Start.Add(cfg.Duration).UnixNano(),
		site:  cfg.Site,
	}
	g.visitScale = 1
	if cfg.Lines > 0 {
		fixed := fixedLines(cfg.Duration)
		natural := naturalScaled(cfg.Duration)
		g.visitScale = math.Max(0.01, float64(cfg.Lines-fixed)/natural)
	}
	g.visitor = newVisitors(g)
	if err := g.run(); err != nil {
		return g.truth, err
	}
	return g.truth, g.w.Flush()
}

// fixedLines estimates the lines that do not scale (health checks, API
// client, monitor, noise, attacks) for a duration.
func fixedLines(d time.Duration) int {
	days := d.Hours() / 24
	return int(days*(2*8640+288+45*1440+400)) + 12000
}

// naturalScaled estimates the scaled lines (visitors and crawlers) of a
// natural day for a duration.
func naturalScaled(d time.Duration) float64 {
	return d.Hours() / 24 * 110000
}

// episode is a unit of generation: it starts at t and pushes records at or
// after t.
type episode struct {
	t    int64
	seq  uint64
	emit func(t int64)
}

func (g *gen) run() error {
	g.plan()
	var eps []episode
	for m := g.start; m < g.end; m += int64(time.Minute) {
		eps = eps[:0]
		next := min(m+int64(time.Minute), g.end)
		eps = g.minute(m, next, eps)
		sort.Slice(eps, func(i, j int) bool {
			if eps[i].t != eps[j].t {
				return eps[i].t < eps[j].t
			}
			return eps[i].seq < eps[j].seq
		})
		for _, e := range eps {
			if err := g.flush(e.t); err != nil {
				return err
			}
			e.emit(e.t)
		}
		if err := g.flush(next); err != nil {
			return err
		}
	}
	return g.flush(math.MaxInt64)
}

// at schedules an episode.
func (g *gen) at(eps []episode, t int64, fn func(t int64)) []episode {
	g.seq++
	return append(eps, episode{t: t, seq: g.seq, emit: fn})
}

// push queues a record (dropped past the end of the log).
func (g *gen) push(r rec) {
	if r.t >= g.end || r.t < g.start {
		return
	}
	g.seq++
	r.seq = g.seq
	g.heap = append(g.heap, r)
	siftUp(g.heap, len(g.heap)-1)
}

// flush writes every queued record before t.
func (g *gen) flush(t int64) error {
	for len(g.heap) > 0 && g.heap[0].t < t {
		r := g.heap[0]
		pop(&g.heap)
		g.write(&r)
	}
	if len(g.buf) > 0 {
		if _, err := g.w.Write(g.buf); err != nil {
			return err
		}
		g.buf = g.buf[:0]
	}
	return nil
}

func less(a, b *rec) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	return a.seq < b.seq
}

func siftUp(h []rec, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(&h[i], &h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func pop(hp *[]rec) {
	h := *hp
	n := len(h) - 1
	h[0] = h[n]
	h[n] = rec{}
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && less(&h[r], &h[l]) {
			c = r
		}
		if !less(&h[c], &h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	*hp = h
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// write formats one combined-format line.
func (g *gen) write(r *rec) {
	switch {
	case r.src >= benignBase:
		g.truth.Benign[r.src-benignBase].Lines++
	case r.src >= 0:
		g.truth.Attacks[r.src].Lines++
	}
	g.truth.Lines++
	b := g.buf
	if g.site != "" {
		b = append(b, g.site...)
		b = append(b, ":443 "...)
	}
	b = r.ip.AppendTo(b)
	b = append(b, " - "...)
	if r.user != "" {
		b = append(b, r.user...)
	} else {
		b = append(b, '-')
	}
	b = append(b, " ["...)
	b = append(b, g.stampOf(r.t)...)
	b = append(b, "] \""...)
	if r.raw != "" {
		b = append(b, r.raw...)
	} else {
		b = append(b, r.method...)
		b = append(b, ' ')
		b = append(b, r.target...)
		b = append(b, ' ')
		b = append(b, r.proto...)
	}
	b = append(b, "\" "...)
	b = strconv.AppendInt(b, int64(r.status), 10)
	b = append(b, ' ')
	if r.bytes < 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, int64(r.bytes), 10)
	}
	b = append(b, " \""...)
	if r.ref != "" {
		b = append(b, r.ref...)
	} else {
		b = append(b, '-')
	}
	b = append(b, "\" \""...)
	if r.ua != "" {
		b = append(b, r.ua...)
	} else {
		b = append(b, '-')
	}
	b = append(b, "\"\n"...)
	g.buf = b
	if len(g.buf) >= 1<<16 {
		g.w.Write(g.buf) //nolint:errcheck // the error resurfaces at Flush
		g.buf = g.buf[:0]
	}
}

// stampOf formats "21/Nov/2026:10:11:48 +0000" in the log's zone, cached
// per second.
func (g *gen) stampOf(t int64) []byte {
	s := t / int64(time.Second)
	if s == g.stampS && g.stamp != nil {
		return g.stamp
	}
	g.stampS = s
	tm := time.Unix(s, 0).In(g.cfg.Start.Location())
	_, off := tm.Zone()
	b := g.stamp[:0]
	b = appendInt2(b, tm.Day())
	b = append(b, '/')
	b = append(b, monthNames[tm.Month()-1]...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(tm.Year()), 10)
	b = append(b, ':')
	b = appendInt2(b, tm.Hour())
	b = append(b, ':')
	b = appendInt2(b, tm.Minute())
	b = append(b, ':')
	b = appendInt2(b, tm.Second())
	b = append(b, ' ')
	if off < 0 {
		b = append(b, '-')
		off = -off
	} else {
		b = append(b, '+')
	}
	b = appendInt2(b, off/3600)
	b = appendInt2(b, off%3600/60)
	g.stamp = b
	return b
}

func appendInt2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// benignBase offsets benign sources in rec.src (attacks count from 0,
// -1 is no source).
const benignBase = 1000

// addAttack registers a truth entry and returns its rec.src.
func (g *gen) addAttack(a Attack) int16 {
	g.truth.Attacks = append(g.truth.Attacks, a)
	return int16(len(g.truth.Attacks) - 1)
}

// addBenign registers a benign source and returns its rec.src.
func (g *gen) addBenign(b Benign) int16 {
	g.truth.Benign = append(g.truth.Benign, b)
	return int16(benignBase + len(g.truth.Benign) - 1)
}

// jitter returns t plus up to d of random delay.
func (g *gen) jitter(t int64, d time.Duration) int64 {
	if d <= 0 {
		return t
	}
	return t + g.rng.Int64N(int64(d))
}

func (g *gen) pick(l []string) string { return l[g.rng.IntN(len(l))] }

// frac returns the time at fraction f of the log.
func (g *gen) frac(f float64) int64 {
	return g.start + int64(f*float64(g.end-g.start))
}
