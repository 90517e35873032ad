// Package dnsgen generates a small network's DNS traffic with attacks
// embedded, as a pcap capture (Ethernet, IPv4, UDP; queries, responses and
// the clients' follow-up TCP connections) or as a Zeek dns.log. It is
// deterministic for a seed. Used by `winnow demo`, the end-to-end tests
// and scripts/bench-dns.sh.
//
// The network: clients 10.0.1.1… ask the resolver 10.0.0.53 for popular
// names (A and AAAA pairs, HTTPS, some MX/TXT/PTR, CDN names with random
// parts, a few NXDOMAIN typos) and connect to the answers. Embedded:
//
//   - a DNS tunnel: 10.0.0.66 sends base32 data in TXT queries under
//     Truth.TunnelDomain every second or two for 20 minutes, with TXT
//     answers carrying data back (dns.tunnel; its volume also departs
//     from the host's baseline: dns.client_volume);
//   - a DGA-infected host: 10.0.0.77 tries bursts of generated domains,
//     nearly all NXDOMAIN; one resolves and is then contacted (dns.dga);
//   - a beacon to a dead domain: 10.0.0.88 asks for a sinkholed name every
//     30 seconds and never gets an answer (dns.orphan).
package dnsgen

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Config describes the traffic.
type Config struct {
	Seed     int64
	Start    time.Time     // default 2026-03-02T08:00:00Z
	Duration time.Duration // default 2h
	Clients  int           // benign clients (default 30)
	// Rate is each benign client's mean queries per minute (default 4).
	Rate float64
	// Queries, if > 0, scales the benign rate so that the capture holds
	// about this many queries (benchmarks).
	Queries int
	// NoAttacks leaves the attacks out (benign baseline).
	NoAttacks bool
	// Upstream adds the resolver's own recursive queries to an upstream
	// server for every name not in its cache (a sensor that sees both
	// sides of the resolver): the resolver then re-asks what its clients
	// asked it.
	Upstream bool
	// Tunnels is the number of hosts running a DNS tunnel (default 1; the
	// second is 10.0.0.67 under a domain of its own).
	Tunnels int
}

// DefaultConfig is the demo's network.
func DefaultConfig() Config {
	return Config{Seed: 1, Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), Duration: 2 * time.Hour, Clients: 30, Rate: 4}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Start.IsZero() {
		c.Start = d.Start
	}
	if c.Duration <= 0 {
		c.Duration = d.Duration
	}
	if c.Clients <= 0 {
		c.Clients = d.Clients
	}
	if c.Rate <= 0 {
		c.Rate = d.Rate
	}
	if c.Tunnels <= 0 {
		c.Tunnels = 1
	}
	if c.Queries > 0 {
		// A benign step asks 1.45 names on average (A/AAAA pairs).
		c.Rate = float64(c.Queries) / 1.45 / float64(c.Clients) / c.Duration.Minutes()
	}
	return c
}

// Attack is one embedded attack with what should find it.
type Attack struct {
	Name    string
	Client  string   // the client address
	Domains []string // the domains involved
	Rules   []string // detectors expected to report it
}

// Truth is what was generated.
type Truth struct {
	Packets      int
	Queries      int
	Resolver     string
	Upstream     string // the resolver's upstream server ("" without Config.Upstream)
	TunnelDomain string
	TunnelClient string
	// Tunnels lists every tunnel (the first is TunnelDomain/TunnelClient).
	Tunnels      []Attack
	DGAClient    string
	DGAResolved  string // the generated domain that resolves (C2)
	OrphanClient string
	OrphanDomain string
	Attacks      []Attack
}

// Addresses of the generated network.
var (
	resolver   = netip.MustParseAddr("10.0.0.53")
	upstream   = netip.MustParseAddr("9.9.9.9")
	tunnelHost = netip.MustParseAddr("10.0.0.66")
	dgaHost    = netip.MustParseAddr("10.0.0.77")
	orphanHost = netip.MustParseAddr("10.0.0.88")
)

