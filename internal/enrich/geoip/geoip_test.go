package geoip_test

import (
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"winnow/internal/enrich/geoip"
	"winnow/internal/enrich/geoip/geoiptest"
)

var testNets = []geoiptest.Network{
	{CIDR: "137.30.0.0/16", Country: "US", City: "New Orleans", Lat: 30.0273, Lon: -90.0673, RadiusKm: 20, ASN: 2386, Org: "University of New Orleans"},
	{CIDR: "128.220.0.0/16", Country: "US", City: "Baltimore", Lat: 39.3299, Lon: -76.6205, RadiusKm: 10, ASN: 5723, Org: "Johns Hopkins University"},
	{CIDR: "2001:db8::/32", Country: "FR", City: "Paris", Lat: 48.8566, Lon: 2.3522, RadiusKm: 50, ASN: 3215, Org: "Orange"},
	{CIDR: "203.0.113.0/24", ASN: 64500, Org: "Example Transit"},
}

func openTest(t testing.TB) *geoip.DB {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.mmdb")
	if err := geoiptest.Write(p, testNets); err != nil {
		t.Fatal(err)
	}
	db, err := geoip.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestLookup(t *testing.T) {
	db := openTest(t)
	f := func(addr, wantCountry string, wantASN uint32, wantLoc bool) {
		t.Helper()
		info, ok := db.Lookup(netip.MustParseAddr(addr))
		if ok != (wantCountry != "" || wantASN != 0) || info.Country != wantCountry || info.ASN != wantASN || info.HasLocation != wantLoc {
			t.Errorf("Lookup(%s) = %+v, %v", addr, info, ok)
		}
	}
	f("137.30.123.91", "US", 2386, true)
	f("128.220.249.83", "US", 5723, true)
	f("::ffff:128.220.249.83", "US", 5723, true) // IPv4-mapped
	f("2001:db8::1", "FR", 3215, true)
	f("203.0.113.9", "", 64500, false)
	f("192.0.2.1", "", 0, false)
	info, _ := db.Lookup(netip.MustParseAddr("2001:db8::1"))
	if info.Place() != "Paris, FR, AS3215 Orange" || info.Fields("source")["source.as.organization.name"] != "Orange" {
		t.Errorf("place %q fields %v", info.Place(), info.Fields("source"))
	}
	if _, ok := db.Lookup(netip.Addr{}); ok {
		t.Error("invalid address found")
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := geoip.Open(); err == nil {
		t.Error("no files: no error")
	}
	p := filepath.Join(t.TempDir(), "junk.mmdb")
	os.WriteFile(p, []byte("not a database"), 0o600)
	if _, err := geoip.Open(p); err == nil {
		t.Error("junk accepted")
	}
}

func TestDistance(t *testing.T) {
	// New Orleans – Baltimore ≈ 1,600 km; Paris – New York ≈ 5,837 km.
	if d := geoip.DistanceKm(30.0273, -90.0673, 39.3299, -76.6205); math.Abs(d-1600) > 40 {
		t.Errorf("New Orleans–Baltimore %.0f km", d)
	}
	if d := geoip.DistanceKm(48.8566, 2.3522, 40.7128, -74.0060); math.Abs(d-5837) > 20 {
		t.Errorf("Paris–New York %.0f km", d)
	}
	if d := geoip.DistanceKm(10, 20, 10, 20); d != 0 {
		t.Errorf("same place %v", d)
	}
}

func BenchmarkLookup(b *testing.B) {
	db := openTest(b)
	a := netip.MustParseAddr("128.220.249.83")
	b.SetBytes(16)
	b.ReportAllocs()
	for b.Loop() {
		db.Lookup(a)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
