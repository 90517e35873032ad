package dns

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/axiomhq/hyperloglog"
	"golang.org/x/net/publicsuffix"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// dns.dga: a client resolving many algorithmically generated domains. Each
// registered domain the client asks for is scored by the DGA model
// (score.go); an infected host asks for dozens of DGA-looking domains, most
// of which do not exist (NXDOMAIN), and the few that resolve are its
// command-and-control servers. Names that cannot be registered (single
// labels, unknown top-level domains such as .lan or .local, reverse
// lookups) are not scored: browsers probe random single labels, and
// machine names on a LAN can look random.

var dgaTechniques = []string{"T1568.002"}

func dgaSpec() detect.Spec {
	return detect.Spec{
		Name:       "dns.dga",
		Summary:    "a client looks up many algorithmically generated (DGA) domains, most of them NXDOMAIN",
		Key:        detect.KeySourceIP,
		Kinds:      dnsKinds,
		Actions:    dnsActions,
		Techniques: dgaTechniques,
		Params: []detect.Param{
			{Name: "episode_gap", Default: "1h", Doc: "a client's episode ends after this much event time without DGA-looking lookups"},
			{Name: "min_domains", Default: "8", Doc: "distinct DGA-looking registered domains needed; malware tries dozens to hundreds, a benign host rarely hits more than one or two look-alikes"},
			{Name: "min_nxdomain", Default: "5", Doc: "of which NXDOMAIN (when responses are seen); 0 disables the condition for logs without responses"},
			{Name: "threshold", Default: "0", Doc: "DGA score (0–1) of a DGA-looking domain; 0 uses the model's shipped threshold (1% false positives on benign names)"},
			paramMaxEntities, paramSamples,
		},
		New: newDGA,
	}
}

type dgaDomain struct {
	score    float64
	nx, ok   int32
	queries  int32
	answered bool
}

type dgaState struct {
	all      *hyperloglog.Sketch // every registered domain asked for
	queries  int64
	nxAll    int64
	doms     map[string]*dgaDomain // DGA-looking ones (capped)
	overflow int64
}

type dgaDet struct {
	eps     *episodes[dgaState]
	m       *Model
	thr     float64
	minDom  int
	minNX   int
	samples int
	cache   *detect.Table[float64] // registered label → score
}

const maxDGADomains = 4096

func newDGA(p detect.Params) (detect.Detector, error) {
	ns, err := ints(p, "max_entities", "samples", "min_domains")
	if err != nil {
		return nil, err
	}
	minNX, err := p.Int("min_nxdomain")
	if err != nil || minNX < 0 {
		return nil, paramError("parameter min_nxdomain must be 0 or more")
	}
	ds, err := durations(p, "episode_gap")
	if err != nil {
		return nil, err
	}
	thr, err := p.Float("threshold")
	if err != nil || thr < 0 || thr >= 1 {
		return nil, paramError("parameter threshold must be in [0,1)")
	}
	m := sharedModel()
	if thr == 0 {
		thr = m.DGAThreshold()
	}
	d := &dgaDet{m: m, thr: thr, minDom: ns[2], minNX: minNX, samples: ns[1],
		cache: detect.NewTable[float64](1<<16, detect.TableOptions[float64]{})}
	d.eps = newEpisodes(ns[0], ds[0], d.end)
	return d, nil
}

// Scoreable says whether a registered domain can be a DGA domain: its
// public suffix is a listed one (not the default rule for unknown TLDs)
// and it is not a reverse-lookup zone.
func Scoreable(reg string) bool {
	if reg == "" || strings.IndexByte(reg, '.') < 0 || strings.HasSuffix(reg, ".arpa") {
		return false
	}
	ps, icann := publicsuffix.PublicSuffix(reg)
	return icann || strings.IndexByte(ps, '.') >= 0
}

// privateSuffix says whether a registered domain sits under a private
// (non-ICANN) public suffix of the list, such as cloudfront.net.
func privateSuffix(reg string) bool {
	ps, icann := publicsuffix.PublicSuffix(reg)
	return !icann && strings.IndexByte(ps, '.') >= 0
}

