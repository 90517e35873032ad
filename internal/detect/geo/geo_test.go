package geo_test

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/app"
	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/detect/geo"
	"winnow/internal/enrich/geoip"
	"winnow/internal/enrich/geoip/geoiptest"
	"winnow/internal/event"
	"winnow/internal/testdata"
)

// The networks of the DFRWS 2009 logins, with their real owners and
// places, and two far-away networks for travel.
var nets = []geoiptest.Network{
	{CIDR: "137.30.0.0/16", Country: "US", City: "New Orleans", Lat: 30.0273, Lon: -90.0673, RadiusKm: 20, ASN: 2386, Org: "University of New Orleans"},
	{CIDR: "128.220.0.0/16", Country: "US", City: "Baltimore", Lat: 39.3299, Lon: -76.6205, RadiusKm: 10, ASN: 5723, Org: "Johns Hopkins University"},
	{CIDR: "198.51.100.0/24", Country: "FR", City: "Paris", Lat: 48.8566, Lon: 2.3522, RadiusKm: 20, ASN: 3215, Org: "Orange"},
	{CIDR: "203.0.113.0/24", Country: "AU", City: "Sydney", Lat: -33.8688, Lon: 151.2093, RadiusKm: 1000, ASN: 1221, Org: "Telstra"},
	{CIDR: "192.0.2.0/24", Country: "FR", City: "Lyon", Lat: 45.764, Lon: 4.8357, RadiusKm: 5, ASN: 3215, Org: "Orange"},
}

func testDB(t testing.TB) (*geoip.DB, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.mmdb")
	if err := geoiptest.Write(p, nets); err != nil {
		t.Fatal(err)
	}
	db, err := geoip.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, p
}

var t0 = time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)

func login(h float64, user, ip string) event.Event {
	return event.Event{Time: t0.Add(time.Duration(h * float64(time.Hour))), Kind: event.KindAuth, Action: event.ActLoginSuccess,
		Outcome: event.OutcomeSuccess, User: user, SrcIP: netip.MustParseAddr(ip), Raw: []byte("Accepted password for " + user + " from " + ip)}
}

