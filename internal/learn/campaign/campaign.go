// Package campaign groups attacking entities into campaigns: sources that
// share tools, targets and timing — the same list of account names, the
// same paths probed, the same user agents, the same pace, the same /24 or
// network — are one actor (or one botnet) more often than not, and an
// analyst wants to see them as one. Each link between two members is
// explained by what they share.
//
// A Profile summarises one entity's behaviour in bounded memory; Similarity
// compares two; Cluster links the pairs similar enough and returns the
// connected groups (single linkage) with the attributes that bind them.
package campaign

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strings"
	"time"

	"winnow/internal/event"
	"winnow/internal/stablehash"
)

// Caps of a profile's sets: beyond them the set is represented by its
// MinHash signature only.
const (
	maxExact = 256
	maxUAs   = 16
	sigSize  = 64
)

// set is a set of strings kept exactly up to maxExact, with a MinHash
// signature (sigSize minima) of all of it.
type set struct {
	exact    map[uint64]string
	overflow bool
	n        int // distinct values seen (exact while not overflowed)
	sig      [sigSize]uint64
	init     bool
}

func (s *set) add(v string) {
	h := stablehash.Sum64(0xca3, v)
	if !s.init {
		for i := range s.sig {
			s.sig[i] = math.MaxUint64
		}
		s.init = true
	}
	if s.exact == nil {
		s.exact = make(map[uint64]string)
	}
	if _, ok := s.exact[h]; ok {
		return
	}
	for i := range s.sig {
		if x := mix(h, uint64(i)); x < s.sig[i] {
			s.sig[i] = x
		}
	}
	if len(s.exact) < maxExact {
		s.exact[h] = v
		s.n = len(s.exact)
		return
	}
	s.overflow = true
	s.n++ // an upper bound: repeats beyond the cap are not recognised
}

