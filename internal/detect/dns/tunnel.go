package dns

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/axiomhq/hyperloglog"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/stablehash"
)

// dns.tunnel: per registered domain, traffic whose names carry encoded
// data. Every query is scored on its own (TunnelScore: payload bits,
// label lengths, special bytes, case mixing, encoded shape, query type);
// the domain's episode adds up the queries, the distinct names (a
// HyperLogLog sketch), the encoded ones, the subdomain information, the
// bytes up and down, the rate, the share of never-repeated names and of
// query types that are rare in the network's mix, and is judged when it
// ends (DomainTunnel).

var tunnelTechniques = []string{"T1071.004", "T1572", "T1048"}

func tunnelSpec() detect.Spec {
	return detect.Spec{
		Name:       "dns.tunnel",
		Summary:    "names under one registered domain carry encoded data (DNS tunnel or exfiltration)",
		Key:        detect.KeyDomain,
		Kinds:      dnsKinds,
		Actions:    dnsActions,
		Techniques: tunnelTechniques,
		Params: []detect.Param{
			{Name: "episode_gap", Default: "30m", Doc: "a domain's episode ends after this much event time without queries; tunnels poll every few seconds"},
			{Name: "threshold", Default: "0.5", Doc: "domain tunnel score (0–1) at or above which a finding is made; 0.5 is even odds"},
			{Name: "allow", Default: DefaultAllow, Doc: "registered domains never reported (comma-separated): services that encode lookups in names by design (blocklists, antivirus, ad frames)"},
			paramMaxEntities, paramSamples,
		},
		New: newTunnel,
	}
}

type tunnelState struct {
	queries, responses int64
	encoded            int64
	scoreSum           float64
	encodedBits        float64 // subdomain surprisal of encoded names not seen in the recent window
	repeats            int64   // queries whose name was among the recent ones
	bytesUp, bytesDown int64
	nx                 int64
	typed, rare        int64
	distinct           *hyperloglog.Sketch
	recent             [64]uint64 // hashes of recent names (repeat detection)
	nrecent            int
	types              counter
	clients            counter      // queries per asking address
	servers            counter      // queries per server asked (resolvers, upstreams)
	encClients         counter      // encoded queries per asking address
	top                []scoredName // highest-scoring names
	maxTerms           map[string]float64
}

type scoredName struct {
	Name  string  `json:"name"`
	Score float64 `json:"score"`
}

type tunnel struct {
	eps     *episodes[tunnelState]
	m       *Model
	thr     float64
	samples int
	allow   map[string]bool
	mix     map[string]int64 // query types seen by this shard (the network's mix)
	mixN    int64
}

func newTunnel(p detect.Params) (detect.Detector, error) {
	ns, err := ints(p, "max_entities", "samples")
	if err != nil {
		return nil, err
	}
	ds, err := durations(p, "episode_gap")
	if err != nil {
		return nil, err
	}
	thr, err := unitFloat(p, "threshold")
	if err != nil {
		return nil, err
	}
	d := &tunnel{m: sharedModel(), thr: thr, samples: ns[1], allow: allowSet(strings.Join(p.Strings("allow"), ",")),
		mix: map[string]int64{}}
	d.eps = newEpisodes(ns[0], ds[0], d.end)
	return d, nil
}

