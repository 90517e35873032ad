package dns

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// dns.dga_nxdomain: a client whose lookups of distinct non-existent
// registered domains add up to a DGA's, each weighed by how generated its
// name looks. A name alone cannot tell a word-list DGA ("journeyvalley",
// "brothernerveplace") from a real site; a host that asks for twenty such
// domains in a burst, none of which exists, can be told from one that
// mistypes an address now and then. This is the client-side evidence that
// carries to generators the name model never saw:
//
//   - NXDOMAIN bursts: every distinct registered domain the client asked
//     for that never resolved (and drew NXDOMAIN) adds
//     0.5 + min(1, score/threshold), from 0.5 for a word-like name to 1.5
//     for one the name model calls generated (see NXWeight);
//   - never-repeated names: a domain the client had already resolved
//     earlier in the episode, or asked for again after NXDOMAIN many times
//     (a misconfigured host retrying one name), adds nothing beyond once;
//   - short TTLs: a generated-looking domain that resolves with a TTL of
//     at most 5 minutes (fast-flux, fresh registrations) is the likely
//     command-and-control server and raises the severity.
//
// The evidence decays with a half-life (20 min), so what counts is a burst:
// a host that mistypes a few addresses an hour stays far below the bar
// however long it runs. The finding fires when the evidence reaches
// min_evidence (10: about seven generated-looking or twenty word-like
// non-existent domains within a few minutes). Clients that forward other hosts' queries (resolvers) see the
// NXDOMAINs of many users and are the dns.resolver detector's concern.

var dgaNXTechniques = []string{"T1568.002", "T1071.004"}

func dgaNXSpec() detect.Spec {
	return detect.Spec{
		Name:       "dns.dga_nxdomain",
		Summary:    "a client looks up a burst of distinct non-existent domains, weighed by how generated they look (DGA, including word-list generators)",
		Key:        detect.KeySourceIP,
		Kinds:      dnsKinds,
		Actions:    dnsActions,
		Techniques: dgaNXTechniques,
		Params: []detect.Param{
			{Name: "episode_gap", Default: "30m", Doc: "a client's episode ends after this much event time without a new non-existent domain"},
			{Name: "min_evidence", Default: "10", Doc: "evidence needed: each distinct non-existent registered domain adds 0.5 (word-like) to 1.5 (generated-looking)"},
			{Name: "half_life", Default: "20m", Doc: "the evidence halves over this much event time (a burst counts, a trickle of typos does not add up)"},
			{Name: "short_ttl", Default: "5m", Doc: "a generated-looking domain that resolves with at most this TTL is a likely command-and-control server"},
			{Name: "threshold", Default: "0", Doc: "DGA score (0–1) at which a name counts as generated; 0 uses the model's shipped threshold"},
			paramMaxEntities, paramSamples,
		},
		New: newDGANX,
	}
}

// NXWeight is the evidence one distinct non-existent registered domain
// adds: 0.5 for a name the model finds word-like, rising with its DGA
// score to 1.5 at the threshold and beyond.
func NXWeight(score, threshold float64) float64 {
	if threshold <= 0 {
		return 0.5
	}
	return 0.5 + min(1, score/threshold)
}

// maxNXDomains caps the domains kept per client episode.
const maxNXDomains = 1024

type nxDomain struct {
	Score    float64
	NX, OK   int32
	ShortTTL bool
}

type nxState struct {
	Doms     map[string]*nxDomain
	Overflow int64
	Evidence NXEvidence
	Peak     float64
	Queries  int64
}

// NXEvidence is a client's decaying evidence (see dns.dga_nxdomain).
type NXEvidence struct {
	E  float64 // at time At
	At int64   // unix nanoseconds
}

// Add adds w at time t (unix nanoseconds), decaying what was there with
// half-life h, and returns the new value.
func (x *NXEvidence) Add(t int64, w float64, h time.Duration) float64 {
	x.E = x.Value(t, h) + w
	if t > x.At {
		x.At = t
	}
	return x.E
}

// Value is the evidence at time t.
func (x *NXEvidence) Value(t int64, h time.Duration) float64 {
	if t <= x.At || x.E == 0 {
		return x.E
	}
	return x.E * math.Exp2(-float64(t-x.At)/float64(h))
}

type dgaNX struct {
	eps      *episodes[nxState]
	m        *Model
	thr      float64
	minEv    float64
	halfLife time.Duration
	shortTTL uint32
	samples  int
	cache    *detect.Table[float64] // registered domain → score
}

func newDGANX(p detect.Params) (detect.Detector, error) {
	ns, err := ints(p, "max_entities", "samples")
	if err != nil {
		return nil, err
	}
	ds, err := durations(p, "episode_gap", "short_ttl", "half_life")
	if err != nil {
		return nil, err
	}
	minEv, err := p.Float("min_evidence")
	if err != nil || !(minEv > 0) {
		return nil, paramError("parameter min_evidence must be above 0")
	}
	thr, err := p.Float("threshold")
	if err != nil || thr < 0 || thr >= 1 {
		return nil, paramError("parameter threshold must be in [0,1)")
	}
	m := sharedModel()
	if thr == 0 {
		thr = m.DGAThreshold()
	}
	d := &dgaNX{m: m, thr: thr, minEv: minEv, shortTTL: uint32(ds[1] / time.Second), halfLife: ds[2], samples: ns[1],
		cache: detect.NewTable[float64](1<<16, detect.TableOptions[float64]{})}
	d.eps = newEpisodes(ns[0], ds[0], d.end)
	return d, nil
}