// exchange is one query, its response (unless lost) and the client's
// follow-up connection (when it makes one).
type exchange struct {
	at       time.Time
	client   netip.Addr
	server   netip.Addr // the server asked (invalid: the resolver)
	port     uint16
	id       uint16
	name     string
	qtype    uint16
	rcode    int
	answers  []dns.RR
	noAnswer bool          // the response never comes
	rtt      time.Duration // response delay
	connect  netip.Addr    // contacted after the answer (invalid: none)
}

// source produces exchanges in time order.
type source interface {
	next() (exchange, bool) // the next exchange, false when done
}

// item is a source with its pending exchange, in the merge heap.
type item struct {
	ex  exchange
	src source
	seq int // tie-break: sources in creation order
}

type mergeHeap []*item

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if !h[i].ex.at.Equal(h[j].ex.at) {
		return h[i].ex.at.Before(h[j].ex.at)
	}
	return h[i].seq < h[j].seq
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*item)) }
func (h *mergeHeap) Pop() any     { old := *h; it := old[len(old)-1]; *h = old[:len(old)-1]; return it }
func (h *mergeHeap) add(s source, seq int) {
	if ex, ok := s.next(); ok {
		heap.Push(h, &item{ex: ex, src: s, seq: seq})
	}
}

// generate calls fn for every exchange in time order.
func generate(cfg Config, fn func(*exchange) error) (Truth, error) {
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x646e73))
	end := cfg.Start.Add(cfg.Duration)
	truth := Truth{Resolver: resolver.String()}
	h := &mergeHeap{}
	seq := 0
	for i := 0; i < cfg.Clients; i++ {
		// Benign clients live in 10.0.1.0/24 and up; 10.0.0.0/24 holds
		// the resolver and the attack hosts.
		c := netip.AddrFrom4([4]byte{10, 0, byte(1 + i/250), byte(1 + i%250)})
		h.add(newBenign(rng.Uint64(), c, cfg.Start, end, cfg.Rate), seq)
		seq++
	}
	if !cfg.NoAttacks {
		// The attack hosts also browse normally, so they have a baseline.
		for _, c := range []netip.Addr{tunnelHost, dgaHost, orphanHost} {
			h.add(newBenign(rng.Uint64(), c, cfg.Start, end, 4), seq)
			seq++
		}
		for i := 0; i < cfg.Tunnels; i++ {
			host := netip.AddrFrom4([4]byte{10, 0, 0, byte(66 + i)})
			if i > 0 {
				h.add(newBenign(rng.Uint64(), host, cfg.Start, end, 4), seq)
				seq++
			}
			tun := newTunnel(rng.Uint64(), host, cfg.Start.Add(cfg.Duration*6/10+time.Duration(i)*7*time.Minute), 20*time.Minute)
			if i == 0 {
				truth.TunnelDomain, truth.TunnelClient = tun.domain, host.String()
			}
			truth.Tunnels = append(truth.Tunnels, Attack{Name: "dns tunnel", Client: host.String(), Domains: []string{tun.domain}, Rules: []string{"dns.tunnel"}})
			h.add(tun, seq)
			seq++
		}
		dga := newDGA(rng.Uint64(), cfg.Start.Add(cfg.Duration/4), end)
		truth.DGAClient, truth.DGAResolved = dgaHost.String(), dga.c2
		h.add(dga, seq)
		seq++
		orph := newOrphan(cfg.Start.Add(cfg.Duration/3), end)
		truth.OrphanClient, truth.OrphanDomain = orphanHost.String(), orph.domain
		h.add(orph, seq)
		truth.Attacks = append(truth.Tunnels,
			Attack{Name: "dga malware", Client: truth.DGAClient, Domains: []string{truth.DGAResolved}, Rules: []string{"dns.dga"}},
			Attack{Name: "dead beacon", Client: truth.OrphanClient, Domains: []string{truth.OrphanDomain}, Rules: []string{"dns.orphan"}},
		)
	}
	var up *recursion
	if cfg.Upstream {
		up = &recursion{r: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x7570)), cache: map[string]time.Time{}}
		truth.Upstream = upstream.String()
	}
	emit := func(ex *exchange) error {
		truth.Queries++
		return fn(ex)
	}
	for h.Len() > 0 {
		it := (*h)[0]
		ex := it.ex
		if nx, ok := it.src.next(); ok {
			it.ex = nx
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
		if up != nil {
			if err := up.before(ex.at, emit); err != nil {
				return truth, err
			}
			up.ask(&ex)
		}
		if err := emit(&ex); err != nil {
			return truth, err
		}
	}
	if up != nil {
		if err := up.before(end.Add(time.Hour), emit); err != nil {
			return truth, err
		}
	}
	return truth, nil
}