func (d *tunnel) Observe(ev *event.Event, emit detect.Emit) {
	x := ev.DNS
	if x == nil || x.Registered == "" || d.allow[x.Registered] {
		return
	}
	if ev.Action == event.ActDNSQuery && x.QType != "" && d.mixN < 1<<62 {
		if _, ok := d.mix[x.QType]; ok || len(d.mix) < 256 {
			d.mix[x.QType]++
			d.mixN++
		}
	}
	e := d.eps.touch(x.Registered, ev.Time, emit)
	s := &e.v
	if x.Answered {
		s.bytesDown += int64(x.RespSize)
		if x.RCode == "NXDOMAIN" {
			s.nx++
		}
	}
	if ev.Action == event.ActDNSResponse {
		s.responses++ // the query was counted on its own line, or not seen
		return
	}
	s.queries++
	s.bytesUp += int64(x.QuerySize)
	if ev.SrcIP.IsValid() {
		s.clients.add(ev.SrcIP.String(), 1, 64)
	}
	if x.ServerIP.IsValid() {
		s.servers.add(x.ServerIP.String(), 1, 16)
	}
	if x.QType != "" {
		s.typed++
		s.types.add(x.QType, 1, 16)
		if RareType(x.QType) {
			s.rare++
		}
	}
	h := stablehash.String(x.Name)
	if s.distinct == nil {
		s.distinct = hyperloglog.New14()
	}
	s.distinct.InsertHash(h)
	repeat := false
	for i := 0; i < min(s.nrecent, len(s.recent)); i++ {
		if s.recent[i] == h {
			repeat = true
			break
		}
	}
	s.recent[s.nrecent%len(s.recent)] = h
	s.nrecent++
	if repeat {
		s.repeats++
		return
	}
	f := Analyze(d.m, x.Name)
	te := TunnelScore(&f, x.QType, false)
	s.scoreSum += te.Score
	if te.Stream >= TunnelThreshold {
		s.encoded++
		s.encodedBits += f.SubBits
		e.smp.add(ev, d.samples)
		if ev.SrcIP.IsValid() {
			s.encClients.add(ev.SrcIP.String(), 1, 64)
		}
	}
	d.keepTop(s, x.Name, te.Score, &f, x.QType)
}

// keepTop keeps the three highest-scoring names with the terms of the
// best one.
func (d *tunnel) keepTop(s *tunnelState, name string, score float64, f *Features, qtype string) {
	if len(s.top) == 3 && score <= s.top[2].Score {
		return
	}
	if len(name) > 120 {
		name = name[:120] + "…"
	}
	s.top = append(s.top, scoredName{name, round2(score)})
	sort.SliceStable(s.top, func(i, j int) bool { return s.top[i].Score > s.top[j].Score })
	if len(s.top) > 3 {
		s.top = s.top[:3]
	}
	if s.top[0].Name == name {
		s.maxTerms = TunnelScore(f, qtype, true).Terms
	}
}

func (d *tunnel) Advance(t time.Time, emit detect.Emit) { d.eps.advance(t, emit) }
func (d *tunnel) Flush(emit detect.Emit)                { d.eps.flush(emit) }
func (d *tunnel) Stats() detect.Stats                   { return d.eps.stats() }

// rareInMix: the share of the domain's typed queries whose type is under
// 5% of the network's queries.
func (d *tunnel) rareInMix(s *tunnelState) float64 {
	if s.typed == 0 || d.mixN == 0 {
		return 0
	}
	n := int64(0)
	for t, c := range s.types.m {
		if float64(d.mix[t]) < 0.05*float64(d.mixN) || (RareType(t) && float64(c) > 0.5*float64(d.mix[t])) {
			n += c
		}
	}
	return float64(n) / float64(s.typed)
}

// attribution splits the addresses that asked for the domain into the
// originating clients and the resolvers between them and the sensor: an
// address the domain's queries were also sent to re-asked them upstream.
// It returns the clients (busiest first), the resolvers, and the queries
// the resolvers' re-asking added.
func (s *tunnelState) attribution() (clients, resolvers []kv, relayed int64) {
	for _, c := range s.clients.top(64) {
		if _, isServer := s.servers.m[c.Key]; isServer {
			resolvers = append(resolvers, c)
			relayed += c.Count
			continue
		}
		clients = append(clients, c)
	}
	return clients, resolvers, relayed
}

