// Package detect defines the Detector contract, detector specs and the
// registry, and the Runner that shards events by entity key across workers.
//
// Implementations live in one subpackage per family (detect/auth, ...). Each
// registers a Spec into a Registry value; nothing here is global.
package detect

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"winnow/internal/event"
)

// Key names the entity a detector aggregates by. The Runner routes every
// event to the shard that owns the event's value for each key some detector
// needs, so per-key state has exactly one owner and needs no locks.
type Key uint8

// Keys.
const (
	KeyNone     Key = iota
	KeySourceIP     // event.SrcIP, or event.SrcHost when the record names the source by host name
	KeyUser         // event.User (the account attempted or acted as)
	KeyHost         // event.Host (the machine that logged)
	KeySite         // event.HTTP.Site, or event.Host when the log names no site
	KeyDomain       // event.DNS.Registered (the registered domain of a query)
	KeyDestIP       // event.DstIP (flows: the responder; floods: the victim)
	KeySensor       // event.Sensor.Name, "-" without a sensor: one shard sees a sensor's whole stream
	keyCount
)

// KeyCount is the number of keys (for arrays indexed by Key).
const KeyCount = int(keyCount)

func (k Key) String() string {
	switch k {
	case KeySourceIP:
		return "source.ip"
	case KeyUser:
		return "user.name"
	case KeyHost:
		return "host.name"
	case KeySite:
		return "url.domain"
	case KeyDomain:
		return "dns.question.registered_domain"
	case KeyDestIP:
		return "destination.ip"
	case KeySensor:
		return "observer.name"
	}
	return "none"
}

// KeyValue returns the event's value for key k and whether it has one. IP
// values are returned as netip.Addr-derived strings only when needed; for
// hashing use KeyHash.
func KeyValue(k Key, ev *event.Event) (string, bool) {
	switch k {
	case KeySourceIP:
		if ev.SrcIP.IsValid() {
			return ev.SrcIP.String(), true
		}
		if ev.SrcHost != "" {
			return ev.SrcHost, true
		}
	case KeyUser:
		if ev.User != "" {
			return ev.User, true
		}
	case KeyHost:
		if ev.Host != "" {
			return ev.Host, true
		}
	case KeySite:
		if s := Site(ev); s != "" {
			return s, true
		}
	case KeyDomain:
		if ev.DNS != nil && ev.DNS.Registered != "" {
			return ev.DNS.Registered, true
		}
	case KeyDestIP:
		if ev.DstIP.IsValid() {
			return ev.DstIP.String(), true
		}
	case KeySensor:
		return SensorName(ev), true
	}
	return "", false
}

// SensorName is the name of the sensor that saw ev, "-" when none was
// configured.
func SensorName(ev *event.Event) string {
	if ev.Sensor != nil && ev.Sensor.Name != "" {
		return ev.Sensor.Name
	}
	return "-"
}

// Site is the site an HTTP event belongs to: its virtual host, else the
// host that logged it, else "-" (one site per input without either).
func Site(ev *event.Event) string {
	if ev.HTTP != nil && ev.HTTP.Site != "" {
		return ev.HTTP.Site
	}
	if ev.Host != "" {
		return ev.Host
	}
	if ev.HTTP != nil {
		return "-"
	}
	return ""
}

// Emit receives a finding. It is called from the detector's own goroutine;
// the Alert is handed over (the detector must not touch it afterwards).
type Emit func(event.Alert)

// Detector is one detection rule's per-shard instance.
//
// Contract:
//   - The Runner creates one instance per shard with Spec.New and calls it
//     from that shard's goroutine only: implementations need no locks.
//   - Observe receives, in event-time order, every event whose Kind is in
//     Spec.Kinds and whose Spec.Key value is owned by this shard. The event
//     is borrowed for the call: strings may be kept, Raw must be copied
//     (see event.Event).
//   - Advance(t) says no event older than t will follow (the watermark):
//     the detector expires state and closes episodes that ended before t,
//     emitting their findings.
//   - Flush is called once at end of input; it emits every open episode.
//   - State per entity is bounded (Spec parameters or a fixed cap); what a
//     detector drops because of its cap is reported by Stats.
type Detector interface {
	Observe(ev *event.Event, emit Emit)
	Advance(t time.Time, emit Emit)
	Flush(emit Emit)
	Stats() Stats
}