// recursion is the resolver's side: for a name not in its cache it asks
// the upstream server right after the client asked it, and caches the
// answer for its TTL (negative answers for a minute).
type recursion struct {
	r       *rand.Rand
	cache   map[string]time.Time // name/type → expiry
	pending []exchange           // upstream queries not yet emitted, in time order
	n       int
}

func (u *recursion) ask(ex *exchange) {
	key := fmt.Sprintf("%s/%d", strings.ToLower(ex.name), ex.qtype)
	if exp, ok := u.cache[key]; ok && ex.at.Before(exp) {
		return
	}
	ttl := time.Minute
	if len(ex.answers) > 0 {
		ttl = time.Duration(ex.answers[0].Header().Ttl) * time.Second
	}
	u.cache[key] = ex.at.Add(ttl)
	if len(u.cache) > 1<<16 {
		for k, exp := range u.cache {
			if !ex.at.Before(exp) {
				delete(u.cache, k)
			}
		}
	}
	u.n++
	rtt := ex.rtt * 2 / 3
	q := exchange{at: ex.at.Add(time.Duration(200+u.r.IntN(600)) * time.Microsecond), client: resolver, server: upstream,
		port: uint16(1024 + u.r.IntN(60000)), id: uint16(u.r.Uint32()), name: ex.name, qtype: ex.qtype, rcode: ex.rcode,
		answers: ex.answers, noAnswer: ex.noAnswer, rtt: max(rtt, time.Millisecond)}
	i := len(u.pending)
	for i > 0 && u.pending[i-1].at.After(q.at) {
		i--
	}
	u.pending = append(u.pending, exchange{})
	copy(u.pending[i+1:], u.pending[i:])
	u.pending[i] = q
}

// before emits the pending upstream queries asked before t.
func (u *recursion) before(t time.Time, emit func(*exchange) error) error {
	for len(u.pending) > 0 && u.pending[0].at.Before(t) {
		q := u.pending[0]
		u.pending = u.pending[1:]
		if err := emit(&q); err != nil {
			return err
		}
	}
	return nil
}

// Benign clients.

type domainInfo struct {
	name  string
	hosts []string // subdomains asked for ("" = the domain itself)
	cdn   func(r *rand.Rand) string
}

