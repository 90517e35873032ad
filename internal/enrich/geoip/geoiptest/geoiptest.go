// Package geoiptest builds small MaxMind-format databases for tests (no
// database ships with winnow or its dependencies). Import it only from
// _test.go files: it links the database writer.
package geoiptest

import (
	"fmt"
	"net"
	"os"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Network is one entry of a database built by Write.
type Network struct {
	CIDR     string
	Country  string
	City     string
	Lat, Lon float64
	RadiusKm uint16
	ASN      uint32
	Org      string
}

// Write writes a small MaxMind-format database (GeoLite2-City and
// ASN fields in one file) with the given networks, for tests and demos:
// no database ships with winnow or its dependencies.
func Write(path string, nets []Network) error {
	t, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "winnow-test-City-ASN", RecordSize: 28, Languages: []string{"en"},
		IncludeReservedNetworks: true})
	if err != nil {
		return fmt.Errorf("cannot build test database: %w", err)
	}
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.CIDR)
		if err != nil {
			return fmt.Errorf("cannot build test database: %w", err)
		}
		rec := mmdbtype.Map{}
		if n.Country != "" {
			rec["country"] = mmdbtype.Map{"iso_code": mmdbtype.String(n.Country)}
		}
		if n.City != "" {
			rec["city"] = mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(n.City)}}
		}
		if n.Lat != 0 || n.Lon != 0 {
			rec["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(n.Lat), "longitude": mmdbtype.Float64(n.Lon),
				"accuracy_radius": mmdbtype.Uint16(n.RadiusKm)}
		}
		if n.ASN != 0 {
			rec["autonomous_system_number"] = mmdbtype.Uint32(n.ASN)
			rec["autonomous_system_organization"] = mmdbtype.String(n.Org)
		}
		if err := t.Insert(ipnet, rec); err != nil {
			return fmt.Errorf("cannot build test database: %w", err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write test database: %w", err)
	}
	if _, err := t.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("cannot write test database: %w", err)
	}
	return f.Close()
}
