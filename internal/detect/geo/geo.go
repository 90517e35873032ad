// Package geo holds the detectors that need to know where an address is
// (package enrich/geoip): impossible travel between two logins of an
// account, and per-account baselines of the countries and networks (ASNs)
// it logs in from. They are registered only when the user gives GeoIP
// databases (analyze --geoip).
package geo

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"winnow/internal/detect"
	"winnow/internal/enrich/geoip"
	"winnow/internal/event"
)

// Locator looks addresses up; *geoip.DB implements it. It must be safe
// for concurrent use (every shard calls it).
type Locator interface {
	Lookup(a netip.Addr) (geoip.Info, bool)
}

// Register adds the geo detectors, all using loc.
func Register(r *detect.Registry, loc Locator) {
	r.MustRegister(ImpossibleTravel(loc))
	r.MustRegister(NewPlace(loc, false))
	r.MustRegister(NewPlace(loc, true))
}

func loginKinds() ([]event.Kind, []event.Action) {
	return []event.Kind{event.KindAuth}, []event.Action{event.ActLoginSuccess}
}

// ImpossibleTravel is "geo.impossible_travel": two successful logins of an
// account from places so far apart for the time between them that no one
// travels that fast (the accuracy radii of both places are subtracted
// first, so imprecise locations do not make travel look fast).
func ImpossibleTravel(loc Locator) detect.Spec {
	kinds, acts := loginKinds()
	return detect.Spec{
		Name:       "geo.impossible_travel",
		Summary:    "an account logs in from two places too far apart for the time between the logins",
		Key:        detect.KeyUser,
		Kinds:      kinds,
		Actions:    acts,
		Techniques: []string{"T1078"},
		Params: []detect.Param{
			{Name: "max_speed_kmh", Default: "1000", Doc: "the fastest plausible travel (a airliner flies ≈ 900 km/h)"},
			{Name: "min_distance_km", Default: "500", Doc: "shorter jumps are ignored (GeoIP places within a country are often off by hundreds of km)"},
			{Name: "max_entities", Default: "20000", Doc: "accounts tracked per shard (least recently active evicted first)"},
			{Name: "idle", Default: "720h", Doc: "an account's last login is forgotten after this much event time"},
		},
		New: func(p detect.Params) (detect.Detector, error) { return newTravel(loc, p) },
	}
}

type lastLogin struct {
	t    time.Time
	ip   netip.Addr
	info geoip.Info
	ref  event.Sample
}

type travel struct {
	loc             Locator
	maxSpeed, minKm float64
	idle            time.Duration
	tab             *detect.Table[lastLogin]
}

func newTravel(loc Locator, p detect.Params) (detect.Detector, error) {
	d := &travel{loc: loc}
	var err error
	if d.maxSpeed, err = p.Float("max_speed_kmh"); err != nil {
		return nil, err
	}
	if d.minKm, err = p.Float("min_distance_km"); err != nil {
		return nil, err
	}
	if d.idle, err = p.PositiveDuration("idle"); err != nil {
		return nil, err
	}
	n, err := p.PositiveInt("max_entities")
	if err != nil {
		return nil, err
	}
	if !(d.maxSpeed > 0) || d.minKm < 0 {
		return nil, fmt.Errorf("detector geo.impossible_travel: max_speed_kmh must be positive and min_distance_km at least 0")
	}
	d.tab = detect.NewTable(n, detect.TableOptions[lastLogin]{})
	return d, nil
}

func sample(ev *event.Event) event.Sample {
	return event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: string(ev.Raw)}
}