// mix derives the i-th hash of h (splitmix64 of h xor a per-index key).
func mix(h, i uint64) uint64 {
	x := h ^ (i+1)*0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// jaccard estimates |a ∩ b| / |a ∪ b|: exactly while both sets are exact,
// else from the MinHash signatures. Empty sets are not similar.
func jaccard(a, b *set) float64 {
	if a.n == 0 || b.n == 0 {
		return 0
	}
	if !a.overflow && !b.overflow {
		inter := 0
		small, big := a.exact, b.exact
		if len(small) > len(big) {
			small, big = big, small
		}
		for h := range small {
			if _, ok := big[h]; ok {
				inter++
			}
		}
		return float64(inter) / float64(len(a.exact)+len(b.exact)-inter)
	}
	eq := 0
	for i := range a.sig {
		if a.sig[i] == b.sig[i] {
			eq++
		}
	}
	return float64(eq) / sigSize
}

// shared returns up to n values in both sets (exact parts), sorted.
func shared(a, b *set, n int) (vals []string, count int) {
	for h, v := range a.exact {
		if _, ok := b.exact[h]; ok {
			count++
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	if len(vals) > n {
		vals = vals[:n]
	}
	return vals, count
}

// Failed reports whether an event is a failed attempt — what campaigns
// are made of: a failed or invalid-user login, or an HTTP request answered
// with an error status (4xx, 5xx).
func Failed(ev *event.Event) bool {
	if ev.HTTP != nil {
		return ev.HTTP.Status >= 400
	}
	return ev.Kind == event.KindAuth && (ev.Outcome == event.OutcomeFailure || ev.InvalidUser || ev.Action == event.ActInvalidUser)
}

// SetASN records the entity's autonomous system (from GeoIP).
func (p *Profile) SetASN(asn uint32) { p.ASN = asn }

// Profile is one entity's behaviour.
type Profile struct {
	Entity   string
	Prefix   netip.Prefix // the /24 (IPv4) or /48 (IPv6) of an address entity
	ASN      uint32       // 0 = unknown
	Events   int
	Failures int
	First    time.Time
	Last     time.Time
	names    set // account names tried
	paths    set // HTTP paths requested
	uas      map[string]int
	gaps     [gapBuckets]int // inter-event gaps, log2-second buckets
	hours    [24]int
	// Sample is the entity's first attempt (evidence).
	Sample event.Sample
}

const gapBuckets = 20

// NewProfile returns an empty profile of an entity; an address entity
// gets its prefix.
func NewProfile(entity string) *Profile {
	p := &Profile{Entity: entity}
	if a, err := netip.ParseAddr(entity); err == nil {
		a = a.Unmap()
		bitsLen := 24
		if a.Is6() {
			bitsLen = 48
		}
		p.Prefix, _ = a.Prefix(bitsLen)
	}
	return p
}

// Add adds one event of the entity (in time order).
func (p *Profile) Add(ev *event.Event) {
	if p.Events > 0 {
		g := ev.Time.Sub(p.Last).Seconds()
		b := 0
		if g >= 1 {
			b = min(gapBuckets-1, 1+bits.Len64(uint64(g)))
		}
		p.gaps[b]++
	} else {
		p.First = ev.Time
		p.Sample = event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: string(ev.Raw)}
	}
	if ev.Time.After(p.Last) {
		p.Last = ev.Time
	}
	p.Events++
	p.hours[ev.Time.UTC().Hour()]++
	if ev.Outcome == event.OutcomeFailure {
		p.Failures++
	}
	if ev.Kind == event.KindAuth && ev.User != "" {
		p.names.add(ev.User)
	}
	if h := ev.HTTP; h != nil {
		path := h.PathDecoded
		if path == "" {
			path = h.Path
		}
		if path != "" {
			p.paths.add(path)
		}
		if ua := h.UserAgent; ua != "" && ua != "-" {
			if p.uas == nil {
				p.uas = map[string]int{}
			}
			if _, ok := p.uas[ua]; ok || len(p.uas) < maxUAs {
				p.uas[ua]++
			}
		}
	}
}

// Names is the number of distinct account names the entity tried.
func (p *Profile) Names() int { return p.names.n }

// Paths is the number of distinct paths it requested.
func (p *Profile) Paths() int { return p.paths.n }

// medianGap is the bucket of the median inter-event gap (-1 = none).
func (p *Profile) medianGap() int {
	total := 0
	for _, c := range p.gaps {
		total += c
	}
	if total == 0 {
		return -1
	}
	run := 0
	for b, c := range p.gaps {
		run += c
		if 2*run >= total {
			return b
		}
	}
	return gapBuckets - 1
}

// Reason is one attribute two entities share, with its similarity (0–1).
type Reason struct {
	Attr  string   `json:"attribute"` // names, paths, user_agents, timing, prefix, asn
	Score float64  `json:"score"`
	Text  string   `json:"text"`             // "same 47-name account list (Jaccard 1.00)"
	Items []string `json:"shared,omitempty"` // some shared values
}

// Weights of the attributes in the combined similarity (noisy-OR): the
// content an attacker brings (names, paths) weighs most.
var weights = map[string]float64{"names": 1, "paths": 1, "user_agents": 0.5, "timing": 0.3, "prefix": 0.5, "asn": 0.3}

// minShared is how many account names or paths two entities must share
// for their lists to count as content in common (two users who each
// mistyped their own one name are not a campaign).
const minShared = 5

// contentJaccard is the overlap of two name or path lists that counts as
// the same list: high, because single linkage chains — two lists sharing
// half their names would let one campaign absorb the next.
const contentJaccard = 0.8

// Similarity compares two profiles: the combined score 1 − Π(1 − wᵢsᵢ)
// and the reasons, strongest first. content reports whether the account
// names or paths are shared (Jaccard ≥ 0.8 over at least 5 values):
// location, timing and user agents alone do not make a campaign.
func Similarity(a, b *Profile) (score float64, reasons []Reason, content bool) {
	add := func(attr string, s float64, text string, items []string) {
		if s <= 0 {
			return
		}
		reasons = append(reasons, Reason{Attr: attr, Score: math.Round(s*100) / 100, Text: text, Items: items})
	}
	if j := jaccard(&a.names, &b.names); j > 0 {
		items, n := shared(&a.names, &b.names, 8)
		if j >= contentJaccard && (n >= minShared || a.names.overflow && b.names.overflow) {
			content = true
		}
		text := fmt.Sprintf("%d account names in common of %d and %d (Jaccard %.2f)", n, a.names.n, b.names.n, j)
		if j >= 0.99 {
			text = fmt.Sprintf("the same %d-name account list", a.names.n)
		}
		add("names", j, text, items)
	}
	if j := jaccard(&a.paths, &b.paths); j > 0 {
		items, n := shared(&a.paths, &b.paths, 8)
		if j >= contentJaccard && (n >= minShared || a.paths.overflow && b.paths.overflow) {
			content = true
		}
		text := fmt.Sprintf("%d paths in common of %d and %d (Jaccard %.2f)", n, a.paths.n, b.paths.n, j)
		if j >= 0.99 {
			text = fmt.Sprintf("the same %d paths", a.paths.n)
		}
		add("paths", j, text, items)
	}
	if len(a.uas) > 0 && len(b.uas) > 0 {
		var common []string
		for ua := range a.uas {
			if _, ok := b.uas[ua]; ok {
				common = append(common, ua)
			}
		}
		slices.Sort(common)
		j := float64(len(common)) / float64(len(a.uas)+len(b.uas)-len(common))
		if len(common) > 0 {
			add("user_agents", j, fmt.Sprintf("%d user agents in common (Jaccard %.2f)", len(common), j), common[:min(len(common), 3)])
		}
	}
	if ga, gb := a.medianGap(), b.medianGap(); ga >= 0 && gb >= 0 && a.Events >= 5 && b.Events >= 5 {
		d := ga - gb
		if d < 0 {
			d = -d
		}
		if d <= 1 {
			s := 1 - 0.5*float64(d)
			add("timing", s, fmt.Sprintf("the same pace (median gap %s and %s)", gapText(ga), gapText(gb)), nil)
		}
	}
	if a.Prefix.IsValid() && a.Prefix == b.Prefix {
		add("prefix", 1, "the same network "+a.Prefix.String(), nil)
	}
	if a.ASN != 0 && a.ASN == b.ASN {
		add("asn", 1, fmt.Sprintf("the same autonomous system AS%d", a.ASN), nil)
	}
	miss := 1.0
	for _, r := range reasons {
		miss *= 1 - weights[r.Attr]*r.Score
	}
	slices.SortStableFunc(reasons, func(x, y Reason) int {
		return cmp.Compare(weights[y.Attr]*y.Score, weights[x.Attr]*x.Score)
	})
	return 1 - miss, reasons, content
}

func gapText(b int) string {
	if b == 0 {
		return "< 1s"
	}
	lo := 1 << (b - 2)
	if b == 1 {
		return "1s"
	}
	return fmt.Sprintf("%d–%ds", lo, 2*lo)
}

// Options configure Cluster.
type Options struct {
	// Threshold is the combined similarity two members need (0.6).
	Threshold float64
	// MinEvents: entities with fewer events are not clustered (5).
	MinEvents int
	// MaxProfiles bounds the entities compared (O(n²) pairs; 3000): the
	// ones with most events are kept.
	MaxProfiles int
}

// Campaign is a group of entities linked by shared behaviour.
type Campaign struct {
	Members []string  `json:"members"` // by events, most first
	Events  int       `json:"events"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	// Reasons are what binds the group: per attribute, the weakest
	// similarity over the links that used it, and the text of the link
	// between the two largest members.
	Reasons []Reason `json:"reasons"`
	// Score is the weakest link's similarity.
	Score float64 `json:"score"`
	// Shared are the account names (or paths) every member tried.
	Shared []string `json:"shared,omitempty"`
	// Samples are the first attempts of the largest members.
	Samples []event.Sample `json:"samples,omitempty"`
}

// Cluster links every pair of profiles with similarity ≥ Threshold and a
// shared content attribute, and returns the groups of two or more, the
// largest first.
func Cluster(profiles []*Profile, o Options) []Campaign {
	if o.Threshold <= 0 {
		o.Threshold = 0.6
	}
	if o.MinEvents <= 0 {
		o.MinEvents = 5
	}
	if o.MaxProfiles <= 0 {
		o.MaxProfiles = 3000
	}
	var ps []*Profile
	for _, p := range profiles {
		if p.Events >= o.MinEvents {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b *Profile) int {
		if c := cmp.Compare(b.Events, a.Events); c != 0 {
			return c
		}
		return strings.Compare(a.Entity, b.Entity)
	})
	if len(ps) > o.MaxProfiles {
		ps = ps[:o.MaxProfiles]
	}
	parent := make([]int, len(ps))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	type link struct {
		i, j    int
		score   float64
		reasons []Reason
	}
	var links []link
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			s, rs, content := Similarity(ps[i], ps[j])
			if s < o.Threshold || !content {
				continue
			}
			links = append(links, link{i, j, s, rs})
			if ri, rj := find(i), find(j); ri != rj {
				parent[rj] = ri
			}
		}
	}
	groups := map[int][]int{}
	for i := range ps {
		r := find(i)
		groups[r] = append(groups[r], i)
	}
	var out []Campaign
	for root, idx := range groups {
		if len(idx) < 2 {
			continue
		}
		c := Campaign{Score: 1}
		for _, i := range idx {
			p := ps[i]
			c.Members = append(c.Members, p.Entity)
			if len(c.Samples) < 3 && p.Sample.Text != "" {
				c.Samples = append(c.Samples, p.Sample)
			}
			c.Events += p.Events
			if c.First.IsZero() || p.First.Before(c.First) {
				c.First = p.First
			}
			if p.Last.After(c.Last) {
				c.Last = p.Last
			}
		}
		weakest := map[string]Reason{}
		var lead []Reason
		for _, l := range links {
			if find(l.i) != root {
				continue
			}
			c.Score = math.Min(c.Score, l.score)
			if l.i == idx[0] && l.j == idx[1] || lead == nil {
				lead = l.reasons
			}
			for _, r := range l.reasons {
				if w, ok := weakest[r.Attr]; !ok || r.Score < w.Score {
					weakest[r.Attr] = r
				}
			}
		}
		c.Score = math.Round(c.Score*100) / 100
		for _, r := range lead {
			w := weakest[r.Attr]
			if w.Score < r.Score-0.005 {
				r.Text += fmt.Sprintf("; %.2f between the least alike linked members", w.Score)
			}
			r.Score = w.Score
			c.Reasons = append(c.Reasons, r)
		}
		c.Shared = common(ps, idx)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Campaign) int {
		if c := cmp.Compare(len(b.Members), len(a.Members)); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Events, a.Events); c != 0 {
			return c
		}
		return strings.Compare(a.Members[0], b.Members[0])
	})
	return out
}

// common returns the account names every member tried (or, for web
// campaigns, the paths), at most 50.
func common(ps []*Profile, idx []int) []string {
	pick := func(p *Profile) *set {
		if p.names.n > 0 {
			return &p.names
		}
		return &p.paths
	}
	first := pick(ps[idx[0]])
	var out []string
	for h, v := range first.exact {
		all := true
		for _, i := range idx[1:] {
			if _, ok := pick(ps[i]).exact[h]; !ok {
				all = false
				break
			}
		}
		if all {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	if len(out) > 50 {
		out = out[:50]
	}
	return out
}

// Describe renders a campaign in one sentence.
func (c *Campaign) Describe() string {
	var why []string
	for i, r := range c.Reasons {
		if i == 3 {
			break
		}
		why = append(why, r.Text)
	}
	members := c.Members
	more := ""
	if len(members) > 6 {
		more = fmt.Sprintf(" and %d more", len(members)-6)
		members = members[:6]
	}
	return fmt.Sprintf("%d sources act as one campaign (%d events): %s; members %s%s",
		len(c.Members), c.Events, strings.Join(why, "; "), strings.Join(members, ", "), more)
}
