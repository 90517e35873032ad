package linkage_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"winnow/internal/app"
	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/detect/linkage"
	"winnow/internal/event"
	"winnow/internal/testdata"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func link(name string) linkage.Link {
	for _, l := range linkage.Links() {
		if l.Name == name {
			return l
		}
	}
	panic(name)
}

func login(day int, sec int, user, ip string) event.Event {
	return event.Event{Time: t0.Add(time.Duration(day)*24*time.Hour + time.Duration(sec)*time.Second), Kind: event.KindAuth,
		Action: event.ActLoginSuccess, Outcome: event.OutcomeSuccess, User: user, SrcIP: netip.MustParseAddr(ip), Host: "h",
		Raw: []byte("Accepted password for " + user + " from " + ip)}
}

func run(t testing.TB, l linkage.Link, evs []event.Event, set map[string]string) []event.Alert {
	t.Helper()
	s := linkage.Spec(l)
	p, err := detect.NewParams(&s, set)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.New(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Alert
	emit := func(a event.Alert) { out = append(out, a) }
	for i := range evs {
		d.Observe(&evs[i], emit)
		d.Advance(evs[i].Time, emit)
	}
	d.Flush(emit)
	return out
}

func ip(i int) string {
	return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}).String()
}

// An account that always came from 2 addresses is used from 40 in one day.
func TestJump(t *testing.T) {
	var evs []event.Event
	for day := range 14 {
		evs = append(evs, login(day, 100, "alice", "192.0.2.1"), login(day, 200, "alice", "192.0.2.2"))
	}
	for i := range 40 {
		evs = append(evs, login(14, 300+i, "alice", ip(i)))
	}
	for day := 15; day < 25; day++ {
		evs = append(evs, login(day, 100, "alice", "192.0.2.1"))
	}
	got := run(t, link("linkage.addresses_per_account"), evs, nil)
	if len(got) != 1 {
		for _, a := range got {
			t.Log(a.Description)
		}
		t.Fatalf("%d findings, want 1 (the one-day jump; the weekly window does not repeat it)", len(got))
	}
	a := got[0]
	if a.Entity.Value != "alice" || a.Evidence["count"] != 40.0 || a.Evidence["count_7d"] != float32(42) || a.Evidence["window_days"] != 1 || len(a.Related) != 20 ||
		math.Abs(a.Evidence["baseline"].(float64)-2) > 0.01 || a.User != "alice" {
		t.Errorf("finding: %s %v", a.Description, a.Evidence)
	}
	if !a.Start.Equal(t0.Add(14 * 24 * time.Hour)) {
		t.Errorf("start %v", a.Start)
	}
	// A steady account: nothing.
	var steady []event.Event
	for day := range 30 {
		steady = append(steady, login(day, 100, "bob", ip(day%3)))
	}
	if got := run(t, link("linkage.addresses_per_account"), steady, nil); len(got) != 0 {
		t.Errorf("steady account: %d findings", len(got))
	}
	// A new account has no baseline yet.
	var fresh []event.Event
	for i := range 40 {
		fresh = append(fresh, login(0, i, "carol", ip(i)))
	}
	if got := run(t, link("linkage.addresses_per_account"), fresh, nil); len(got) != 0 {
		t.Errorf("new account: %d findings", len(got))
	}
}

// Past 64 values an entity is counted with per-day sketches.
func TestSketched(t *testing.T) {
	var evs []event.Event
	for day := range 10 {
		evs = append(evs, login(day, 1, "svc", "192.0.2.9"))
	}
	for i := range 3000 {
		evs = append(evs, login(10, i, "svc", ip(i)))
	}
	got := run(t, link("linkage.addresses_per_account"), evs, nil)
	if len(got) != 1 {
		t.Fatalf("%d findings", len(got))
	}
	c := got[0].Evidence["count"].(float64)
	if math.Abs(c-3001)/3001 > 0.3 || got[0].Evidence["sketched"] != true {
		t.Errorf("sketched count %v, want ≈ 3001 (±30 %%: 128 registers, 9 %% standard error)", c)
	}
	// With no sketch left the count saturates at the exact set's size.
	got = run(t, link("linkage.addresses_per_account"), evs, map[string]string{"max_sketched": "0"})
	if len(got) != 1 || got[0].Evidence["count"] != 63.0 || got[0].Evidence["at_least"] != true {
		t.Errorf("saturated: %v", got)
	}
}

func TestBounded(t *testing.T) {
	var evs []event.Event
	for i := range 5000 {
		evs = append(evs, login(0, i, fmt.Sprintf("u%d", i), "192.0.2.1"))
	}
	s := linkage.Spec(link("linkage.addresses_per_account"))
	p, _ := detect.NewParams(&s, map[string]string{"max_entities": "100"})
	d, _ := s.New(p)
	for i := range evs {
		d.Observe(&evs[i], func(event.Alert) {})
	}
	if st := d.Stats(); st.Entities != 100 || st.Shed != 4900 {
		t.Errorf("stats %+v", st)
	}
}

// TestSuspiciousLogins: Elastic's "suspicious login activity" auth.log —
// three weeks of one host, on whose third day ten accounts (elastic_user_0
// … 9) start logging in from the address that had only used one or two.
// That jump is the only linkage finding.
func TestSuspiciousLogins(t *testing.T) {
	if detecttest.Race {
		t.Skip("a whole real log: run without -race (make test runs both)")
	}
	var out, errb bytes.Buffer
	o := app.AnalyzeOptions{Args: []string{testdata.File(t, "elastic-examples/suspicious_login_activity/auth.log")}, Year: 2017, TZ: "UTC",
		Only: []string{"linkage."}, MinSeverity: "info", Output: "json", Stdout: &out, Stderr: &errb, Quiet: true}
	if code, err := app.Analyze(context.Background(), o); err != nil || code != 0 {
		t.Fatalf("analyze: %d %v %s", code, err, errb.String())
	}
	var found []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, `"record":"finding"`) {
			found = append(found, l)
		}
	}
	if len(found) != 1 || !strings.Contains(found[0], "linkage.accounts_per_address") || !strings.Contains(found[0], "85.245.107.41") ||
		!strings.Contains(found[0], "2017-03-29") || !strings.Contains(found[0], "elastic_user_") {
		t.Errorf("want one accounts_per_address finding for 85.245.107.41 on 2017-03-29, got %d:\n%s", len(found), strings.Join(found, "\n"))
	}
}

func BenchmarkObserve(b *testing.B) {
	s := linkage.Spec(link("linkage.accounts_per_address"))
	p, _ := detect.NewParams(&s, nil)
	d, _ := s.New(p)
	evs := make([]event.Event, 4096)
	for i := range evs {
		evs[i] = login(i/400, i%400, fmt.Sprintf("u%d", i%97), ip(i%211))
	}
	emit := func(event.Alert) {}
	b.SetBytes(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := evs[i%len(evs)]
		ev.Time = ev.Time.Add(time.Duration(i/len(evs)) * 11 * 24 * time.Hour)
		d.Observe(&ev, emit)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