var popular = []domainInfo{
	{name: "google.com", hosts: []string{"www", "mail", "accounts", "apis", "fonts", "play", "clients4"}},
	{name: "gstatic.com", hosts: []string{"www", "fonts", "ssl", "connectivitycheck"}},
	{name: "googlevideo.com", cdn: func(r *rand.Rand) string {
		return fmt.Sprintf("r%d---sn-%s", 1+r.IntN(9), randStr(r, "abcdefghijklmnopqrstuvwxyz0123456789", 8))
	}},
	{name: "youtube.com", hosts: []string{"www", "m", "i"}},
	{name: "facebook.com", hosts: []string{"www", "graph", "static", "edge-chat"}},
	{name: "microsoft.com", hosts: []string{"www", "login", "update", "go"}},
	{name: "windowsupdate.com", hosts: []string{"ctldl", "download"}},
	{name: "office.com", hosts: []string{"www", "outlook", "login"}},
	{name: "apple.com", hosts: []string{"www", "gs", "init", "mesu"}},
	{name: "icloud.com", hosts: []string{"www", "p32-contacts", "gateway"}},
	{name: "amazon.com", hosts: []string{"www", "images", "fls-na"}},
	{name: "amazonaws.com", hosts: []string{"s3", "sqs.us-east-1", "dynamodb.eu-west-1"}},
	{name: "cloudfront.net", cdn: func(r *rand.Rand) string { return "d" + randStr(r, "abcdefghijklmnopqrstuvwxyz0123456789", 13) }},
	{name: "akamaiedge.net", cdn: func(r *rand.Rand) string { return fmt.Sprintf("e%d.dscb", 1000+r.IntN(9000)) }},
	{name: "github.com", hosts: []string{"", "api", "codeload", "avatars"}},
	{name: "githubusercontent.com", hosts: []string{"raw", "objects", "avatars"}},
	{name: "wikipedia.org", hosts: []string{"en", "de", "fr", "upload"}},
	{name: "slack.com", hosts: []string{"app", "edgeapi", "files"}},
	{name: "zoom.us", hosts: []string{"", "us04web", "log"}},
	{name: "dropbox.com", hosts: []string{"www", "client", "d"}},
	{name: "bbc.co.uk", hosts: []string{"www", "static", "ichef"}},
	{name: "nytimes.com", hosts: []string{"www", "static01"}},
	{name: "stackoverflow.com", hosts: []string{"", "cdn"}},
	{name: "reddit.com", hosts: []string{"www", "oauth", "gateway"}},
	{name: "spotify.com", hosts: []string{"open", "apresolve", "spclient.wg"}},
	{name: "netflix.com", hosts: []string{"www", "api-global", "ichnaea"}},
	{name: "linkedin.com", hosts: []string{"www", "static"}},
	{name: "debian.org", hosts: []string{"deb", "security", "www"}},
	{name: "ubuntu.com", hosts: []string{"archive", "security", "api.snapcraft"}},
	{name: "doubleclick.net", hosts: []string{"ad", "securepubads.g", "stats.g"}},
	{name: "example-corp.com", hosts: []string{"www", "mail", "vpn", "intranet", "jira", "wiki", "git"}},
}

var typos = []string{"gooogle.com", "wikipeda.org", "githb.com", "exmaple-corp.com", "facebok.com"}

type benign struct {
	r          *rand.Rand
	client     netip.Addr
	at, end    time.Time
	mean       time.Duration
	pending    []exchange // queued (the AAAA of an A/AAAA pair)
	favourites []int
}

func newBenign(seed uint64, c netip.Addr, start, end time.Time, perMinute float64) *benign {
	r := rand.New(rand.NewPCG(seed, 1))
	b := &benign{r: r, client: c, at: start, end: end, mean: time.Duration(float64(time.Minute) / perMinute)}
	for i := 0; i < 8; i++ {
		b.favourites = append(b.favourites, r.IntN(len(popular)))
	}
	b.at = b.at.Add(time.Duration(r.Int64N(int64(b.mean))))
	return b
}

func (b *benign) next() (exchange, bool) {
	if len(b.pending) > 0 {
		ex := b.pending[0]
		b.pending = b.pending[1:]
		return ex, true
	}
	// Exponential gaps, with the working day's rhythm: busier in the
	// first and last quarters of the capture.
	b.at = b.at.Add(time.Duration(b.r.ExpFloat64() * float64(b.mean)))
	if !b.at.Before(b.end) {
		return exchange{}, false
	}
	r := b.r
	var d domainInfo
	if r.IntN(4) > 0 {
		d = popular[b.favourites[r.IntN(len(b.favourites))]]
	} else {
		d = popular[r.IntN(len(popular))]
	}
	name := d.name
	switch {
	case d.cdn != nil:
		name = d.cdn(r) + "." + d.name
	case len(d.hosts) > 0:
		if h := d.hosts[r.IntN(len(d.hosts))]; h != "" {
			name = h + "." + d.name
		}
	}
	ex := b.make(name, dns.TypeA)
	switch p := r.IntN(100); {
	case p < 2:
		ex = b.make(typos[r.IntN(len(typos))], dns.TypeA)
		ex.rcode, ex.answers, ex.connect = dns.RcodeNameError, nil, netip.Addr{}
	case p < 4:
		ex = b.make("example-corp.com", dns.TypeMX)
	case p < 5:
		ex = b.make("example-corp.com", dns.TypeTXT)
	case p < 7:
		ex = b.make(fmt.Sprintf("%d.0.0.10.in-addr.arpa", 10+r.IntN(30)), dns.TypePTR)
	case p < 50:
		// An A/AAAA pair, as stub resolvers ask.
		six := b.make(name, dns.TypeAAAA)
		six.at = ex.at.Add(time.Duration(50+r.IntN(500)) * time.Microsecond)
		six.connect = netip.Addr{}
		b.pending = append(b.pending, six)
	case p < 60:
		ex = b.make(name, dns.TypeHTTPS)
	}
	return ex, true
}