// Prober is a Detector that can report an episode before it closes
// (optional; the Runner calls it in live runs, after each batch it
// delivered to the shard). Probe emits findings with Open set for open
// episodes whose evidence already suffices — a brute force once it crosses
// its threshold — and again, sparingly, while they grow; the episode's
// close emits the final finding as usual. The Runner calls Probe once
// before the first event (so a detector may start tracking only then),
// then from the shard's goroutine like Observe.
type Prober interface {
	Probe(emit Emit)
}

// Stats are a detector instance's counters, summed across shards.
type Stats struct {
	Entities int   // entities currently tracked
	Shed     int64 // entity states dropped because a cap was reached
	Expired  int64 // entity states dropped because they aged out
	// Deferred counts sightings of new entities that were not given state
	// because the cap was near and they had not been seen before (see
	// Doorkeeper): under a flood of one-off keys, the keys not tracked.
	Deferred int64
	// Limit names the parameter whose cap caused Shed or Deferred when it
	// is not max_entities (e.g. "max_sites"), for the advice to raise it.
	Limit string
	// Examined and Unfamiliar are for detectors that apply a trained
	// model: items checked for familiarity, and those mostly made of
	// features the model never saw in training. When most are, the model
	// was trained on other data (another site) and the run warns.
	Examined, Unfamiliar int64
}

// Add sums two Stats.
func (s Stats) Add(o Stats) Stats {
	limit := s.Limit
	if limit == "" {
		limit = o.Limit
	}
	return Stats{Entities: s.Entities + o.Entities, Shed: s.Shed + o.Shed, Expired: s.Expired + o.Expired,
		Deferred: s.Deferred + o.Deferred, Limit: limit,
		Examined: s.Examined + o.Examined, Unfamiliar: s.Unfamiliar + o.Unfamiliar}
}

// Param documents one tunable parameter and its default.
type Param struct {
	Name    string // snake_case, unique within the spec
	Default string // parsed by Params' typed getters
	Doc     string // what it means and why the default is what it is
}

// Spec describes a detector: the registry lists these, the CLI documents
// them, and New builds per-shard instances.
type Spec struct {
	Name    string // "<family>.<detector>", e.g. "auth.brute_force"
	Summary string // one line for --help and the README
	Key     Key    // the entity the detector aggregates by
	Kinds   []event.Kind
	// Actions, if non-empty, narrows delivery to events with these actions;
	// the Runner then routes nothing else to the detector (less traffic).
	Actions    []event.Action
	Techniques []string // ATT&CK ids the detector's findings carry
	Params     []Param
	// New builds one instance. p holds the defaults merged with any user
	// overrides; New validates them and returns an error naming the bad one.
	New func(p Params) (Detector, error)
}

// Params is a spec's parameter values by name, as strings, with typed
// getters. A getter for a name the spec does not declare panics: that is a
// programming error, not bad input.
type Params struct {
	spec   string
	values map[string]string
}

// NewParams merges overrides into the spec's defaults. Unknown names are
// an error.
func NewParams(s *Spec, overrides map[string]string) (Params, error) {
	p := Params{spec: s.Name, values: make(map[string]string, len(s.Params))}
	for _, d := range s.Params {
		p.values[d.Name] = d.Default
	}
	for k, v := range overrides {
		if _, ok := p.values[k]; !ok {
			return p, fmt.Errorf("detector %s has no parameter %q", s.Name, k)
		}
		p.values[k] = v
	}
	return p, nil
}

