package weblog

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
)

// The site's content.
var (
	categories = []string{"shirts", "jackets", "shoes", "bags", "hats", "knitwear", "trousers", "dresses", "accessories", "sale", "new-in", "kids"}
	adjectives = []string{"blue", "black", "linen", "wool", "oxford", "denim", "leather", "canvas", "merino", "organic", "vintage", "classic", "slim", "relaxed", "waxed", "corduroy"}
	nouns      = []string{"shirt", "jacket", "sneaker", "boot", "tote", "cap", "sweater", "chino", "dress", "scarf", "belt", "parka", "loafer", "backpack", "beanie", "cardigan"}
	blogPosts  = []string{"how-to-care-for-wool", "autumn-lookbook-2026", "sizing-guide", "our-factories", "sustainable-denim", "gift-guide", "behind-the-seams",
		"leather-care-101", "packing-light", "the-perfect-white-shirt", "layering-for-winter", "meet-the-makers"}
	staticPages = []string{"/about", "/contact", "/shipping", "/returns", "/faq", "/stores", "/careers", "/privacy", "/terms"}
	searches    = []string{"blue shirt", "wool sweater", "o'neill jacket", "rock & roll tee", "50% off", "what's new", "union jack scarf", "drop shoulder tee",
		"select fit chino", "black boots size 42", "gift card", "kids parka", "linen dress", "leather belt brown", "\"white sneakers\"", "merino beanie"}
	assets = []string{"/static/css/app.3f9a1c.css", "/static/js/app.8b2e4d.js", "/static/js/vendor.1c7f0a.js", "/static/fonts/inter-var.woff2",
		"/static/img/logo.svg", "/static/img/icons.svg", "/static/img/hero-autumn.webp", "/favicon.ico"}
)

// product slugs: adjective-noun-N
func (g *gen) product() string {
	a := adjectives[g.rng.IntN(len(adjectives))]
	n := nouns[g.rng.IntN(len(nouns))]
	return a + "-" + n + "-" + fmt.Sprint(1+g.rng.IntN(12))
}

// Current browser user agents (late 2026).
var browserUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
}

// Search engines' real crawler user agents.
const (
	uaGooglebot       = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaGooglebotMobile = "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaBingbot         = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
	uaAhrefs          = "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"
	uaSemrush         = "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)"
)

var refSearch = []string{"https://www.google.com/", "https://www.google.com/", "https://www.google.de/", "https://www.bing.com/", "https://duckduckgo.com/", "-", "-", "https://l.facebook.com/", "https://www.instagram.com/"}

// ipPool draws public-looking addresses deterministically.
func (g *gen) visitorIP() netip.Addr {
	if g.rng.IntN(10) == 0 { // IPv6 visitors
		var b [16]byte
		copy(b[:], []byte{0x2a, 0x01, 0x0e, 0x0a})
		for i := 4; i < 16; i++ {
			b[i] = byte(g.rng.IntN(256))
		}
		return netip.AddrFrom16(b)
	}
	firsts := []byte{24, 31, 37, 46, 62, 68, 71, 73, 76, 77, 78, 79, 81, 82, 83, 84, 86, 87, 88, 90, 92, 98, 99, 108, 109, 151, 173, 174, 176, 178, 188, 212, 213, 217}
	return netip.AddrFrom4([4]byte{firsts[g.rng.IntN(len(firsts))], byte(g.rng.IntN(256)), byte(g.rng.IntN(256)), byte(1 + g.rng.IntN(254))})
}

// diurnal is the relative visitor rate at a time of day (peaks at 12–14h
// and 19–21h, trough at 4h), mean ≈ 1.
func diurnal(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	v := 0.25 + 0.9*math.Exp(-sq(h-13)/8) + 1.1*math.Exp(-sq(h-20)/6) + 0.35*math.Exp(-sq(h-9)/4)
	return v / 0.92
}

func sq(x float64) float64 { return x * x }

// visitors hold the state of the visitor population.
type visitors struct {
	nat   []natPool // corporate NATs: many sessions, many browsers
	known []known   // returning visitors: same address, same browser
	src   int16
}

type known struct {
	ip netip.Addr
	ua string
}

type natPool struct {
	ip  netip.Addr
	uas []string
}

func newVisitors(g *gen) visitors {
	v := visitors{src: -1}
	for i := 0; i < 3; i++ {
		p := natPool{ip: netip.AddrFrom4([4]byte{194, 39, byte(100 + i), byte(10 + 7*i)})}
		for j := 0; j < 12; j++ {
			p.uas = append(p.uas, browserUAs[(i*5+j)%len(browserUAs)])
		}
		v.nat = append(v.nat, p)
	}
	return v
}