func (d *dgaDet) score(reg string, t time.Time) float64 {
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

func (d *dgaDet) Observe(ev *event.Event, emit detect.Emit) {
	x := ev.DNS
	if x == nil || !ev.SrcIP.IsValid() || !Scoreable(x.Registered) {
		return
	}
	sc := d.score(x.Registered, ev.Time)
	nx := x.Answered && x.RCode == "NXDOMAIN"
	if sc >= d.thr && !nx && privateSuffix(x.Registered) {
		// Under a platform's suffix (cloudfront.net, herokuapp.com,
		// ddns.net) names are chosen by the platform or its customers:
		// random-looking ones that resolve are normal. Only those that
		// do not exist are what a DGA on a dynamic-DNS provider leaves.
		sc = 0
	}
	if sc < d.thr {
		// Count the client's other lookups only while it has an open
		// episode (the share of DGA-looking domains is evidence).
		k := ev.SrcIP.As16()
		if e := d.eps.tab.GetBytes(k[:]); e != nil {
			if ev.Action == event.ActDNSQuery {
				e.v.queries++
				e.v.all.InsertHash(hashString(x.Registered))
			}
			if nx {
				e.v.nxAll++
			}
		}
		return
	}
	e := d.eps.touch(ipKey(ev), ev.Time, emit)
	s := &e.v
	if s.all == nil {
		s.all = hyperloglog.New14()
		s.doms = map[string]*dgaDomain{}
	}
	if ev.Action == event.ActDNSQuery {
		s.queries++
		s.all.InsertHash(hashString(x.Registered))
	}
	if nx {
		s.nxAll++
	}
	dd := s.doms[x.Registered]
	if dd == nil {
		if len(s.doms) >= maxDGADomains {
			s.overflow++
			return
		}
		dd = &dgaDomain{score: sc}
		s.doms[x.Registered] = dd
		e.smp.add(ev, d.samples)
	}
	if ev.Action == event.ActDNSQuery {
		dd.queries++
	}
	if x.Answered {
		dd.answered = true
		switch {
		case nx:
			dd.nx++
		case x.RCode == "NOERROR" && (x.AnswerCount > 0 || len(x.Answers) > 0):
			dd.ok++
		}
	}
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (d *dgaDet) Advance(t time.Time, emit detect.Emit) { d.eps.advance(t, emit) }
func (d *dgaDet) Flush(emit detect.Emit)                { d.eps.flush(emit) }
func (d *dgaDet) Stats() detect.Stats                   { return d.eps.stats() }

func (d *dgaDet) end(key string, e *ep[dgaState], emit detect.Emit) {
	s := &e.v
	n := int64(len(s.doms)) + s.overflow
	if n < int64(d.minDom) {
		return
	}
	var nxDoms, answered int64
	var resolved []string
	type sd struct {
		Name  string  `json:"name"`
		Score float64 `json:"score"`
		NX    bool    `json:"nxdomain"`
	}
	var list []sd
	for k, dd := range s.doms {
		if dd.answered {
			answered++
		}
		if dd.nx > 0 && dd.ok == 0 {
			nxDoms++
		}
		if dd.ok > 0 {
			resolved = append(resolved, k)
		}
		list = append(list, sd{k, round2(dd.score), dd.nx > 0 && dd.ok == 0})
	}
	// With responses, most DGA-looking domains must be NXDOMAIN: that is
	// what sets a DGA apart from a client that browses odd-looking names.
	if d.minNX > 0 && answered > 0 && (nxDoms < int64(d.minNX) || 2*nxDoms < answered) {
		return
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Score != list[j].Score {
			return list[i].Score > list[j].Score
		}
		return list[i].Name < list[j].Name
	})
	if len(list) > 10 {
		list = list[:10]
	}
	sort.Strings(resolved)
	ip := ipOfKey(key)
	a := base("dns.dga", dgaTechniques, event.Entity{Type: event.EntityIP, Value: ip}, e)
	a.SourceIP = mustAddr(ip)
	a.Score = strength(float64(n), float64(d.minDom))
	a.Severity = event.SeverityMedium
	if nxDoms >= int64(d.minNX) && answered > 0 {
		a.Severity = event.SeverityHigh
	}
	if len(resolved) > 0 && nxDoms >= int64(d.minNX) {
		a.Severity = event.SeverityCritical
	}
	a.Related = domainEntities(resolved[:min(len(resolved), 10)])
	distinct := int64(1)
	if s.all != nil {
		distinct = int64(s.all.Estimate())
	}
	a.Evidence = map[string]any{
		"dga_domains":          n,
		"dga_nxdomain_domains": nxDoms,
		"dga_answered_domains": answered,
		"resolved_dga_domains": resolved[:min(len(resolved), 20)],
		"distinct_domains":     distinct,
		"queries":              s.queries,
		"nxdomain_responses":   s.nxAll,
		"top_dga_domains":      list,
		"score_threshold":      round2(d.thr),
		"min_domains":          d.minDom,
	}
	res := ""
	if len(resolved) > 0 {
		res = fmt.Sprintf("; %d resolved (likely command and control: %s)", len(resolved), strings.Join(resolved[:min(3, len(resolved))], ", "))
	}
	nxText := "no responses seen"
	if answered > 0 {
		nxText = fmt.Sprintf("%d of %d answered ones NXDOMAIN", nxDoms, answered)
	}
	a.Description = fmt.Sprintf("%s looked up %d DGA-looking domains (%s)%s", ip, n, nxText, res)
	emit(a)
}