// Equal reports whether p and q are the same spec's parameters with the
// same values.
func (p Params) Equal(q Params) bool {
	if p.spec != q.spec || len(p.values) != len(q.values) {
		return false
	}
	for k, v := range p.values {
		if w, ok := q.values[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (p Params) raw(name string) string {
	v, ok := p.values[name]
	if !ok {
		panic(fmt.Sprintf("detector %s: undeclared parameter %q", p.spec, name))
	}
	return v
}

// Int returns an integer parameter.
func (p Params) Int(name string) (int, error) {
	n, err := strconv.Atoi(p.raw(name))
	if err != nil {
		return 0, fmt.Errorf("detector %s: parameter %s: %w", p.spec, name, err)
	}
	return n, nil
}

// Float returns a floating-point parameter.
func (p Params) Float(name string) (float64, error) {
	f, err := strconv.ParseFloat(p.raw(name), 64)
	if err != nil {
		return 0, fmt.Errorf("detector %s: parameter %s: %w", p.spec, name, err)
	}
	return f, nil
}

// Duration returns a duration parameter ("10m", "1h30m").
func (p Params) Duration(name string) (time.Duration, error) {
	d, err := time.ParseDuration(p.raw(name))
	if err != nil {
		return 0, fmt.Errorf("detector %s: parameter %s: %w", p.spec, name, err)
	}
	return d, nil
}

// PositiveInt returns an integer parameter that must be at least 1.
func (p Params) PositiveInt(name string) (int, error) {
	n, err := p.Int(name)
	if err == nil && n < 1 {
		err = fmt.Errorf("detector %s: parameter %s must be at least 1", p.spec, name)
	}
	return n, err
}

// PositiveDuration returns a duration parameter that must be above zero.
func (p Params) PositiveDuration(name string) (time.Duration, error) {
	d, err := p.Duration(name)
	if err == nil && d <= 0 {
		err = fmt.Errorf("detector %s: parameter %s must be positive", p.spec, name)
	}
	return d, err
}

// Episode holds the parameters most per-entity detectors share.
type Episode struct {
	Gap     time.Duration // episode_gap: idle event time that ends an episode
	Max     int           // max_entities: entity states per shard
	Samples int           // samples: evidence lines per finding
}

// Episode reads and validates episode_gap, max_entities and samples.
func (p Params) Episode() (Episode, error) {
	var e Episode
	var err error
	if e.Gap, err = p.PositiveDuration("episode_gap"); err != nil {
		return e, err
	}
	if e.Max, err = p.PositiveInt("max_entities"); err != nil {
		return e, err
	}
	if e.Samples, err = p.Int("samples"); err == nil && e.Samples < 0 {
		err = fmt.Errorf("detector %s: parameter samples must be 0 or more", p.spec)
	}
	return e, err
}

// GapParam declares episode_gap with a default and the reason for it.
func GapParam(def, why string) Param {
	return Param{Name: "episode_gap", Default: def, Doc: "an episode ends after this much event time without activity; " + why}
}

// SamplesParam declares samples (evidence lines kept per finding).
func SamplesParam() Param {
	return Param{Name: "samples", Default: "5", Doc: "evidence lines kept per finding"}
}

// Strings returns a comma-separated list parameter, trimmed, empties dropped.
func (p Params) Strings(name string) []string {
	var out []string
	for _, s := range strings.Split(p.raw(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Registry holds specs by name. It is a value: build one per run (or per
// test) with the families you want. Not safe for concurrent Register.
type Registry struct {
	specs map[string]*Spec
}

// Register adds a spec; a duplicate name or a spec without New or Key is an
// error.
func (r *Registry) Register(s Spec) error {
	if s.Name == "" || s.New == nil || s.Key == KeyNone {
		return fmt.Errorf("cannot register detector %q: name, key and New are required", s.Name)
	}
	if r.specs == nil {
		r.specs = make(map[string]*Spec)
	}
	if _, dup := r.specs[s.Name]; dup {
		return fmt.Errorf("cannot register detector %q: already registered", s.Name)
	}
	r.specs[s.Name] = &s
	return nil
}

// MustRegister is Register for family init code with static specs.
func (r *Registry) MustRegister(s Spec) {
	if err := r.Register(s); err != nil {
		panic(err)
	}
}

// Get returns the spec named name.
func (r *Registry) Get(name string) (*Spec, bool) {
	s, ok := r.specs[name]
	return s, ok
}

// Specs returns all specs sorted by name.
func (r *Registry) Specs() []*Spec {
	out := make([]*Spec, 0, len(r.specs))
	for _, s := range r.specs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
