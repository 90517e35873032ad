// Package correlate turns findings into incidents: one per entity and
// episode, updated while it grows, with the rules that contributed as its
// reasons and weak observations as context that raises its risk.
//
// # Incidents
//
// A finding joins an incident of its entity when its time range comes
// within Config.Gap of the incident's; otherwise it opens a new one. A
// late finding that bridges two incidents of one entity merges them (the
// earlier keeps its ID and lists the other in Merged).
//
// A finding whose severity is below Config.ContextBelow (medium by
// default) is context: it is attached to the entity's incident and raises
// its risk, not its severity. An entity with nothing but context has a
// weak incident whose severity is the context's (low or info); reports
// hide those unless asked for them.
//
// IDs are stable: an incident's ID is FindingID of the finding that opened
// it (a hash of rule, entity and start), and every finding folded in is
// remembered by its own FindingID, so a finding delivered twice (a
// restart, a redelivery, a second worker) updates the incident it joined
// instead of counting twice or opening another.
//
// # Risk
//
//	weight(f)  = score(f) × severity(f)/100            each finding, in [0,1]
//	w(I,r)     = max_{f∈I, rule f = r} weight(f)        repeats of a rule count once, at their strongest
//	own(I)     = 1 − Π_reasons r (1 − w(I,r)) × Π_context c (1 − ½·w(I,c))
//	risk(I)    = 1 − (1 − own(I)) × Π_L (1 − ½·own(L))
//
// where L ranges over the linked incidents: incidents of other entities
// that the findings of either one name (an IP and the accounts it
// touched), overlapping in time. Different rules are independent evidence
// and combine; context and linked incidents count half. Incidents are
// ranked by the band of their severity, then risk, then number of
// findings, then entity and start.
package correlate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"time"

	"winnow/internal/event"
)

// Config tunes the correlator. The zero value uses the defaults.
type Config struct {
	// Gap joins a finding to an incident of its entity when their time
	// ranges come this close (default DefaultGap).
	Gap time.Duration
	// ContextBelow: findings below this severity are context (default
	// event.SeverityMedium). 1 makes every finding a reason.
	ContextBelow int
	// PerRule is how many findings of one rule an incident keeps as
	// evidence, strongest first (default 3). All are counted.
	PerRule int
	// MaxRelated caps an incident's related entities (default 64).
	MaxRelated int
	// MaxIncidents caps the incidents held (default 100,000). Beyond it the
	// incident that ended first is dropped (see Correlator.Dropped).
	MaxIncidents int
}

// Defaults.
const (
	DefaultGap = 4 * time.Hour
	// LinkWeight discounts a linked incident's own risk and context.
	LinkWeight = 0.5
	// maxKeys caps the finding IDs an incident remembers for redelivery.
	maxKeys = 1 << 14
)

func (c Config) withDefaults() Config {
	if c.Gap <= 0 {
		c.Gap = DefaultGap
	}
	if c.ContextBelow <= 0 {
		c.ContextBelow = event.SeverityMedium
	}
	if c.PerRule <= 0 {
		c.PerRule = 3
	}
	if c.MaxRelated <= 0 {
		c.MaxRelated = 64
	}
	if c.MaxIncidents <= 0 {
		c.MaxIncidents = 100_000
	}
	return c
}

// FindingID is a finding's stable identity: a hash of its rule, entity and
// start time (16 hex digits). The same finding reported again, even with a
// later end and larger counts, has the same ID.
func FindingID(a *event.Alert) string {
	h := sha256.New()
	h.Write([]byte(a.Rule))
	h.Write([]byte{0, byte(a.Entity.Type), 0})
	h.Write([]byte(a.Entity.Value))
	var b [9]byte
	binary.BigEndian.PutUint64(b[1:], uint64(a.Start.UnixNano()))
	h.Write(b[:])
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:8])
}

// Correlator builds incidents from a stream of findings. It is safe for
// concurrent use: detectors' shards may call Add from their goroutines.
type Correlator struct {
	cfg     Config
	mu      sync.Mutex
	byEnt   map[event.Entity][]*incident
	n       int
	seq     int64
	dropped int64
}

