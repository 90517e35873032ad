// Package decide turns findings into blocking decisions priced by cost.
//
// A finding says an address probably did something bad. Blocking it costs
// something if the address was in fact good (a customer locked out, a
// support call), and not blocking costs something if it was bad (the attack
// goes on). With p the probability that the address is hostile, blocking is
// worth it when the expected cost of not blocking exceeds the expected cost
// of blocking:
//
//	p · Cost.MissBad  >  (1 − p) · Cost.BlockGood
//
// p comes from the findings about the address: each finding's Score when
// the detector gives one, else the probability the policy assigns to its
// severity band; several findings about one address combine by noisy-OR
// (independent evidence makes hostility likelier), so three medium findings
// can justify a ban that one cannot. Repeat offenders are banned longer
// (Duration × Backoff^(n−1), capped at MaxDuration); when RangeAfter
// addresses of one /24 (IPv4) or /64 (IPv6) are banned together the whole
// range is banned instead. Allowlisted networks and accounts are never
// banned, and no range is banned that contains an allowlisted address.
//
// The Decider keeps the active decisions and a change log so that pollers
// (the CrowdSec bouncer API, the nftables writer) receive what is new and
// what was deleted since they last asked. Decisions expire in wall-clock
// time: they are enforced now, whatever the time of the evidence.
//
// All methods are safe for concurrent use. Memory is bounded: at most
// Policy.MaxActive decisions and Policy.MaxTracked addresses' evidence are
// kept; beyond that the least recently seen evidence is dropped and counted.
package decide

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"winnow/internal/event"
)

// Scope of a decision, spelt as CrowdSec spells it.
const (
	ScopeIP    = "Ip"
	ScopeRange = "Range"
)

// Cost is what the user says each mistake costs, in any unit as long as
// both use the same one.
type Cost struct {
	BlockGood float64 // cost of banning an address that was legitimate
	MissBad   float64 // cost of not banning an address that was hostile
}

// Policy configures the Decider. Zero fields take the defaults of
// DefaultPolicy.
type Policy struct {
	Cost Cost
	// SeverityProbability is the probability that a finding's source is
	// hostile, by severity band ("info", "low", "medium", "high",
	// "critical"), used when the finding has no Score of its own.
	SeverityProbability map[string]float64
	// RuleProbability overrides it per rule (0 means never ban on this
	// rule alone, e.g. auth.new_source, whose source is usually the user).
	RuleProbability map[string]float64
	Duration        time.Duration // first ban
	Backoff         float64       // each repeat multiplies the duration
	MaxDuration     time.Duration
	// Memory is how long an address's offences and evidence are
	// remembered for repeat counting and noisy-OR.
	Memory time.Duration
	// RangeAfter bans the whole /24 or /64 once this many of its addresses
	// are banned at once (0 disables ranges).
	RangeAfter int
	AllowNets  []netip.Prefix // never banned
	AllowUsers []string       // findings about these accounts never ban
	MaxActive  int            // cap on active decisions
	MaxTracked int            // cap on addresses whose evidence is kept
	Origin     string         // reported as the decision's origin
}

// DefaultPolicy returns the defaults: a wrong ban costs half a missed
// attack (threshold p > 1/3: medium findings and above ban, low ones do not
// until they accumulate), 4 h first ban doubling up to 7 days, evidence kept
// 30 days, ranges after 3 banned neighbours, loopback and private networks
// allowlisted.
func DefaultPolicy() Policy {
	return Policy{
		Cost: Cost{BlockGood: 5, MissBad: 10},
		SeverityProbability: map[string]float64{
			"info": 0.02, "low": 0.15, "medium": 0.6, "high": 0.85, "critical": 0.97,
		},
		RuleProbability: map[string]float64{
			"auth.new_source":   0,
			"auth.unusual_hour": 0,
		},
		Duration:    4 * time.Hour,
		Backoff:     2,
		MaxDuration: 7 * 24 * time.Hour,
		Memory:      30 * 24 * time.Hour,
		RangeAfter:  3,
		AllowNets:   []netip.Prefix{mustPrefix("127.0.0.0/8"), mustPrefix("::1/128")},
		MaxActive:   100_000,
		MaxTracked:  200_000,
		Origin:      "winnow",
	}
}

func mustPrefix(s string) netip.Prefix {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return p
}