func (d *dgaNX) score(reg string, t time.Time) float64 {
	if s := d.cache.Get(reg); s != nil {
		return *s
	}
	label := reg
	if ps, _ := publicsuffix.PublicSuffix(reg); len(reg) > len(ps)+1 {
		label = reg[:len(reg)-len(ps)-1]
	}
	v := d.m.DGAScore(label)
	s, _ := d.cache.Upsert(reg, t)
	*s = v
	return v
}

func (d *dgaNX) Observe(ev *event.Event, emit detect.Emit) {
	x := ev.DNS
	if x == nil || !ev.SrcIP.IsValid() || !x.Answered || !Scoreable(x.Registered) {
		return
	}
	nx := x.RCode == "NXDOMAIN"
	k := ipKey(ev)
	e := d.eps.tab.Get(k)
	if e == nil && !nx {
		return // an episode opens with a non-existent domain
	}
	if nx {
		e = d.eps.touch(k, ev.Time, emit)
	}
	s := &e.v
	if s.Doms == nil {
		s.Doms = map[string]*nxDomain{}
	}
	s.Queries++
	if !nx && x.RCode != "NOERROR" {
		return
	}
	dd := s.Doms[x.Registered]
	if dd == nil {
		sc := d.score(x.Registered, ev.Time)
		if !nx && sc < d.thr {
			return // a resolving word-like domain: ordinary browsing
		}
		if len(s.Doms) >= maxNXDomains {
			if nx {
				s.Overflow++
			}
			return
		}
		dd = &nxDomain{Score: sc}
		s.Doms[x.Registered] = dd
	}
	if nx {
		if dd.NX == 0 && dd.OK == 0 {
			s.Peak = max(s.Peak, s.Evidence.Add(ev.Time.UnixNano(), NXWeight(dd.Score, d.thr), d.halfLife))
			e.smp.add(ev, d.samples)
		}
		dd.NX++
		return
	}
	if dd.OK == 0 && dd.NX > 0 {
		// It exists after all.
		s.Evidence.Add(ev.Time.UnixNano(), -NXWeight(dd.Score, d.thr), d.halfLife)
		s.Evidence.E = max(0, s.Evidence.E)
	}
	dd.OK++
	if dd.Score >= d.thr {
		for _, a := range x.Answers {
			if (a.Type == "A" || a.Type == "AAAA") && a.TTL <= d.shortTTL {
				dd.ShortTTL = true
			}
		}
	}
}

func (d *dgaNX) Advance(t time.Time, emit detect.Emit) { d.eps.advance(t, emit) }
func (d *dgaNX) Flush(emit detect.Emit)                { d.eps.flush(emit) }
func (d *dgaNX) Stats() detect.Stats                   { return d.eps.stats() }

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *dgaNX) Snapshot(w *detect.SnapshotWriter) error { return d.eps.snapshot(w) }

// Restore reads them back (detect.Snapshotter).
func (d *dgaNX) Restore(r *detect.SnapshotReader) error { return d.eps.restore(r) }

var _ detect.Snapshotter = (*dgaNX)(nil)

func (d *dgaNX) end(key string, e *ep[nxState], emit detect.Emit) {
	s := &e.v
	if s.Peak < d.minEv {
		return
	}
	type nd struct {
		Name  string  `json:"name"`
		Score float64 `json:"score"`
	}
	var nxList []nd
	var c2 []string
	generated := 0
	for k, dd := range s.Doms {
		switch {
		case dd.NX > 0 && dd.OK == 0:
			nxList = append(nxList, nd{k, round2(dd.Score)})
			if dd.Score >= d.thr {
				generated++
			}
		case dd.OK > 0 && dd.Score >= d.thr && dd.ShortTTL:
			c2 = append(c2, k)
		}
	}
	sort.Slice(nxList, func(i, j int) bool {
		if nxList[i].Score != nxList[j].Score {
			return nxList[i].Score > nxList[j].Score
		}
		return nxList[i].Name < nxList[j].Name
	})
	sort.Strings(c2)
	ip := ipOfKey(key)
	a := base("dns.dga_nxdomain", dgaNXTechniques, event.Entity{Type: event.EntityIP, Value: ip}, e)
	a.SourceIP = mustAddr(ip)
	a.Score = strength(s.Peak, d.minEv)
	a.Severity = event.SeverityMedium
	if s.Peak >= 2*d.minEv {
		a.Severity = event.SeverityHigh
	}
	if len(c2) > 0 {
		a.Severity = event.SeverityCritical
		a.Related = domainEntities(c2[:min(len(c2), 10)])
	}
	top := nxList[:min(len(nxList), 10)]
	a.Evidence = map[string]any{
		"nxdomain_domains":           len(nxList) + int(s.Overflow),
		"generated_looking_nxdomain": generated,
		"peak_evidence":              round2(s.Peak),
		"min_evidence":               d.minEv,
		"score_threshold":            round2(d.thr),
		"top_nxdomain_domains":       top,
		"short_ttl_resolved":         c2[:min(len(c2), 20)],
		"responses":                  s.Queries,
	}
	names := make([]string, 0, 3)
	for _, n := range top[:min(3, len(top))] {
		names = append(names, n.Name)
	}
	res := ""
	if len(c2) > 0 {
		res = fmt.Sprintf("; %d generated-looking domains resolved with short TTLs (likely command and control: %s)",
			len(c2), strings.Join(c2[:min(3, len(c2))], ", "))
	}
	a.Description = fmt.Sprintf("%s looked up %d distinct non-existent domains (%d of them generated-looking, e.g. %s)%s",
		ip, len(nxList)+int(s.Overflow), generated, strings.Join(names, ", "), res)
	emit(a)
}