// incident is an incident being built.
type incident struct {
	inc   event.Incident
	role  string // the entity's infrastructure role, when a finding named one
	seq   int64  // opening order, for deterministic tie-breaks
	rules map[string]*ruleAcc
	keys  map[string]struct{}
	rel   map[event.Entity]struct{}
}

// ruleAcc is one rule's findings in an incident.
type ruleAcc struct {
	count int
	best  float64 // strongest weight
	sev   int     // highest severity
	kept  []event.Alert
	ids   []string // FindingID of kept
}

// New returns an empty correlator.
func New(cfg Config) *Correlator {
	return &Correlator{cfg: cfg.withDefaults(), byEnt: map[event.Entity][]*incident{}}
}

// Add folds a finding in and returns a copy of the incident it opened or
// updated, and whether it opened it. The Alert is handed over.
func (c *Correlator) Add(a event.Alert) (event.Incident, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, created := c.add(a)
	return in.snapshot(c.cfg), created
}

// Len is the number of incidents held.
func (c *Correlator) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Dropped is the number of incidents dropped because MaxIncidents was
// reached.
func (c *Correlator) Dropped() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

func (c *Correlator) add(a event.Alert) (*incident, bool) {
	id := FindingID(&a)
	list := c.byEnt[a.Entity]
	var hits []*incident
	for _, in := range list {
		if _, dup := in.keys[id]; dup {
			in.redeliver(id, a, c.cfg)
			return in, false
		}
		if !a.Start.After(in.inc.End.Add(c.cfg.Gap)) && !a.End.Before(in.inc.Start.Add(-c.cfg.Gap)) {
			hits = append(hits, in)
		}
	}
	if len(hits) == 0 {
		if c.n >= c.cfg.MaxIncidents {
			c.evict()
		}
		c.seq++
		in := &incident{seq: c.seq, rules: map[string]*ruleAcc{}, keys: map[string]struct{}{},
			rel: map[event.Entity]struct{}{}}
		in.inc.ID = id
		in.inc.Entity = a.Entity
		in.inc.Start, in.inc.End = a.Start, a.End
		in.fold(id, a, c.cfg)
		c.byEnt[a.Entity] = append(c.byEnt[a.Entity], in)
		c.n++
		return in, true
	}
	keep := hits[0]
	for _, h := range hits[1:] {
		if h.inc.Start.Before(keep.inc.Start) || (h.inc.Start.Equal(keep.inc.Start) && h.seq < keep.seq) {
			keep = h
		}
	}
	for _, h := range hits {
		if h != keep {
			keep.merge(h, c.cfg)
			c.remove(h)
		}
	}
	keep.fold(id, a, c.cfg)
	return keep, false
}

func (c *Correlator) remove(h *incident) {
	list := c.byEnt[h.inc.Entity]
	for i, x := range list {
		if x == h {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(c.byEnt, h.inc.Entity)
	} else {
		c.byEnt[h.inc.Entity] = list
	}
	c.n--
}

// evict drops the tenth of the incidents that ended first (in one pass,
// so a flood of new entities costs O(log n) per incident, not O(n)).
func (c *Correlator) evict() {
	all := make([]*incident, 0, c.n)
	for _, list := range c.byEnt {
		all = append(all, list...)
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].inc.End.Equal(all[j].inc.End) {
			return all[i].inc.End.Before(all[j].inc.End)
		}
		return all[i].seq < all[j].seq
	})
	for _, in := range all[:max(1, len(all)/10)] {
		c.remove(in)
		c.dropped++
	}
}

// Expire removes and returns the incidents that ended more than Gap before
// t: no finding at or after t can join them. A live run calls it as its
// watermark advances; the returned incidents are final.
func (c *Correlator) Expire(t time.Time) []event.Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*incident
	for _, list := range c.byEnt {
		for _, in := range list {
			if in.inc.End.Add(c.cfg.Gap).Before(t) {
				out = append(out, in)
			}
		}
	}
	for _, in := range out {
		c.remove(in)
	}
	return c.rank(out)
}

// Snapshot returns every incident held, ranked, as copies.
func (c *Correlator) Snapshot() []event.Incident {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := make([]*incident, 0, c.n)
	for _, list := range c.byEnt {
		all = append(all, list...)
	}
	return c.rank(all)
}

