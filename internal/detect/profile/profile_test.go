package profile_test

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/app"
	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/detect/profile"
	"winnow/internal/event"
	"winnow/internal/testdata"
)

func TestClient(t *testing.T) {
	f := func(ua, want string) {
		t.Helper()
		if got := profile.Client(ua); got != want {
			t.Errorf("Client(%q) = %q, want %q", ua, got, want)
		}
	}
	f("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox/Linux")
	f("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)", "IE/Windows")
	f("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36", "Chrome/Windows")
	f("Mozilla/5.0 (iPhone; CPU iPhone OS 7_0_4 like Mac OS X) AppleWebKit/537.51.1 (KHTML, like Gecko) CriOS/32.0 Mobile Safari/9537.53", "Chrome/iOS")
	f("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15", "Safari/macOS")
	f("curl/8.5.0", "curl")
	f("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot")
	f("-", "(none)")
	f("Feedbin - 1 subscribers", "Feedbin")
}

// TestSiteLog: the real access log of a public site (3 days). A reader
// (75.97.9.59) used Chrome on Windows, and Chrome on an iPhone, in the
// mornings and around 01:00; requests from Internet Explorer at 03:10 on
// the last day are injected: they are the one profile.web_client finding,
// medium (new software at an unusual hour). Without the injection there
// is none.
func TestSiteLog(t *testing.T) {
	if detecttest.Race {
		t.Skip("a whole real log: run without -race (make test runs both)")
	}
	log, err := os.ReadFile(testdata.File(t, "elastic-examples/apache_logs/apache_access.log"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(extra string) []string {
		p := filepath.Join(t.TempDir(), "access.log")
		if err := os.WriteFile(p, append(append([]byte{}, log...), extra...), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errb bytes.Buffer
		o := app.AnalyzeOptions{Args: []string{p}, TZ: "UTC", Only: []string{"profile.web_client"}, MinSeverity: "info", Output: "json",
			Stdout: &out, Stderr: &errb, Quiet: true}
		if code, err := app.Analyze(context.Background(), o); err != nil || code != 0 {
			t.Fatalf("analyze: %d %v %s", code, err, errb.String())
		}
		var found []string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, `"record":"finding"`) {
				found = append(found, l)
			}
		}
		return found
	}
	if f := run(""); len(f) != 0 {
		t.Errorf("real log alone: %d findings\n%s", len(f), strings.Join(f, "\n"))
	}
	ie := `75.97.9.59 - - [20/May/2015:03:10:%02d +0000] "GET /admin/ HTTP/1.1" 200 512 "-" "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)"` + "\n"
	var inj strings.Builder
	for s := range 5 {
		inj.WriteString(strings.Replace(ie, "%02d", []string{"00", "11", "22", "33", "44"}[s], 1))
	}
	f := run(inj.String())
	if len(f) != 1 || !strings.Contains(f[0], "IE/Windows") || !strings.Contains(f[0], `"severity_name":"medium"`) || !strings.Contains(f[0], "75.97.9.59") {
		t.Errorf("injected IE at 03:10: %d findings\n%s", len(f), strings.Join(f, "\n"))
	}
}

// A host's DNS queries during office hours for two weeks, then at 03:00.
func TestDNSHours(t *testing.T) {
	s := profile.Hours("profile.dns_hours", event.KindDNS)
	p, _ := detect.NewParams(&s, nil)
	d, err := s.New(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []event.Alert
	emit := func(a event.Alert) { got = append(got, a) }
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	q := func(at time.Time, ip string) {
		ev := event.Event{Time: at, Kind: event.KindDNS, SrcIP: netip.MustParseAddr(ip), DNS: &event.DNS{Name: "example.com"}, Raw: []byte("q")}
		d.Observe(&ev, emit)
		d.Advance(at, emit)
	}
	for day := range 14 {
		for h := 8; h < 18; h++ {
			for m := 0; m < 60; m += 6 {
				q(t0.Add(time.Duration(day*24+h)*time.Hour+time.Duration(m)*time.Minute), "10.0.0.5")
			}
		}
	}
	if len(got) != 0 {
		t.Fatalf("office hours: %d findings", len(got))
	}
	night := t0.Add(14*24*time.Hour + 3*time.Hour)
	for m := range 20 {
		q(night.Add(time.Duration(m)*time.Minute), "10.0.0.5")
	}
	q(night.Add(5*time.Hour), "10.0.0.5") // 08:00: back to normal
	d.Flush(emit)
	if len(got) != 1 || got[0].Evidence["events"] != 20 || got[0].Evidence["usual_hours"] != "08–17h" {
		t.Fatalf("night activity: %+v", got)
	}
}

func BenchmarkWebClient(b *testing.B) {
	s := profile.WebClient()
	p, _ := detect.NewParams(&s, nil)
	d, _ := s.New(p)
	uas := []string{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "curl/8.5.0",
		"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.107 Safari/537.36"}
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	evs := make([]event.Event, 1000)
	for i := range evs {
		evs[i] = event.Event{Time: t0.Add(time.Duration(i) * time.Minute), Kind: event.KindHTTP,
			SrcIP: netip.AddrFrom4([4]byte{10, 0, byte(i % 50), 1}), HTTP: &event.HTTP{UserAgent: uas[i%3]}}
	}
	emit := func(event.Alert) {}
	b.SetBytes(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Observe(&evs[i%len(evs)], emit)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
