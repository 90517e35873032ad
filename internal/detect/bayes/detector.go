package bayes

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// Spec returns the pipeline detector "bayes.<kind>" that scores every
// event of the model's kind with m and reports, per entity (the client
// address for HTTP and DNS; the source address, else the account, else the
// host for auth), the events the model calls bad, with the tokens that
// drove the verdicts. m must not be trained while the detector runs; it is
// compiled here and shared read-only by every shard.
func Spec(m *Model) detect.Spec {
	m.Compile()
	s := detect.Spec{
		Name: "bayes." + m.Kind.String(),
		Summary: fmt.Sprintf("trained Bayesian good/bad filter for %s events (threshold %.3f; validation AUC %.4f, TPR %.3f at FPR %.4f)",
			m.Kind, m.Threshold, m.Validation.AUC, m.Validation.TPR, m.Validation.FPR),
		Params: []detect.Param{
			{Name: "episode_gap", Default: "10m", Doc: "an entity's finding closes after this much event time without a bad event"},
			{Name: "min_events", Default: "1", Doc: "bad events an entity needs in an episode to be reported"},
			{Name: "threshold", Default: "model", Doc: "score (0–1) at or above which an event is bad; 'model' uses the cost-chosen threshold stored in the model"},
			{Name: "top_tokens", Default: "8", Doc: "tokens reported per finding (those that pushed the entity's events most towards bad)"},
			{Name: "samples", Default: "5", Doc: "evidence lines kept per finding"},
			{Name: "max_entities", Default: "20000", Doc: "entities with open episodes per shard; beyond it the least recently active is reported early and counted as shed"},
		},
		New: func(p detect.Params) (detect.Detector, error) { return newDetector(m, p) },
	}
	switch m.Kind {
	case KindHTTP:
		s.Key, s.Kinds, s.Techniques = detect.KeySourceIP, []event.Kind{event.KindHTTP}, []string{"T1190"}
	case KindDNS:
		s.Key, s.Kinds, s.Techniques = detect.KeySourceIP, []event.Kind{event.KindDNS}, []string{"T1071.004"}
	default:
		s.Key, s.Kinds, s.Techniques = detect.KeyHost, []event.Kind{event.KindAuth}, []string{"T1078", "T1110"}
	}
	return s
}

// Tokenise adds an event's tokens for the model kind k; ok is false when
// the event has nothing for that kind (e.g. an HTTP model and an auth
// event).
func (t *Tokens) Event(k Kind, ev *event.Event) bool {
	switch k {
	case KindHTTP:
		r, ok := HTTPFromEvent(ev)
		if !ok {
			return false
		}
		t.HTTP(&r)
	case KindAuth:
		if ev.Kind != event.KindAuth {
			return false
		}
		t.Auth(ev)
	case KindDNS:
		if ev.DNS == nil {
			return false
		}
		t.DNS(ev)
	default:
		return false
	}
	return true
}

type detector struct {
	m         *Model
	threshold float64
	gap       time.Duration
	minEvents int
	top       int
	samples   int
	tok       *Tokens
	verbose   *Tokens
	table     *detect.Table[episode]
	shedding  []pendingAlert

	// Familiarity, checked on every familiarEvery-th event: events
	// examined and those mostly made of tokens unknown to the model.
	events, examined, unfamiliar int64
}

// familiarEvery is the sampling interval of the familiarity check.
const familiarEvery = 8

type pendingAlert struct {
	key string
	ep  episode
}

// episode is an entity's run of bad events.
type episode struct {
	entity     event.Entity
	user       string
	srcIP      netip.Addr
	first      time.Time
	last       time.Time
	bad        int
	maxScore   float64
	sumScore   float64
	tokens     map[string]*tokenCount
	samples    []event.Sample
	eventIDs   []string
	otherUsers int
}

type tokenCount struct {
	n    int
	prob float64
}

// maxEpisodeTokens bounds the distinct tokens an episode tallies.
const maxEpisodeTokens = 64

// explainAll: an episode's first explainAll bad events are explained
// (their tokens tallied), later ones only at powers of two, so a flood of
// bad events costs one score each, not one explanation each.
const explainAll = 32