// Validate checks the policy and fills zero fields with defaults.
func (p *Policy) Validate() error {
	d := DefaultPolicy()
	if p.Cost.BlockGood == 0 && p.Cost.MissBad == 0 {
		p.Cost = d.Cost
	}
	if p.Cost.BlockGood < 0 || p.Cost.MissBad <= 0 || math.IsNaN(p.Cost.BlockGood) || math.IsInf(p.Cost.MissBad, 0) {
		return fmt.Errorf("cannot use costs block_good=%v miss_bad=%v: both must be finite, miss_bad > 0, block_good ≥ 0", p.Cost.BlockGood, p.Cost.MissBad)
	}
	if p.SeverityProbability == nil {
		p.SeverityProbability = d.SeverityProbability
	}
	for band, v := range p.SeverityProbability {
		if _, ok := event.ParseSeverity(band); !ok {
			return fmt.Errorf("cannot use severity probability for %q: not a severity band", band)
		}
		if v < 0 || v > 1 || math.IsNaN(v) {
			return fmt.Errorf("cannot use probability %v for severity %s: must be in [0,1]", v, band)
		}
	}
	if p.RuleProbability == nil {
		p.RuleProbability = d.RuleProbability
	}
	for rule, v := range p.RuleProbability {
		if v < 0 || v > 1 || math.IsNaN(v) {
			return fmt.Errorf("cannot use probability %v for rule %s: must be in [0,1]", v, rule)
		}
	}
	if p.Duration == 0 {
		p.Duration = d.Duration
	}
	if p.Backoff == 0 {
		p.Backoff = d.Backoff
	}
	if p.MaxDuration == 0 {
		p.MaxDuration = d.MaxDuration
	}
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.MaxActive == 0 {
		p.MaxActive = d.MaxActive
	}
	if p.MaxTracked == 0 {
		p.MaxTracked = d.MaxTracked
	}
	if p.Origin == "" {
		p.Origin = d.Origin
	}
	switch {
	case p.Duration < time.Second:
		return fmt.Errorf("cannot use ban duration %v: must be at least 1s", p.Duration)
	case p.MaxDuration < p.Duration:
		return fmt.Errorf("cannot use max ban duration %v: shorter than the first ban %v", p.MaxDuration, p.Duration)
	case p.Backoff < 1:
		return fmt.Errorf("cannot use backoff %v: must be ≥ 1", p.Backoff)
	case p.RangeAfter < 0 || p.RangeAfter == 1:
		return fmt.Errorf("cannot use range_after %d: 0 disables ranges, else ≥ 2", p.RangeAfter)
	case p.MaxActive < 1 || p.MaxTracked < 1:
		return errors.New("cannot use max_active/max_tracked below 1")
	}
	return nil
}

// Threshold is the probability above which a ban is worth its cost.
func (p *Policy) Threshold() float64 {
	return p.Cost.BlockGood / (p.Cost.BlockGood + p.Cost.MissBad)
}

// Decision is one ban, with the fields CrowdSec bouncers read.
type Decision struct {
	ID       int64     `json:"id"`
	Origin   string    `json:"origin"`
	Type     string    `json:"type"`  // "ban"
	Scope    string    `json:"scope"` // ScopeIP or ScopeRange
	Value    string    `json:"value"` // address or CIDR
	Scenario string    `json:"scenario"`
	Until    time.Time `json:"until"`
	// Reason explains the price: the probability, the threshold and the
	// findings that made it.
	Reason      string  `json:"reason"`
	Probability float64 `json:"probability"`
	Offence     int     `json:"offence"` // 1 for a first ban, 2 for the next …
	// Prefix is Value parsed (not serialised).
	Prefix netip.Prefix `json:"-"`
}

// Duration is the remaining ban time at now, in CrowdSec's format.
func (d *Decision) Duration(now time.Time) string {
	left := d.Until.Sub(now).Round(time.Second)
	if left < 0 {
		left = 0
	}
	return left.String()
}

// Stats are the Decider's counters.
type Stats struct {
	Active, Tracked     int
	Banned, Expired     int64
	Allowlisted, Below  int64 // findings that did not ban: allowlisted, or p below the threshold
	ShedActive, Evicted int64 // decisions refused at the cap; evidence dropped at the cap
}

// Decider holds the evidence per address, the active decisions and the
// change log.
type Decider struct {
	mu      sync.Mutex
	pol     Policy
	now     func() time.Time
	nextID  int64
	seq     uint64
	active  map[netip.Prefix]*Decision
	tracked map[netip.Addr]*evidence
	log     []change // changes in seq order, trimmed by Trim
	floor   uint64   // the log holds every change after floor
	stats   Stats
}