// session generates one visitor's session from t.
func (g *gen) session(t int64) {
	v := &g.visitor
	var ip netip.Addr
	ua := g.pick(browserUAs)
	switch r := g.rng.IntN(100); {
	case r < 6: // behind a corporate NAT
		p := v.nat[g.rng.IntN(len(v.nat))]
		ip, ua = p.ip, p.uas[g.rng.IntN(len(p.uas))]
	case r < 30 && len(v.known) > 0: // a returning visitor
		k := v.known[g.rng.IntN(len(v.known))]
		ip, ua = k.ip, k.ua
	default:
		ip = g.visitorIP()
		if len(v.known) < 20000 {
			v.known = append(v.known, known{ip, ua})
		} else {
			v.known[g.rng.IntN(len(v.known))] = known{ip, ua}
		}
	}
	returning := g.rng.IntN(3) == 0
	ref := g.pick(refSearch)
	pages := 1 + int(g.rng.ExpFloat64()*3.5)
	if pages > 25 {
		pages = 25
	}
	proto := "HTTP/2.0"
	if g.rng.IntN(5) == 0 {
		proto = "HTTP/1.1"
	}
	r := rec{ip: ip, ua: ua, proto: proto, src: v.src, method: "GET"}
	prev := ""
	for i := 0; i < pages; i++ {
		page := g.page(i == 0)
		r.t, r.target, r.ref, r.status, r.bytes = t, page, ref, 200, int32(18000+g.rng.IntN(60000))
		if strings.HasPrefix(page, "/search") {
			r.bytes = int32(9000 + g.rng.IntN(30000))
		}
		g.push(r)
		pageURL := "https://shop.example.com" + strings.SplitN(page, "?", 2)[0]
		// assets
		at := t + int64(80*time.Millisecond)
		if i == 0 {
			for _, a := range assets {
				st, by := int16(200), int32(3000+g.rng.IntN(90000))
				if returning {
					st, by = 304, 0
				}
				g.push(rec{t: g.jitter(at, 900*time.Millisecond), ip: ip, ua: ua, proto: proto, src: v.src, method: "GET", target: a, ref: pageURL, status: st, bytes: by})
			}
		}
		for k := 0; k < 2+g.rng.IntN(9); k++ { // product images
			img := "/images/products/" + g.product() + ".webp"
			st, by := int16(200), int32(12000+g.rng.IntN(120000))
			if g.rng.IntN(150) == 0 {
				st, by = 404, 196 // a discontinued product's picture
			}
			g.push(rec{t: g.jitter(at, 1500*time.Millisecond), ip: ip, ua: ua, proto: proto, src: v.src, method: "GET", target: img, ref: pageURL, status: st, bytes: by})
		}
		if g.rng.IntN(40) == 0 { // a dead link
			g.push(rec{t: t + int64(2*time.Second), ip: ip, ua: ua, proto: proto, src: v.src, method: "GET",
				target: g.pick([]string{"/blog/summer-sale-2025", "/products/retired-item-3", "/old-catalog.pdf", "/stores/berlin-mitte"}), ref: pageURL, status: 404, bytes: 5120})
		}
		if i == 1 && g.rng.IntN(18) == 0 { // log in
			g.login(t+int64(5*time.Second), ip, ua, proto, pageURL)
		}
		ref = pageURL
		prev = page
		t += int64(time.Duration(5+g.rng.IntN(80)) * time.Second)
	}
	_ = prev
}

// page picks a page to view; landing pages are more often products.
func (g *gen) page(landing bool) string {
	switch r := g.rng.IntN(100); {
	case r < 40:
		return "/products/" + g.product()
	case r < 58:
		p := "/category/" + g.pick(categories)
		if g.rng.IntN(4) == 0 {
			p += fmt.Sprintf("?page=%d&sort=%s", 2+g.rng.IntN(5), g.pick([]string{"price-asc", "price-desc", "newest"}))
		}
		return p
	case r < 66:
		return "/blog/" + g.pick(blogPosts)
	case r < 76:
		return "/search?q=" + queryEscape(g.pick(searches))
	case r < 84:
		if landing {
			return "/"
		}
		return g.pick(staticPages)
	case r < 92:
		return "/"
	default:
		return "/cart"
	}
}

// queryEscape encodes a search the way browsers do (space as '+').
func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// login is a person logging in (a few mistype their password once).
func (g *gen) login(t int64, ip netip.Addr, ua, proto, ref string) {
	r := rec{t: t, ip: ip, ua: ua, proto: proto, src: g.visitor.src, method: "GET", target: "/login", ref: ref, status: 200, bytes: 7400}
	g.push(r)
	r.method, r.ref = "POST", "https://shop.example.com/login"
	if g.rng.IntN(6) == 0 {
		r.t, r.status, r.bytes = t+int64(9*time.Second), 200, 7600 // wrong password: the form again
		g.push(r)
		t += int64(8 * time.Second)
	}
	r.t, r.status, r.bytes = t+int64(10*time.Second), 302, 0
	g.push(r)
	r.method, r.target, r.status, r.bytes, r.t = "GET", "/account", 200, 11200, t+int64(11*time.Second)
	g.push(r)
}
