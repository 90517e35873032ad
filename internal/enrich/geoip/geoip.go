// Package geoip looks up the country, location, autonomous system and
// organisation of an address in MaxMind-format databases the user
// provides (GeoLite2 or GeoIP2 City/Country/ASN, DB-IP Lite, or any .mmdb
// with the same field names). Several databases are combined: a City or
// Country database gives the place, an ASN database the network.
//
// A DB is safe for concurrent use (lookups read a memory-mapped file).
package geoip

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Info is what the databases know about an address.
type Info struct {
	Country     string  // ISO 3166-1 alpha-2 ("" = unknown)
	City        string  // English name ("" = unknown)
	Lat, Lon    float64 // degrees, valid when HasLocation
	RadiusKm    float64 // accuracy radius of the location (0 = unknown)
	HasLocation bool
	ASN         uint32 // 0 = unknown
	Org         string // the AS's organisation
}

// record is the union of the GeoIP2/GeoLite2/DB-IP City, Country and ASN
// record layouts (only the fields winnow uses are decoded).
type record struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	City struct {
		Names struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude       *float64 `maxminddb:"latitude"`
		Longitude      *float64 `maxminddb:"longitude"`
		AccuracyRadius uint16   `maxminddb:"accuracy_radius"`
	} `maxminddb:"location"`
	ASN uint32 `maxminddb:"autonomous_system_number"`
	Org string `maxminddb:"autonomous_system_organization"`
}

// DB is a set of opened databases.
type DB struct {
	readers []*maxminddb.Reader
	names   []string
}

// Open opens MaxMind-format database files.
func Open(paths ...string) (*DB, error) {
	if len(paths) == 0 {
		return nil, errors.New("cannot open GeoIP databases: none given")
	}
	db := &DB{}
	for _, p := range paths {
		r, err := maxminddb.Open(p)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("cannot open GeoIP database %s: %w", p, err)
		}
		db.readers = append(db.readers, r)
		db.names = append(db.names, r.Metadata.DatabaseType)
	}
	return db, nil
}

// Types returns the databases' types ("GeoLite2-City", "GeoLite2-ASN", ...).
func (db *DB) Types() []string { return append([]string(nil), db.names...) }

// Close releases the databases.
func (db *DB) Close() error {
	var errs []error
	for _, r := range db.readers {
		if err := r.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	db.readers = nil
	return errors.Join(errs...)
}

// Lookup returns what the databases know about a; ok is false when none
// of them has a record for it (private, reserved or unlisted addresses).
// Earlier databases win for fields that several provide.
func (db *DB) Lookup(a netip.Addr) (Info, bool) {
	var info Info
	found := false
	if !a.IsValid() {
		return info, false
	}
	a = a.Unmap()
	for _, r := range db.readers {
		res := r.Lookup(a)
		if !res.Found() {
			continue
		}
		var rec record
		if err := res.Decode(&rec); err != nil {
			continue
		}
		found = true
		if info.Country == "" {
			info.Country = rec.Country.ISOCode
			if info.Country == "" {
				info.Country = rec.RegisteredCountry.ISOCode
			}
		}
		if info.City == "" {
			info.City = rec.City.Names.En
		}
		if !info.HasLocation && rec.Location.Latitude != nil && rec.Location.Longitude != nil {
			lat, lon := *rec.Location.Latitude, *rec.Location.Longitude
			if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
				info.Lat, info.Lon, info.HasLocation = lat, lon, true
				info.RadiusKm = float64(rec.Location.AccuracyRadius)
			}
		}
		if info.ASN == 0 && rec.ASN != 0 {
			info.ASN, info.Org = rec.ASN, rec.Org
		}
	}
	return info, found
}

// Place renders the location for findings: "Paris, FR", "FR", "AS3215
// Orange" when only the network is known.
func (i Info) Place() string {
	var parts []string
	switch {
	case i.City != "" && i.Country != "":
		parts = append(parts, i.City+", "+i.Country)
	case i.Country != "":
		parts = append(parts, i.Country)
	}
	if i.ASN != 0 {
		parts = append(parts, i.ASNName())
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, ", ")
}

// ASNName renders the network: "AS3215 Orange".
func (i Info) ASNName() string {
	if i.ASN == 0 {
		return ""
	}
	if i.Org == "" {
		return fmt.Sprintf("AS%d", i.ASN)
	}
	return fmt.Sprintf("AS%d %s", i.ASN, i.Org)
}

// Fields are the ECS fields of an address's enrichment (source.geo.*,
// source.as.*), for findings' evidence.
func (i Info) Fields(prefix string) map[string]any {
	m := map[string]any{}
	if i.Country != "" {
		m[prefix+".geo.country_iso_code"] = i.Country
	}
	if i.City != "" {
		m[prefix+".geo.city_name"] = i.City
	}
	if i.HasLocation {
		m[prefix+".geo.location"] = map[string]float64{"lat": i.Lat, "lon": i.Lon}
	}
	if i.ASN != 0 {
		m[prefix+".as.number"] = i.ASN
		if i.Org != "" {
			m[prefix+".as.organization.name"] = i.Org
		}
	}
	return m
}

// earthRadiusKm is the mean radius of the Earth.
const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle (haversine) distance between two places.
func DistanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(a)))
}