type evidence struct {
	pNot     float64 // Π(1 − p_i) over remembered findings, incidents folded in
	offences int     // bans so far
	rules    []string
	last     time.Time
	// open holds the probability each recent incident contributed, so that
	// the updates of one growing incident count once (at its highest p),
	// not once per report. At most maxOpen are kept; older ones are folded
	// into pNot for good.
	open []incidentP
}

type incidentP struct {
	id string
	p  float64
}

const maxOpen = 16

// combined is the noisy-OR probability of hostility over the evidence.
func (ev *evidence) combined() float64 {
	q := ev.pNot
	for _, o := range ev.open {
		q *= 1 - o.p
	}
	return 1 - q
}

// note records incident id's probability p, replacing an earlier report of
// the same incident when p is higher.
func (ev *evidence) note(id string, p float64) {
	for i := range ev.open {
		if ev.open[i].id == id {
			ev.open[i].p = max(ev.open[i].p, p)
			return
		}
	}
	if len(ev.open) == maxOpen {
		ev.pNot *= 1 - ev.open[0].p
		ev.open = slices.Delete(ev.open, 0, 1)
	}
	ev.open = append(ev.open, incidentP{id, p})
}

type change struct {
	seq     uint64
	deleted bool
	d       Decision
}

// New builds a Decider; now is the clock (time.Now in production).
func New(pol Policy, now func() time.Time) (*Decider, error) {
	if err := pol.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Decider{pol: pol, now: now, active: map[netip.Prefix]*Decision{}, tracked: map[netip.Addr]*evidence{}}, nil
}

// SetPolicy replaces the policy (SIGHUP); active decisions stay, and newly
// allowlisted addresses are unbanned.
func (dc *Decider) SetPolicy(pol Policy) error {
	if err := pol.Validate(); err != nil {
		return err
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.pol = pol
	for pfx, d := range dc.active {
		if dc.allowedPrefix(pfx) {
			dc.remove(d)
		}
	}
	return nil
}

// Observe weighs one finding and returns the decision it caused, if any
// (nil when the finding names no address, is allowlisted, or its evidence
// does not yet pay for a ban). Reports of one incident (the same rule,
// entity and start) count once, at their highest probability; use
// ObserveIncident when the producer names incidents itself.
func (dc *Decider) Observe(a event.Alert) *Decision {
	return dc.ObserveIncident(a, "")
}

// ObserveIncident is Observe for a report of incident id (every report of
// one incident carries the same id; "" derives it from rule, entity and
// start).
func (dc *Decider) ObserveIncident(a event.Alert, id string) *Decision {
	if id == "" {
		id = a.Rule + "|" + a.Entity.Type.String() + "|" + a.Entity.Value + "|" + a.Start.UTC().Format(time.RFC3339Nano)
	}
	addr := target(a)
	if !addr.IsValid() {
		return nil
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	now := dc.now()
	dc.expireLocked(now)
	if dc.allowed(addr, a) {
		dc.stats.Allowlisted++
		return nil
	}
	p := dc.probability(a)
	ev := dc.evidenceFor(addr, now)
	ev.note(id, p)
	ev.last = now
	if !slices.Contains(ev.rules, a.Rule) && len(ev.rules) < 8 {
		ev.rules = append(ev.rules, a.Rule)
	}
	combined := ev.combined()
	if combined <= dc.pol.Threshold() {
		dc.stats.Below++
		return nil
	}
	pfx := netip.PrefixFrom(addr, addr.BitLen())
	if d, ok := dc.active[pfx]; ok {
		return d // already banned
	}
	if r, ok := dc.coveringRange(addr); ok {
		return r
	}
	ev.offences++
	d := dc.add(pfx, ScopeIP, a.Rule, combined, ev, now)
	if d == nil {
		return nil
	}
	if r := dc.maybeRange(addr, a.Rule, now); r != nil {
		return r
	}
	return d
}

// target is the address a finding would ban: its attacker (SourceIP), or
// the entity itself when that is an address.
func target(a event.Alert) netip.Addr {
	if a.SourceIP.IsValid() {
		return a.SourceIP.Unmap()
	}
	if a.Entity.Type == event.EntityIP {
		if ad, err := netip.ParseAddr(a.Entity.Value); err == nil {
			return ad.Unmap()
		}
	}
	return netip.Addr{}
}

func (dc *Decider) probability(a event.Alert) float64 {
	if p, ok := dc.pol.RuleProbability[a.Rule]; ok {
		return p
	}
	if a.Score > 0 && a.Score <= 1 {
		return a.Score
	}
	return dc.pol.SeverityProbability[event.SeverityName(a.Severity)]
}

func (dc *Decider) allowed(addr netip.Addr, a event.Alert) bool {
	for _, n := range dc.pol.AllowNets {
		if n.Contains(addr) {
			return true
		}
	}
	if a.User != "" && slices.Contains(dc.pol.AllowUsers, a.User) {
		return true
	}
	return a.Entity.Type == event.EntityUser && slices.Contains(dc.pol.AllowUsers, a.Entity.Value)
}

// allowedPrefix reports whether a banned prefix would touch an allowlisted
// network.
func (dc *Decider) allowedPrefix(p netip.Prefix) bool {
	for _, n := range dc.pol.AllowNets {
		if n.Overlaps(p) {
			return true
		}
	}
	return false
}

func (dc *Decider) evidenceFor(addr netip.Addr, now time.Time) *evidence {
	if ev, ok := dc.tracked[addr]; ok {
		if now.Sub(ev.last) > dc.pol.Memory {
			*ev = evidence{pNot: 1}
		}
		return ev
	}
	if len(dc.tracked) >= dc.pol.MaxTracked {
		dc.evictOldest()
	}
	ev := &evidence{pNot: 1}
	dc.tracked[addr] = ev
	return ev
}

// evictOldest drops the least recently seen tenth of the tracked evidence
// (amortised: one sort per MaxTracked/10 new addresses).
func (dc *Decider) evictOldest() {
	type kv struct {
		a netip.Addr
		t time.Time
	}
	all := make([]kv, 0, len(dc.tracked))
	for a, ev := range dc.tracked {
		all = append(all, kv{a, ev.last})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].t.Before(all[j].t) })
	n := max(1, len(all)/10)
	for _, e := range all[:n] {
		delete(dc.tracked, e.a)
	}
	dc.stats.Evicted += int64(n)
}