// Build is the batch form: it folds alerts in a deterministic order (by
// end, the order a live run emits them in, then start, rule and entity)
// into a new correlator. Its Snapshot does not depend on the order of
// alerts.
func Build(alerts []event.Alert, cfg Config) *Correlator {
	sorted := make([]event.Alert, len(alerts))
	copy(sorted, alerts)
	sort.SliceStable(sorted, func(i, j int) bool { return arrivalLess(&sorted[i], &sorted[j]) })
	c := New(cfg)
	for _, a := range sorted {
		c.add(a)
	}
	return c
}

// IncidentOf returns the ID of the incident a finding joined ("" if it
// is not held).
func (c *Correlator) IncidentOf(a *event.Alert) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := FindingID(a)
	var cover *incident
	for _, in := range c.byEnt[a.Entity] {
		if _, ok := in.keys[id]; ok {
			return in.inc.ID
		}
		if !a.Start.Before(in.inc.Start) && !a.End.After(in.inc.End) {
			cover = in
		}
	}
	if cover != nil {
		return cover.inc.ID
	}
	return ""
}

func arrivalLess(a, b *event.Alert) bool {
	if !a.End.Equal(b.End) {
		return a.End.Before(b.End)
	}
	if !a.Start.Equal(b.Start) {
		return a.Start.Before(b.Start)
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	if a.Entity != b.Entity {
		return a.Entity.String() < b.Entity.String()
	}
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	return a.Description < b.Description
}

// ---- building one incident ----

func weight(a *event.Alert) float64 { return clamp01(a.Score) * float64(a.Severity) / 100 }

func (in *incident) fold(id string, a event.Alert, cfg Config) {
	if len(in.keys) < maxKeys {
		in.keys[id] = struct{}{}
	}
	in.inc.Count++
	in.inc.Version++
	if a.Role != "" {
		in.role = a.Role
	}
	in.extend(a.Start, a.End)
	in.relate(&a, cfg)
	r := in.rules[a.Rule]
	if r == nil {
		r = &ruleAcc{}
		in.rules[a.Rule] = r
	}
	r.count++
	r.keep(id, a, cfg.PerRule)
}

// redeliver replaces a finding seen before (same ID) by its new copy.
func (in *incident) redeliver(id string, a event.Alert, cfg Config) {
	r := in.rules[a.Rule]
	if r == nil {
		return
	}
	for i, k := range r.ids {
		if k == id {
			r.kept = append(r.kept[:i], r.kept[i+1:]...)
			r.ids = append(r.ids[:i], r.ids[i+1:]...)
			break
		}
	}
	in.extend(a.Start, a.End)
	in.relate(&a, cfg)
	r.keep(id, a, cfg.PerRule)
	in.inc.Version++
}

func (in *incident) extend(s, e time.Time) {
	if s.Before(in.inc.Start) {
		in.inc.Start = s
	}
	if e.After(in.inc.End) {
		in.inc.End = e
	}
}

func (in *incident) relate(a *event.Alert, cfg Config) {
	add := func(e event.Entity) {
		if e.IsZero() || e.Value == "" || e == in.inc.Entity || len(in.rel) >= cfg.MaxRelated {
			return
		}
		if _, ok := in.rel[e]; ok {
			return
		}
		in.rel[e] = struct{}{}
		in.inc.Related = append(in.inc.Related, e)
	}
	if a.SourceIP.IsValid() {
		add(event.Entity{Type: event.EntityIP, Value: a.SourceIP.String()})
	}
	if a.SourceHost != "" {
		add(event.Entity{Type: event.EntityHost, Value: a.SourceHost})
	}
	if a.User != "" {
		add(event.Entity{Type: event.EntityUser, Value: a.User})
	}
	for _, e := range a.Related {
		add(e)
	}
}

// keep records a finding of the rule, keeping the strongest n.
func (r *ruleAcc) keep(id string, a event.Alert, n int) {
	if w := weight(&a); w > r.best {
		r.best = w
	}
	if a.Severity > r.sev {
		r.sev = a.Severity
	}
	i := sort.Search(len(r.kept), func(i int) bool { return findingLess(&a, &r.kept[i]) })
	if i >= n {
		return
	}
	r.kept = append(r.kept, event.Alert{})
	copy(r.kept[i+1:], r.kept[i:])
	r.kept[i] = a
	r.ids = append(r.ids, "")
	copy(r.ids[i+1:], r.ids[i:])
	r.ids[i] = id
	if len(r.kept) > n {
		r.kept, r.ids = r.kept[:n], r.ids[:n]
	}
}

func (in *incident) merge(o *incident, cfg Config) {
	if o.role != "" {
		in.role = o.role
	}
	in.inc.Merged = append(in.inc.Merged, o.inc.ID)
	in.inc.Merged = append(in.inc.Merged, o.inc.Merged...)
	in.inc.Count += o.inc.Count
	in.inc.Version += o.inc.Version
	in.extend(o.inc.Start, o.inc.End)
	for k := range o.keys {
		if len(in.keys) < maxKeys {
			in.keys[k] = struct{}{}
		}
	}
	for _, e := range o.inc.Related {
		if _, ok := in.rel[e]; !ok && e != in.inc.Entity && len(in.rel) < cfg.MaxRelated {
			in.rel[e] = struct{}{}
			in.inc.Related = append(in.inc.Related, e)
		}
	}
	for rule, or := range o.rules {
		r := in.rules[rule]
		if r == nil {
			in.rules[rule] = or
			continue
		}
		r.count += or.count
		for i := range or.kept {
			r.keep(or.ids[i], or.kept[i], cfg.PerRule)
		}
	}
}

// roleExplains lists, per infrastructure role, the rule prefixes whose
// findings about the entity are its clients' activity: they become
// context of its incident, not reasons.
var roleExplains = map[string][]string{
	event.RoleDNSResolver: {"dns.", "series.dns"},
}

// weak says whether the rule's findings are context: below ContextBelow,
// or explained by the entity's role.
func (in *incident) weak(name string, r *ruleAcc, cfg Config) bool {
	return r.sev < cfg.ContextBelow || in.demoted(name, r)
}

func (in *incident) demoted(name string, r *ruleAcc) bool {
	if in.role == "" || r.kept[0].Role != "" {
		return false
	}
	for _, p := range roleExplains[in.role] {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// strong says whether some rule is a reason in its own right.
func (in *incident) strong(cfg Config) bool {
	for name, r := range in.rules {
		if !in.weak(name, r, cfg) {
			return true
		}
	}
	return false
}

// snapshot renders the incident's public value (without links: rank adds
// them). The copy shares nothing mutable with the correlator.
func (in *incident) snapshot(cfg Config) event.Incident {
	out := in.inc
	out.Related = append([]event.Entity(nil), in.inc.Related...)
	out.Merged = append([]string(nil), in.inc.Merged...)
	out.Linked = nil
	out.Reasons, out.Context, out.Findings = nil, nil, nil
	out.Severity = 0
	names := make([]string, 0, len(in.rules))
	for name := range in.rules {
		names = append(names, name)
	}
	sort.Strings(names)
	strong := in.strong(cfg)
	for _, name := range names {
		r := in.rules[name]
		best := r.kept[0]
		reason := event.Reason{Rule: name, Severity: r.sev, Score: best.Score, Count: r.count,
			Description: best.Description, Start: best.Start, End: best.End}
		// With a reason in its own right, weak rules are context; without
		// one, the weak rules are the reasons, except those the entity's
		// role explains.
		if (strong && in.weak(name, r, cfg)) || (!strong && in.demoted(name, r)) {
			out.Context = append(out.Context, reason)
		} else {
			out.Reasons = append(out.Reasons, reason)
			out.Severity = max(out.Severity, r.sev)
		}
		out.Findings = append(out.Findings, r.kept...)
	}
	sort.SliceStable(out.Reasons, func(i, j int) bool { return reasonLess(&out.Reasons[i], &out.Reasons[j]) })
	sort.SliceStable(out.Context, func(i, j int) bool { return reasonLess(&out.Context[i], &out.Context[j]) })
	sort.SliceStable(out.Findings, func(i, j int) bool { return findingLess(&out.Findings[i], &out.Findings[j]) })
	out.Risk = in.own(cfg)
	return out
}

// own is the incident's risk from its own findings and context.
func (in *incident) own(cfg Config) float64 {
	strong := in.strong(cfg)
	rest := 1.0
	for name, r := range in.rules {
		w := r.best
		if (strong && in.weak(name, r, cfg)) || (!strong && in.demoted(name, r)) {
			w *= LinkWeight
		}
		rest *= 1 - w
	}
	return 1 - rest
}

// ---- ranking and links ----

// rank snapshots the incidents, links them and sorts them.
func (c *Correlator) rank(list []*incident) []event.Incident {
	out := make([]event.Incident, len(list))
	own := make([]float64, len(list))
	for i, in := range list {
		out[i] = in.snapshot(c.cfg)
		own[i] = out[i].Risk
	}
	c.link(list, out, own)
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		return rankLess(&out[idx[a]], &out[idx[b]], list[idx[a]].seq, list[idx[b]].seq)
	})
	sorted := make([]event.Incident, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted
}

// link connects incidents I and L of different entities when one names the
// other's entity and their time ranges come within Gap; each one's risk
// then takes half of the other's own risk.
func (c *Correlator) link(list []*incident, out []event.Incident, own []float64) {
	at := map[event.Entity][]int{}
	for i, in := range list {
		at[in.inc.Entity] = append(at[in.inc.Entity], i)
	}
	links := make([]map[int]bool, len(list))
	for i, in := range list {
		for _, e := range in.inc.Related {
			for _, j := range at[e] {
				if !near(&out[i], &out[j], c.cfg.Gap) {
					continue
				}
				if links[i] == nil {
					links[i] = map[int]bool{}
				}
				if links[j] == nil {
					links[j] = map[int]bool{}
				}
				links[i][j], links[j][i] = true, true
			}
		}
	}
	for i := range out {
		if len(links[i]) == 0 {
			continue
		}
		rest := 1 - own[i]
		seen := map[event.Entity]bool{}
		for j := range links[i] {
			rest *= 1 - LinkWeight*own[j]
			if e := out[j].Entity; !seen[e] {
				seen[e] = true
				out[i].Linked = append(out[i].Linked, e)
			}
		}
		out[i].Risk = 1 - rest
		sort.Slice(out[i].Linked, func(a, b int) bool { return out[i].Linked[a].String() < out[i].Linked[b].String() })
	}
}

func near(a, b *event.Incident, gap time.Duration) bool {
	return !a.Start.After(b.End.Add(gap)) && !b.Start.After(a.End.Add(gap))
}

// Band maps a severity to its band, 0 (info) to 4 (critical).
func Band(sev int) int {
	switch {
	case sev >= event.SeverityCritical:
		return 4
	case sev >= event.SeverityHigh:
		return 3
	case sev >= event.SeverityMedium:
		return 2
	case sev >= event.SeverityLow:
		return 1
	}
	return 0
}

func rankLess(a, b *event.Incident, sa, sb int64) bool {
	if ba, bb := Band(a.Severity), Band(b.Severity); ba != bb {
		return ba > bb
	}
	if a.Risk != b.Risk {
		return a.Risk > b.Risk
	}
	if a.Count != b.Count {
		return a.Count > b.Count
	}
	if a.Entity != b.Entity {
		return a.Entity.String() < b.Entity.String()
	}
	if !a.Start.Equal(b.Start) {
		return a.Start.Before(b.Start)
	}
	return sa < sb
}

func reasonLess(a, b *event.Reason) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if wa, wb := clamp01(a.Score)*float64(a.Severity), clamp01(b.Score)*float64(b.Severity); wa != wb {
		return wa > wb
	}
	if !a.Start.Equal(b.Start) {
		return a.Start.Before(b.Start)
	}
	return a.Rule < b.Rule
}

func findingLess(a, b *event.Alert) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	if wa, wb := weight(a), weight(b); wa != wb {
		return wa > wb
	}
	if !a.Start.Equal(b.Start) {
		return a.Start.Before(b.Start)
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	if !a.End.Equal(b.End) {
		return a.End.Before(b.End)
	}
	return a.Description < b.Description
}

func clamp01(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}