func (b *benign) make(name string, qt uint16) exchange {
	r := b.r
	ex := exchange{at: b.at, client: b.client, port: uint16(32768 + r.IntN(28000)), id: uint16(r.Uint32()),
		name: name, qtype: qt, rcode: dns.RcodeSuccess, rtt: time.Duration(1+r.IntN(40)) * time.Millisecond}
	ip := addrFor(name)
	fq := dns.Fqdn(name)
	switch qt {
	case dns.TypeA:
		ex.answers = []dns.RR{&dns.A{Hdr: hdr(fq, dns.TypeA, 300), A: ip.AsSlice()}}
		if r.IntN(10) < 8 {
			ex.connect = ip
		}
	case dns.TypeAAAA:
		v6 := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: ip.As4()[3]})
		ex.answers = []dns.RR{&dns.AAAA{Hdr: hdr(fq, dns.TypeAAAA, 300), AAAA: v6.AsSlice()}}
	case dns.TypeMX:
		ex.answers = []dns.RR{&dns.MX{Hdr: hdr(fq, dns.TypeMX, 3600), Preference: 10, Mx: "mail." + fq}}
	case dns.TypeTXT:
		ex.answers = []dns.RR{&dns.TXT{Hdr: hdr(fq, dns.TypeTXT, 3600), Txt: []string{"v=spf1 include:_spf.example-corp.com ~all"}}}
	case dns.TypePTR:
		ex.answers = []dns.RR{&dns.PTR{Hdr: hdr(fq, dns.TypePTR, 3600), Ptr: "host.example-corp.com."}}
	case dns.TypeHTTPS:
		ex.answers = nil // NOERROR, no data: most sites publish no HTTPS record
	}
	return ex
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

// addrFor is a stable public-looking address per name (TEST-NET ranges
// and 198.18/15 are not used: answers must look routable but be unowned;
// 203.0.113/24 and 198.51.100/24 are documentation ranges).
func addrFor(name string) netip.Addr {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	if h&1 == 0 {
		return netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + h>>8%250)})
	}
	return netip.AddrFrom4([4]byte{198, 51, 100, byte(1 + h>>8%250)})
}

func randStr(r *rand.Rand, alpha string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[r.IntN(len(alpha))]
	}
	return string(b)
}

// The tunnel: TXT queries with base32 data, polls in between.

type tunnel struct {
	r       *rand.Rand
	host    netip.Addr
	at, end time.Time
	domain  string
	n       int
}

func newTunnel(seed uint64, host netip.Addr, start time.Time, d time.Duration) *tunnel {
	r := rand.New(rand.NewPCG(seed, 2))
	words := []string{"cdn", "sync", "update", "telemetry", "cloud", "metrics"}
	dom := words[r.IntN(len(words))] + "-" + words[r.IntN(len(words))] + randStr(r, "0123456789", 2) + ".net"
	return &tunnel{r: r, host: host, at: start, end: start.Add(d), domain: dom}
}