func (d *tunnel) end(key string, e *ep[tunnelState], emit detect.Emit) {
	s := &e.v
	if s.queries == 0 {
		return
	}
	clients, resolvers, relayed := s.attribution()
	// The resolvers' re-asking repeats the clients' names: judge the
	// clients' traffic.
	queries := max(s.queries-relayed, 1)
	repeats := max(s.repeats-relayed, 0)
	scale := float64(queries) / float64(s.queries)
	bytesUp, bytesDown := int64(float64(s.bytesUp)*scale), int64(float64(s.bytesDown)*scale)
	distinct := int64(1)
	if s.distinct != nil {
		distinct = int64(min(s.distinct.Estimate(), uint64(queries)))
	}
	rare := d.rareInMix(s)
	stats := DomainStats{Queries: int(queries), Distinct: int(distinct), Encoded: int(s.encoded),
		EncodedBits: s.encodedBits, RareTypes: rare >= 0.5}
	score, terms := DomainTunnel(stats)
	if score < d.thr {
		return
	}
	mins := float64(e.last-e.start) / float64(time.Minute)
	if len(clients) > 10 {
		clients = clients[:10]
	}
	a := base("dns.tunnel", tunnelTechniques, event.Entity{Type: event.EntityDomain, Value: key}, e)
	a.Score = score
	a.Related = ipEntities(clients)
	if len(clients) > 0 {
		a.SourceIP = mustAddr(clients[0].Key)
	}
	a.Severity = event.SeverityHigh
	if bytesUp+bytesDown >= 1<<20 || s.encoded >= 1000 {
		a.Severity = event.SeverityCritical
	}
	share := float64(s.encoded) / float64(queries)
	a.Evidence = map[string]any{
		"queries":              queries,
		"responses_only":       s.responses,
		"distinct_names":       distinct,
		"never_repeated_share": round2(float64(queries-repeats) / float64(queries)),
		"encoded_queries":      s.encoded,
		"encoded_share":        round2(share),
		"mean_query_score":     round2(s.scoreSum / float64(max(s.queries-s.repeats, 1))),
		"encoded_bits":         int64(s.encodedBits),
		"bytes_up":             bytesUp,
		"bytes_down":           bytesDown,
		"nxdomain":             s.nx,
		"rare_type_share":      round2(rare),
		"query_types":          s.types.top(5),
		"clients":              keys(clients),
		"client_count":         s.clients.distinct() - len(resolvers),
		"duration_minutes":     round2(mins),
		"domain_score_terms":   terms,
		"top_names":            s.top,
		"top_name_terms":       s.maxTerms,
		"threshold":            d.thr,
	}
	if len(resolvers) > 0 {
		a.Evidence["resolvers"] = keys(resolvers)
		a.Evidence["relayed_queries"] = relayed
	}
	if mins >= 1 {
		a.Evidence["queries_per_minute"] = round2(float64(queries) / mins)
	}
	who := "no client address"
	if len(clients) > 0 {
		who = "from " + strings.Join(keys(clients[:min(3, len(clients))]), ", ")
		if n := len(clients); n > 3 {
			who += fmt.Sprintf(" and %d more", n-3)
		}
	}
	if len(resolvers) > 0 {
		who += " via resolver " + strings.Join(keys(resolvers[:min(2, len(resolvers))]), ", ")
	}
	a.Description = fmt.Sprintf("DNS tunnel suspected under %s: %s with %d distinct names, %d carrying encoded data (%.0f%%), %s up / %s down, %s (score %.2f)",
		key, plural(queries, "query", "queries"), distinct, s.encoded, 100*share, humanBytes(bytesUp), humanBytes(bytesDown), who, math.Round(score*100)/100)
	emit(a)
	d.clientFindings(key, e, a, clients, emit)
}

// clientFindings reports the tunnel on each client that carried a real
// part of it (a quarter of the encoded queries, at most three clients), so
// the hosts running the tunnel are incidents of their own, not only
// addresses beside the domain.
func (d *tunnel) clientFindings(domain string, e *ep[tunnelState], dom event.Alert, clients []kv, emit detect.Emit) {
	s := &e.v
	n := 0
	for _, c := range clients {
		enc := s.encClients.m[c.Key]
		if enc == 0 || float64(enc) < 0.25*float64(s.encoded) || n == 3 {
			continue
		}
		n++
		a := dom
		a.Entity = event.Entity{Type: event.EntityIP, Value: c.Key}
		a.SourceIP = mustAddr(c.Key)
		a.Related = []event.Entity{{Type: event.EntityDomain, Value: domain}}
		a.Samples = clientSamples(dom.Samples, c.Key)
		a.Evidence = map[string]any{"domain": domain, "queries": c.Count, "encoded_queries": enc,
			"domain_encoded_queries": s.encoded, "domain_score": round2(dom.Score)}
		a.Description = fmt.Sprintf("%s ran a DNS tunnel under %s: %s, %d carrying encoded data (%.0f%% of the tunnel's)",
			c.Key, domain, plural(c.Count, "query", "queries"), enc, 100*float64(enc)/float64(s.encoded))
		emit(a)
	}
}

// clientSamples keeps the domain's samples that come from client.
func clientSamples(all []event.Sample, client string) []event.Sample {
	var out []event.Sample
	for _, s := range all {
		if strings.Contains(s.Text, " "+client+":") || strings.Contains(s.Text, client+" ") {
			out = append(out, s)
		}
	}
	return out
}