func (dc *Decider) banDuration(offence int) time.Duration {
	d := float64(dc.pol.Duration) * math.Pow(dc.pol.Backoff, float64(offence-1))
	if d > float64(dc.pol.MaxDuration) || math.IsInf(d, 0) {
		return dc.pol.MaxDuration
	}
	return time.Duration(d)
}

func (dc *Decider) add(pfx netip.Prefix, scope, rule string, p float64, ev *evidence, now time.Time) *Decision {
	if len(dc.active) >= dc.pol.MaxActive {
		dc.stats.ShedActive++
		return nil
	}
	dc.nextID++
	d := &Decision{
		ID: dc.nextID, Origin: dc.pol.Origin, Type: "ban", Scope: scope, Value: prefixValue(pfx),
		Scenario: rule, Until: now.Add(dc.banDuration(ev.offences)), Probability: math.Round(p*1000) / 1000,
		Offence: ev.offences, Prefix: pfx,
	}
	d.Reason = fmt.Sprintf("p(hostile)=%.3f > threshold %.3f (block_good %g vs miss_bad %g) from %s; offence %d",
		p, dc.pol.Threshold(), dc.pol.Cost.BlockGood, dc.pol.Cost.MissBad, strings.Join(ev.rules, ", "), ev.offences)
	dc.active[pfx] = d
	dc.seq++
	dc.logChange(change{seq: dc.seq, d: *d})
	dc.stats.Banned++
	return d
}

// logChange appends to the change log, dropping its older half when it
// outgrows four times the active cap (pollers that far behind resync).
func (dc *Decider) logChange(c change) {
	dc.log = append(dc.log, c)
	if limit := 4 * dc.pol.MaxActive; len(dc.log) > limit {
		dc.dropLog(len(dc.log) / 2)
	}
}

// dropLog drops the first n changes of the log.
func (dc *Decider) dropLog(n int) {
	if n > 0 {
		dc.floor = dc.log[n-1].seq
		dc.log = slices.Delete(dc.log, 0, n)
	}
}