func (t *tunnel) next() (exchange, bool) {
	r := t.r
	t.at = t.at.Add(time.Duration(500+r.IntN(1500)) * time.Millisecond)
	if !t.at.Before(t.end) {
		return exchange{}, false
	}
	t.n++
	const b32 = "abcdefghijklmnopqrstuvwxyz234567"
	var name string
	if t.n%4 == 0 { // a poll
		name = fmt.Sprintf("p%04x.t.%s", t.n, t.domain)
	} else {
		labels := 1 + r.IntN(3)
		parts := make([]string, labels)
		for i := range parts {
			parts[i] = randStr(r, b32, 30+r.IntN(34))
		}
		name = strings.Join(parts, ".") + fmt.Sprintf(".%04x.t.", t.n) + t.domain
	}
	fq := dns.Fqdn(name)
	payload := randStr(r, b32+"ABCDEFGHIJKLMNOPQRSTUVWXYZ01+/", 40+r.IntN(180))
	return exchange{at: t.at, client: t.host, port: uint16(40000 + t.n%2000), id: uint16(r.Uint32()), name: name,
		qtype: dns.TypeTXT, rcode: dns.RcodeSuccess, rtt: time.Duration(20+r.IntN(60)) * time.Millisecond,
		answers: []dns.RR{&dns.TXT{Hdr: hdr(fq, dns.TypeTXT, 0), Txt: []string{payload}}}}, true
}

// The DGA-infected host: a burst of generated names every few minutes.

type dgaSrc struct {
	r       *rand.Rand
	at, end time.Time
	c2      string
	burst   int
	tlds    []string
	c2Index int
	n       int
}

func newDGA(seed uint64, start, end time.Time) *dgaSrc {
	r := rand.New(rand.NewPCG(seed, 3))
	d := &dgaSrc{r: r, at: start, end: end, tlds: []string{"com", "net", "info", "biz", "org"}}
	d.c2 = d.gen() + ".info"
	d.c2Index = 20 + r.IntN(30)
	return d
}

func (d *dgaSrc) gen() string { return randStr(d.r, "abcdefghijklmnopqrstuvwxyz", 12+d.r.IntN(9)) }

func (d *dgaSrc) next() (exchange, bool) {
	r := d.r
	if d.burst == 0 {
		d.at = d.at.Add(time.Duration(4+r.IntN(4)) * time.Minute)
		d.burst = 40
	} else {
		d.at = d.at.Add(time.Duration(100+r.IntN(400)) * time.Millisecond)
	}
	d.burst--
	if !d.at.Before(d.end) {
		return exchange{}, false
	}
	d.n++
	ex := exchange{at: d.at, client: dgaHost, port: uint16(50000 + d.n%10000), id: uint16(r.Uint32()), qtype: dns.TypeA,
		rtt: time.Duration(30+r.IntN(200)) * time.Millisecond}
	if d.n%40 == d.c2Index%40 {
		ex.name, ex.rcode = d.c2, dns.RcodeSuccess
		ip := netip.AddrFrom4([4]byte{198, 51, 100, 66})
		ex.answers = []dns.RR{&dns.A{Hdr: hdr(dns.Fqdn(d.c2), dns.TypeA, 60), A: ip.AsSlice()}}
		ex.connect = ip
		return ex, true
	}
	ex.name = d.gen() + "." + d.tlds[r.IntN(len(d.tlds))]
	ex.rcode = dns.RcodeNameError
	return ex, true
}

// The dead beacon: a sinkholed name asked every 30 s, never answered.

type orphanSrc struct {
	at, end time.Time
	domain  string
	n       int
}

func newOrphan(start, end time.Time) *orphanSrc {
	return &orphanSrc{at: start, end: end, domain: "update-check.dead-beacon.org"}
}

func (o *orphanSrc) next() (exchange, bool) {
	o.at = o.at.Add(30 * time.Second)
	if !o.at.Before(o.end) {
		return exchange{}, false
	}
	o.n++
	return exchange{at: o.at, client: orphanHost, port: uint16(55000 + o.n%1000), id: uint16(o.n * 7919), name: o.domain,
		qtype: dns.TypeA, noAnswer: true}, true
}