func run(t *testing.T, s detect.Spec, evs []event.Event) []event.Alert {
	t.Helper()
	p, err := detect.NewParams(&s, nil)
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

func TestImpossibleTravel(t *testing.T) {
	db, _ := testDB(t)
	f := func(name string, evs []event.Event, want int) {
		t.Helper()
		got := run(t, geo.ImpossibleTravel(db), evs)
		if len(got) != want {
			t.Errorf("%s: %d findings, want %d", name, len(got), want)
			for _, a := range got {
				t.Log(a.Description)
			}
		}
	}
	// Paris then New Orleans an hour later: 7,700 km in 1 h.
	f("Paris→New Orleans in 1h", []event.Event{login(0, "alice", "198.51.100.7"), login(1, "alice", "137.30.1.1")}, 1)
	// Twelve hours later it is a flight.
	f("Paris→New Orleans in 12h", []event.Event{login(0, "alice", "198.51.100.7"), login(12, "alice", "137.30.1.1")}, 0)
	// Paris → Lyon (390 km) in 10 minutes: under min_distance_km.
	f("Paris→Lyon", []event.Event{login(0, "bob", "198.51.100.7"), login(0.17, "bob", "192.0.2.4")}, 0)
	// Two accounts, each in one place: nothing.
	f("two accounts", []event.Event{login(0, "a", "198.51.100.7"), login(0.5, "b", "137.30.1.1")}, 0)
	// Unknown addresses are skipped, not taken as (0, 0).
	f("unknown address", []event.Event{login(0, "c", "10.0.0.1"), login(0.1, "c", "198.51.100.7")}, 0)
	// Sydney's radius (1,000 km) is subtracted, but Paris–Sydney is 17,000 km.
	got := run(t, geo.ImpossibleTravel(db), []event.Event{login(0, "dave", "203.0.113.5"), login(3, "dave", "198.51.100.7")})
	if len(got) != 1 {
		t.Fatalf("Sydney→Paris in 3h: %d findings", len(got))
	}
	a := got[0]
	if a.Entity.Value != "dave" || a.Severity != event.SeverityHigh || len(a.Related) != 2 || len(a.Samples) != 2 ||
		!strings.Contains(a.Description, "Sydney, AU") || a.Evidence["speed_kmh"].(float64) < 5000 {
		t.Errorf("finding %+v", a)
	}
}

func TestNewPlace(t *testing.T) {
	db, _ := testDB(t)
	var evs []event.Event
	for d := range 6 { // a week of logins from New Orleans
		evs = append(evs, login(float64(d*24), "carol", "137.30.5.5"))
	}
	evs = append(evs, login(150, "carol", "128.220.1.1"), // Baltimore: same country, new network
		login(151, "carol", "198.51.100.7"), // Paris: new country
		login(152, "carol", "198.51.100.8"), // Paris again: known now
		login(0.5, "eve", "198.51.100.7"))   // a new account: no baseline
	sortEvents(evs)
	c := run(t, geo.NewPlace(db, false), evs)
	if len(c) != 1 || c[0].Entity.Value != "carol" || c[0].Evidence["source.geo.country_iso_code"] != "FR" {
		t.Errorf("new_country: %v", c)
	}
	n := run(t, geo.NewPlace(db, true), evs)
	if len(n) != 1 || n[0].Evidence["source.as.number"] != uint32(5723) || n[0].Severity != event.SeverityLow {
		t.Errorf("new_asn: %v", n)
	}
}

func sortEvents(evs []event.Event) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Time.Before(evs[j-1].Time); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

// TestDFRWS2009: the real DFRWS 2009 auth log, with a database that places
// its login networks where their owners are. Account nssal logs in from
// the University of New Orleans for three weeks, then from Johns Hopkins:
// a new network in a known country, once; Baltimore is 15 hours and
// 1,600 km away, so no impossible travel; jhuisi has no baseline.
func TestDFRWS2009(t *testing.T) {
	if detecttest.Race {
		t.Skip("a whole real log: run without -race (make test runs both)")
	}
	_, dbPath := testDB(t)
	var out, errb bytes.Buffer
	o := app.AnalyzeOptions{Args: []string{testdata.File(t, "auth-logs/dfrws-2009/auth.all.log")}, Year: 2009, TZ: "America/Chicago",
		GeoIP: []string{dbPath}, Only: []string{"geo.", "auth.brute_force"}, MinSeverity: "info", Output: "json",
		Stdout: &out, Stderr: &errb, Quiet: true}
	if code, err := app.Analyze(context.Background(), o); err != nil || code != 0 {
		t.Fatalf("analyze: %d %v\n%s", code, err, errb.String())
	}
	var geoFindings []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.Contains(l, `"record":"finding"`) && strings.Contains(l, `"geo.`) {
			geoFindings = append(geoFindings, l)
		}
	}
	if len(geoFindings) != 1 || !strings.Contains(geoFindings[0], `"geo.new_asn"`) || !strings.Contains(geoFindings[0], `"nssal"`) ||
		!strings.Contains(geoFindings[0], "Johns Hopkins") {
		t.Errorf("want one geo.new_asn finding for nssal from Johns Hopkins, got %d:\n%s", len(geoFindings), strings.Join(geoFindings, "\n"))
	}
	// Findings about an address carry its network.
	if !strings.Contains(out.String(), `"source.as.number"`) {
		t.Error("no source.as.number in the findings' evidence")
	}
}

func BenchmarkImpossibleTravel(b *testing.B) {
	db, _ := testDB(b)
	s := geo.ImpossibleTravel(db)
	p, _ := detect.NewParams(&s, nil)
	d, _ := s.New(p)
	ips := []string{"137.30.1.1", "128.220.1.1", "198.51.100.7", "203.0.113.5", "10.0.0.1"}
	evs := make([]event.Event, 1000)
	for i := range evs {
		evs[i] = login(float64(i)/10, "user"+string(rune('a'+i%20)), ips[i%len(ips)])
	}
	emit := func(event.Alert) {}
	b.SetBytes(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Observe(&evs[i%len(evs)], emit)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}