func newDetector(m *Model, p detect.Params) (detect.Detector, error) {
	d := &detector{m: m, threshold: m.Threshold, tok: NewTokens(), verbose: NewTokens()}
	d.verbose.Verbose = true
	var err error
	if d.gap, err = p.Duration("episode_gap"); err != nil {
		return nil, err
	}
	if d.minEvents, err = p.Int("min_events"); err != nil {
		return nil, err
	}
	if d.top, err = p.Int("top_tokens"); err != nil {
		return nil, err
	}
	if d.samples, err = p.Int("samples"); err != nil {
		return nil, err
	}
	max, err := p.Int("max_entities")
	if err != nil {
		return nil, err
	}
	if th := p.Strings("threshold"); len(th) == 1 && th[0] != "model" {
		if d.threshold, err = p.Float("threshold"); err != nil {
			return nil, err
		}
	}
	if d.gap <= 0 || d.minEvents < 1 || d.top < 0 || d.samples < 0 || max < 1 || !(d.threshold >= 0 && d.threshold <= 1) {
		return nil, fmt.Errorf("detector bayes.%s: episode_gap > 0, min_events ≥ 1, top_tokens ≥ 0, samples ≥ 0, max_entities ≥ 1 and threshold in [0, 1] are required", m.Kind)
	}
	d.table = detect.NewTable(max, detect.TableOptions[episode]{
		Shed: func(key string, v *episode) {
			d.shedding = append(d.shedding, pendingAlert{key: key, ep: *v})
		},
	})
	return d, nil
}

// entityOf names the entity an event's verdict is about.
func (d *detector) entityOf(ev *event.Event) event.Entity {
	if ev.SrcIP.IsValid() {
		return event.Entity{Type: event.EntityIP, Value: ev.SrcIP.String()}
	}
	if d.m.Kind == KindAuth && ev.User != "" {
		return event.Entity{Type: event.EntityUser, Value: ev.User}
	}
	if ev.Host != "" {
		return event.Entity{Type: event.EntityHost, Value: ev.Host}
	}
	return event.Entity{Type: event.EntityHost, Value: detect.Site(ev)}
}

func (d *detector) Observe(ev *event.Event, emit detect.Emit) {
	d.tok.Reset()
	if !d.tok.Event(d.m.Kind, ev) {
		return
	}
	if d.events++; d.events%familiarEvery == 1 {
		if u, n := d.m.Unknown(d.tok); n > 0 {
			d.examined++
			if 2*u > n {
				d.unfamiliar++
			}
		}
	}
	score := d.m.Score(d.tok)
	if score < d.threshold {
		return
	}
	ent := d.entityOf(ev)
	key := ent.String()
	ep, created := d.table.Upsert(key, ev.Time)
	d.flushShed(emit)
	if !created && ev.Time.Sub(ep.last) > d.gap { // the watermark has not closed it yet
		d.report(ep, emit)
		created = true
	}
	if created {
		*ep = episode{entity: ent, first: ev.Time, last: ev.Time, user: ev.User}
		ep.srcIP = ev.SrcIP
	}
	if ev.Time.Before(ep.first) {
		ep.first = ev.Time
	}
	if ev.Time.After(ep.last) {
		ep.last = ev.Time
	}
	ep.bad++
	ep.sumScore += score
	if score > ep.maxScore {
		ep.maxScore = score
	}
	if ev.User != "" && ev.User != ep.user {
		if ep.user == "" {
			ep.user = ev.User
		} else {
			ep.otherUsers++
		}
	}
	if len(ep.samples) < d.samples && (ep.bad&(ep.bad-1)) == 0 { // 1st, 2nd, 4th, … bad event
		ep.samples = append(ep.samples, sampleOf(ev))
	}
	if len(ep.eventIDs) < d.samples {
		ep.eventIDs = append(ep.eventIDs, fmt.Sprintf("%s:%d", ev.Ref.File, ev.Ref.Line))
	}
	if d.top > 0 && (ep.bad <= explainAll || ep.bad&(ep.bad-1) == 0) {
		d.verbose.Reset()
		d.verbose.Event(d.m.Kind, ev)
		if ep.tokens == nil {
			ep.tokens = make(map[string]*tokenCount, 8)
		}
		for _, c := range d.m.Explain(d.verbose, d.top, true) {
			k := c.Class + ":" + c.Token
			tc := ep.tokens[k]
			if tc == nil {
				if len(ep.tokens) >= maxEpisodeTokens {
					continue
				}
				tc = &tokenCount{prob: c.Prob}
				ep.tokens[k] = tc
			}
			tc.n++
		}
	}
}

func (d *detector) flushShed(emit detect.Emit) {
	for _, p := range d.shedding {
		ep := p.ep
		d.report(&ep, emit)
	}
	d.shedding = d.shedding[:0]
}

