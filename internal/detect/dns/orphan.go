package dns

import (
	"fmt"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// dns.orphan: a client whose queries go unanswered (or whose answers it
// never uses) far more than normal: malware beaconing to sinkholed or
// taken-down domains, DNS used as a one-way channel, scanners. Orphans
// are marked by the decoder (event.DNS.Orphan): no response within the
// matching timeout, or — in captures that show the client's other
// traffic — an answer whose addresses the client never contacted.

var orphanTechniques = []string{"T1071.004"}

func orphanSpec() detect.Spec {
	return detect.Spec{
		Name:       "dns.orphan",
		Summary:    "a client's DNS queries go unanswered, or their answers unused, far more than normal",
		Key:        detect.KeySourceIP,
		Kinds:      dnsKinds,
		Actions:    []event.Action{event.ActDNSQuery},
		Techniques: orphanTechniques,
		Params: []detect.Param{
			{Name: "episode_gap", Default: "1h", Doc: "a client's episode ends after this much event time without queries"},
			{Name: "min_unanswered", Default: "20", Doc: "unanswered queries needed; resolvers answer nearly everything, a few timeouts are normal"},
			{Name: "min_unanswered_share", Default: "0.05", Doc: "share of the client's queries that went unanswered (a healthy client loses well under 1%)"},
			{Name: "min_unused", Default: "50", Doc: "answered queries whose addresses the client never contacted (captures with other traffic only)"},
			{Name: "min_unused_share", Default: "0.6", Doc: "share of the client's answered address lookups left unused; browsers prefetch, so this is high"},
			paramMaxEntities, paramSamples,
		},
		New: newOrphan,
	}
}

type orphanState struct {
	queries, answered  int64
	unanswered, unused int64
	addrLookups        int64 // answered A/AAAA queries (unused is a share of these)
	unansDoms          counter
	unusedDoms         counter
	unusedSmp          samples // evidence of unused answers (e.smp holds unanswered ones)
}

type orphan struct {
	eps                     *episodes[orphanState]
	minUnans, minUnused     int
	unansShare, unusedShare float64
	samples                 int
}

func newOrphan(p detect.Params) (detect.Detector, error) {
	ns, err := ints(p, "max_entities", "samples", "min_unanswered", "min_unused")
	if err != nil {
		return nil, err
	}
	ds, err := durations(p, "episode_gap")
	if err != nil {
		return nil, err
	}
	a, err := unitFloat(p, "min_unanswered_share")
	if err != nil {
		return nil, err
	}
	b, err := unitFloat(p, "min_unused_share")
	if err != nil {
		return nil, err
	}
	d := &orphan{minUnans: ns[2], minUnused: ns[3], unansShare: a, unusedShare: b, samples: ns[1]}
	d.eps = newEpisodes(ns[0], ds[0], d.end)
	return d, nil
}

func (d *orphan) Observe(ev *event.Event, emit detect.Emit) {
	x := ev.DNS
	if x == nil || !ev.SrcIP.IsValid() {
		return
	}
	e := d.eps.touch(ipKey(ev), ev.Time, emit)
	s := &e.v
	s.queries++
	if x.Answered {
		s.answered++
		if x.QType == "A" || x.QType == "AAAA" {
			s.addrLookups++
		}
	}
	switch x.Orphan {
	case event.OrphanUnanswered:
		s.unanswered++
		s.unansDoms.add(x.Registered, 1, 256)
		e.smp.add(ev, d.samples)
	case event.OrphanUnused:
		s.unused++
		s.unusedDoms.add(x.Registered, 1, 256)
		s.unusedSmp.add(ev, d.samples)
	}
}

func (d *orphan) Advance(t time.Time, emit detect.Emit) { d.eps.advance(t, emit) }
func (d *orphan) Flush(emit detect.Emit)                { d.eps.flush(emit) }
func (d *orphan) Stats() detect.Stats                   { return d.eps.stats() }

func (d *orphan) end(key string, e *ep[orphanState], emit detect.Emit) {
	s := &e.v
	unans := s.unanswered >= int64(d.minUnans) && float64(s.unanswered) >= d.unansShare*float64(s.queries)
	unused := s.unused >= int64(d.minUnused) && s.addrLookups > 0 && float64(s.unused) >= d.unusedShare*float64(s.addrLookups)
	if !unans && !unused {
		return
	}
	ip := ipOfKey(key)
	a := base("dns.orphan", orphanTechniques, event.Entity{Type: event.EntityIP, Value: ip}, e)
	a.SourceIP = mustAddr(ip)
	doms := &s.unansDoms
	if !unans {
		doms = &s.unusedDoms
		e.smp = s.unusedSmp
	}
	top := doms.top(10)
	a.Related = domainEntities(keys(top[:min(3, len(top))]))
	a.Severity = event.SeverityLow
	if unans {
		a.Severity = event.SeverityMedium
		a.Score = strength(float64(s.unanswered), float64(d.minUnans))
	} else {
		a.Score = strength(float64(s.unused), float64(d.minUnused))
	}
	a.Evidence = map[string]any{
		"queries":              s.queries,
		"unanswered":           s.unanswered,
		"unanswered_share":     round2(float64(s.unanswered) / float64(s.queries)),
		"unused_answers":       s.unused,
		"answered_addr_lookup": s.addrLookups,
		"orphan_domains":       top,
		"orphan_domain_count":  doms.distinct(),
		"min_unanswered":       d.minUnans,
		"min_unused":           d.minUnused,
	}
	what := fmt.Sprintf("%d of %d queries unanswered", s.unanswered, s.queries)
	if !unans {
		what = fmt.Sprintf("%d of %d answered address lookups never followed by traffic", s.unused, s.addrLookups)
	}
	dom := ""
	if len(top) > 0 {
		dom = fmt.Sprintf(", mostly under %s", top[0].Key)
	}
	a.Description = fmt.Sprintf("%s: %s (%s%s)", ip, what, plural(int64(doms.distinct()), "domain", "domains"), dom)
	emit(a)
}