func prefixValue(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func rangeOf(addr netip.Addr) netip.Prefix {
	bits := 24
	if addr.Is6() {
		bits = 64
	}
	p, _ := addr.Prefix(bits)
	return p
}

func (dc *Decider) coveringRange(addr netip.Addr) (*Decision, bool) {
	if dc.pol.RangeAfter == 0 {
		return nil, false
	}
	d, ok := dc.active[rangeOf(addr)]
	return d, ok
}

// maybeRange replaces the single-address bans inside addr's /24 (/64) by a
// range ban once RangeAfter of them are active.
func (dc *Decider) maybeRange(addr netip.Addr, rule string, now time.Time) *Decision {
	if dc.pol.RangeAfter == 0 {
		return nil
	}
	rng := rangeOf(addr)
	if dc.allowedPrefix(rng) {
		return nil
	}
	var inside []*Decision
	for pfx, d := range dc.active {
		if pfx.IsSingleIP() && rng.Contains(pfx.Addr()) {
			inside = append(inside, d)
		}
	}
	if len(inside) < dc.pol.RangeAfter {
		return nil
	}
	ev := &evidence{pNot: 1}
	for _, d := range inside {
		ev.pNot *= 1 - d.Probability
		ev.offences = max(ev.offences, d.Offence)
		ev.rules = append(ev.rules, fmt.Sprintf("%s (%s)", d.Value, d.Scenario))
		dc.remove(d)
	}
	return dc.add(rng, ScopeRange, rule, 1-ev.pNot, ev, now)
}

func (dc *Decider) remove(d *Decision) {
	delete(dc.active, d.Prefix)
	dc.seq++
	dc.logChange(change{seq: dc.seq, deleted: true, d: *d})
}

// Delete removes the decision for value (an address or CIDR, as listed) by
// an analyst's action; it reports whether one was active.
func (dc *Decider) Delete(value string) bool {
	pfx, err := parseValue(value)
	if err != nil {
		return false
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	d, ok := dc.active[pfx]
	if ok {
		dc.remove(d)
	}
	return ok
}

func parseValue(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Expire removes decisions whose time is up and returns how many.
func (dc *Decider) Expire() int {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return dc.expireLocked(dc.now())
}

func (dc *Decider) expireLocked(now time.Time) int {
	n := 0
	for _, d := range dc.active {
		if !now.Before(d.Until) {
			dc.remove(d)
			dc.stats.Expired++
			n++
		}
	}
	return n
}

// Active returns the active decisions ordered by ID.
func (dc *Decider) Active() []Decision {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.expireLocked(dc.now())
	out := make([]Decision, 0, len(dc.active))
	for _, d := range dc.active {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Changes returns the decisions added and deleted after cursor and the new
// cursor. A decision both added and deleted after cursor is in neither
// list. Cursor 0 (or one older than the trimmed log) returns every active
// decision as new and nothing deleted — what a poller that starts up needs.
func (dc *Decider) Changes(cursor uint64) (added, deleted []Decision, next uint64) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	now := dc.now()
	dc.expireLocked(now)
	next = dc.seq
	if cursor == 0 || cursor < dc.floor || cursor > dc.seq {
		for _, d := range dc.active {
			added = append(added, *d)
		}
		sort.Slice(added, func(i, j int) bool { return added[i].ID < added[j].ID })
		return added, nil, next
	}
	i := sort.Search(len(dc.log), func(i int) bool { return dc.log[i].seq > cursor })
	addedAt := map[int64]int{}
	for _, c := range dc.log[i:] {
		if c.deleted {
			if j, ok := addedAt[c.d.ID]; ok {
				added[j].ID = -1 // added and deleted since cursor: neither
				continue
			}
			deleted = append(deleted, c.d)
			continue
		}
		addedAt[c.d.ID] = len(added)
		added = append(added, c.d)
	}
	added = slices.DeleteFunc(added, func(d Decision) bool { return d.ID < 0 })
	return added, deleted, next
}

// Cursor is the position of the latest change (what Changes would return
// as next).
func (dc *Decider) Cursor() uint64 {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	return dc.seq
}

// Trim drops change-log entries at or below cursor (the oldest cursor any
// poller still holds); pollers behind it get a full resync.
func (dc *Decider) Trim(cursor uint64) {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	dc.dropLog(sort.Search(len(dc.log), func(i int) bool { return dc.log[i].seq > cursor }))
}

// Stats returns the counters.
func (dc *Decider) Stats() Stats {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	s := dc.stats
	s.Active, s.Tracked = len(dc.active), len(dc.tracked)
	return s
}