func (d *travel) Observe(ev *event.Event, emit detect.Emit) {
	if ev.User == "" || !ev.SrcIP.IsValid() || ev.Outcome != event.OutcomeSuccess {
		return
	}
	info, ok := d.loc.Lookup(ev.SrcIP)
	if !ok || !info.HasLocation {
		return
	}
	last, created := d.tab.Upsert(ev.User, ev.Time)
	prev := *last
	*last = lastLogin{t: ev.Time, ip: ev.SrcIP, info: info, ref: sample(ev)}
	if created || prev.ip == ev.SrcIP || !ev.Time.After(prev.t) {
		return
	}
	km := geoip.DistanceKm(prev.info.Lat, prev.info.Lon, info.Lat, info.Lon)
	eff := km - prev.info.RadiusKm - info.RadiusKm
	if eff < d.minKm || eff <= 0 {
		return
	}
	hours := ev.Time.Sub(prev.t).Hours()
	speed := eff / hours
	if speed <= d.maxSpeed {
		return
	}
	a := event.Alert{
		Rule: "geo.impossible_travel",
		Description: fmt.Sprintf("%s logged in from %s (%s) %s after a login from %s (%s): %.0f km apart, %.0f km/h needed (max %.0f)",
			ev.User, ev.SrcIP, info.Place(), fmtDur(ev.Time.Sub(prev.t)), prev.ip, prev.info.Place(), km, speed, d.maxSpeed),
		Entity: event.Entity{Type: event.EntityUser, Value: ev.User}, Start: prev.t, End: ev.Time,
		Severity: event.SeverityHigh, Score: min(1, 0.5+speed/(20*d.maxSpeed)), Techniques: []string{"T1078"},
		SourceIP: ev.SrcIP, User: ev.User,
		Related: []event.Entity{{Type: event.EntityIP, Value: prev.ip.String()}, {Type: event.EntityIP, Value: ev.SrcIP.String()}},
		Evidence: map[string]any{
			"distance_km": round1(km), "effective_distance_km": round1(eff), "hours": round1(hours*10) / 10,
			"speed_kmh": round1(speed), "max_speed_kmh": d.maxSpeed,
			"from_ip": prev.ip.String(), "from_place": prev.info.Place(), "to_ip": ev.SrcIP.String(), "to_place": info.Place(),
			"same_asn": prev.info.ASN != 0 && prev.info.ASN == info.ASN,
		},
		Samples: []event.Sample{prev.ref, sample(ev)},
	}
	emit(a)
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func fmtDur(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

func (d *travel) Advance(t time.Time, _ detect.Emit) { d.tab.Expire(t, d.idle, nil) }
func (d *travel) Flush(detect.Emit)                  {}
func (d *travel) Stats() detect.Stats                { return d.tab.Stats() }

// NewPlace is "geo.new_country" (asn false) or "geo.new_asn" (asn true):
// per account, the countries and networks it logs in from are learned; once
// the account has a baseline (min_logins successful logins spanning
// learn_period of event time), a login from a country — or, for new_asn,
// from a network in a known country — never seen for the account is
// reported (once: the place then joins the baseline).
func NewPlace(loc Locator, asn bool) detect.Spec {
	kinds, acts := loginKinds()
	name, summary := "geo.new_country", "an account logs in from a country outside its learned baseline"
	if asn {
		name, summary = "geo.new_asn", "an account logs in from a network (ASN) outside its learned baseline, in a known country"
	}
	return detect.Spec{
		Name: name, Summary: summary, Key: detect.KeyUser, Kinds: kinds, Actions: acts, Techniques: []string{"T1078"},
		Params: []detect.Param{
			{Name: "min_logins", Default: "5", Doc: "successful logins before the account's baseline counts"},
			{Name: "learn_period", Default: "24h", Doc: "event time the baseline must span before it counts"},
			{Name: "max_entities", Default: "20000", Doc: "accounts tracked per shard"},
			{Name: "idle", Default: "2160h", Doc: "an account's baseline is forgotten after this much event time without a login (90 days)"},
		},
		New: func(p detect.Params) (detect.Detector, error) { return newPlace(loc, asn, name, p) },
	}
}

// Baselines are capped: an account seen from more places than this is
// not one whose place is a signal.
const (
	maxCountries = 32
	maxASNs      = 64
)

type baseline struct {
	first     time.Time
	logins    int
	countries []string
	asns      []uint32
	full      bool
}

type place struct {
	loc       Locator
	asn       bool
	name      string
	minLogins int
	learn     time.Duration
	idle      time.Duration
	tab       *detect.Table[baseline]
}

func newPlace(loc Locator, asn bool, name string, p detect.Params) (detect.Detector, error) {
	d := &place{loc: loc, asn: asn, name: name}
	var err error
	if d.minLogins, err = p.PositiveInt("min_logins"); err != nil {
		return nil, err
	}
	if d.learn, err = p.Duration("learn_period"); err != nil {
		return nil, err
	}
	if d.idle, err = p.PositiveDuration("idle"); err != nil {
		return nil, err
	}
	n, err := p.PositiveInt("max_entities")
	if err != nil {
		return nil, err
	}
	d.tab = detect.NewTable(n, detect.TableOptions[baseline]{Recycle: func(b *baseline) {
		*b = baseline{countries: b.countries[:0], asns: b.asns[:0]}
	}})
	return d, nil
}

func (d *place) Observe(ev *event.Event, emit detect.Emit) {
	if ev.User == "" || !ev.SrcIP.IsValid() || ev.Outcome != event.OutcomeSuccess {
		return
	}
	info, ok := d.loc.Lookup(ev.SrcIP)
	if !ok || (info.Country == "" && info.ASN == 0) {
		return
	}
	b, created := d.tab.Upsert(ev.User, ev.Time)
	if created {
		b.first = ev.Time
	}
	established := b.logins >= d.minLogins && ev.Time.Sub(b.first) >= d.learn && !b.full
	newCountry := info.Country != "" && !slices.Contains(b.countries, info.Country)
	newASN := info.ASN != 0 && !slices.Contains(b.asns, info.ASN)
	if established {
		switch {
		case !d.asn && newCountry:
			emit(d.alert(ev, info, b, fmt.Sprintf("%s logged in from %s (%s), a country not among the %d it used in %d logins since %s (%v)",
				ev.User, ev.SrcIP, info.Place(), len(b.countries), b.logins, b.first.Format("2006-01-02"), b.countries), event.SeverityMedium))
		case d.asn && newASN && !newCountry:
			emit(d.alert(ev, info, b, fmt.Sprintf("%s logged in from %s (%s), a network not among the %d it used in %d logins since %s",
				ev.User, ev.SrcIP, info.Place(), len(b.asns), b.logins, b.first.Format("2006-01-02")), event.SeverityLow))
		}
	}
	b.logins++
	if newCountry {
		if len(b.countries) < maxCountries {
			b.countries = append(b.countries, info.Country)
		} else {
			b.full = true
		}
	}
	if newASN {
		if len(b.asns) < maxASNs {
			b.asns = append(b.asns, info.ASN)
		} else {
			b.full = true
		}
	}
}

func (d *place) alert(ev *event.Event, info geoip.Info, b *baseline, desc string, sev int) event.Alert {
	known := make([]string, 0, len(b.asns))
	for _, a := range b.asns {
		known = append(known, fmt.Sprintf("AS%d", a))
	}
	evd := info.Fields("source")
	evd["baseline_logins"] = b.logins
	evd["baseline_countries"] = append([]string(nil), b.countries...)
	evd["baseline_asns"] = known
	evd["baseline_since"] = b.first.UTC().Format(time.RFC3339)
	return event.Alert{
		Rule: d.name, Description: desc, Entity: event.Entity{Type: event.EntityUser, Value: ev.User},
		Start: ev.Time, End: ev.Time, Severity: sev, Score: 0.6, Techniques: []string{"T1078"},
		SourceIP: ev.SrcIP, User: ev.User, Related: []event.Entity{{Type: event.EntityIP, Value: ev.SrcIP.String()}},
		Evidence: evd, Samples: []event.Sample{sample(ev)},
	}
}

func (d *place) Advance(t time.Time, _ detect.Emit) { d.tab.Expire(t, d.idle, nil) }
func (d *place) Flush(detect.Emit)                  {}
func (d *place) Stats() detect.Stats                { return d.tab.Stats() }