func (d *detector) Advance(t time.Time, emit detect.Emit) {
	d.table.Expire(t, d.gap, func(_ string, ep *episode) { d.report(ep, emit) })
}

func (d *detector) Flush(emit detect.Emit) {
	d.flushShed(emit)
	d.table.Drain(func(_ string, ep *episode) { d.report(ep, emit) })
}

func (d *detector) Stats() detect.Stats {
	st := d.table.Stats()
	st.Examined, st.Unfamiliar = d.examined, d.unfamiliar
	return st
}

// report emits an episode's finding if it has enough bad events.
func (d *detector) report(ep *episode, emit detect.Emit) {
	if ep.bad < d.minEvents {
		return
	}
	type kv struct {
		k string
		tokenCount
	}
	var toks []kv
	for k, v := range ep.tokens {
		toks = append(toks, kv{k, *v})
	}
	sort.Slice(toks, func(i, j int) bool {
		if toks[i].n != toks[j].n {
			return toks[i].n > toks[j].n
		}
		if toks[i].prob != toks[j].prob {
			return toks[i].prob > toks[j].prob
		}
		return toks[i].k < toks[j].k
	})
	if len(toks) > d.top {
		toks = toks[:d.top]
	}
	top := make([]string, 0, len(toks))
	names := make([]string, 0, len(toks))
	for _, t := range toks {
		top = append(top, fmt.Sprintf("%s (p=%.3f, in %d of the explained events)", t.k, t.prob, t.n))
		names = append(names, t.k)
	}
	what := map[Kind][2]string{KindHTTP: {"request", "requests"}, KindAuth: {"auth event", "auth events"},
		KindDNS: {"query", "queries"}}[d.m.Kind]
	noun := what[1]
	if ep.bad == 1 {
		noun = what[0]
	}
	mean := ep.sumScore / float64(ep.bad)
	desc := fmt.Sprintf("%d %s the %s model scores bad (max %.3f, threshold %.3f)", ep.bad, noun, d.m.Kind, ep.maxScore, d.threshold)
	if len(names) > 0 {
		desc += "; top tokens: " + strings.Join(names[:min(len(names), 4)], ", ")
	}
	sev := event.SeverityLow
	switch {
	case ep.bad >= 20 && ep.maxScore >= 0.99:
		sev = event.SeverityHigh
	case ep.bad >= 3 || ep.maxScore >= 0.99:
		sev = event.SeverityMedium
	}
	a := event.Alert{
		Rule:        "bayes." + d.m.Kind.String(),
		Description: desc,
		Entity:      ep.entity,
		Start:       ep.first,
		End:         ep.last,
		Severity:    sev,
		Score:       round(ep.maxScore, 4),
		Techniques:  specTechniques(d.m.Kind),
		SourceIP:    ep.srcIP,
		User:        ep.user,
		Evidence: map[string]any{
			"bad_events":     ep.bad,
			"max_score":      round(ep.maxScore, 4),
			"mean_score":     round(mean, 4),
			"threshold":      round(d.threshold, 4),
			"top_tokens":     top,
			"event_ids":      ep.eventIDs,
			"model_kind":     d.m.Kind.String(),
			"model_good":     d.m.Good,
			"model_bad":      d.m.Bad,
			"validation_auc": round(d.m.Validation.AUC, 4),
			"validation_fpr": round(d.m.Validation.FPR, 4),
		},
		Samples: ep.samples,
	}
	if ep.otherUsers > 0 {
		a.Evidence["other_user_events"] = ep.otherUsers
	}
	emit(a)
}

func specTechniques(k Kind) []string {
	switch k {
	case KindHTTP:
		return []string{"T1190"}
	case KindDNS:
		return []string{"T1071.004"}
	}
	return []string{"T1078", "T1110"}
}

func round(f float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}

// maxSampleText caps a kept line's text (bytes).
const maxSampleText = 240

func sampleOf(ev *event.Event) event.Sample {
	text := ""
	switch {
	case len(ev.Raw) > maxSampleText:
		text = string(ev.Raw[:maxSampleText]) + "…"
	case len(ev.Raw) > 0:
		text = string(ev.Raw)
	case ev.HTTP != nil:
		text = ev.HTTP.Method + " " + ev.HTTP.Path
		if ev.HTTP.Query != "" {
			text += "?" + ev.HTTP.Query
		}
		if len(text) > maxSampleText {
			text = text[:maxSampleText] + "…"
		}
	}
	return event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: text}
}

var _ detect.Detector = (*detector)(nil)
