package dns

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/stablehash"
)

// dns.resolver: identifies the resolvers in a capture that sees both sides
// of them — addresses that re-ask upstream, within seconds, the names
// other hosts had just asked them. A resolver's own queries are its
// clients' (a tunnel through it, a DGA host behind it), so its finding is
// informational and carries event.RoleDNSResolver: correlation then
// treats DNS findings about the resolver as context and the clients'
// own findings carry the attribution.
//
// The detector is keyed by registered domain, so a client's query and the
// resolver's upstream query for the same name reach the same shard; each
// shard reports a resolver once per episode.

func resolverSpec() detect.Spec {
	return detect.Spec{
		Name:    "dns.resolver",
		Summary: "an address re-asks upstream what other hosts asked it: a resolver (infrastructure; its DNS findings are its clients')",
		Key:     detect.KeyDomain,
		Kinds:   dnsKinds,
		Actions: []event.Action{event.ActDNSQuery},
		Params: []detect.Param{
			{Name: "window", Default: "5s", Doc: "a query for a name the address was asked within this long counts as a re-ask (a resolver forwards a cache miss in milliseconds)"},
			{Name: "min_reasks", Default: "5", Doc: "re-asked names before the address is called a resolver"},
			{Name: "min_clients", Default: "2", Doc: "distinct hosts whose questions it re-asked"},
			{Name: "episode_gap", Default: "24h", Doc: "a resolver is reported again after this much event time without re-asks"},
			{Name: "max_entities", Default: "4096", Doc: "candidate resolvers tracked per shard"},
			{Name: "max_names", Default: "65536", Doc: "recent questions remembered per shard (a flood beyond it is not matched, not stored)"},
		},
		New: newResolver,
	}
}

// asked is a recent question: who asked which server, when.
type asked struct {
	server, client netip.Addr
	at             int64
}

type resolverState struct {
	reasks    int
	clients   counter
	upstreams counter
	first     event.Sample
	sample    event.Sample
	reported  bool
}

type resolver struct {
	window     int64
	minReasks  int
	minClients int
	maxNames   int
	recent     map[uint64]asked
	order      []uint64 // keys of recent in insertion order (expiry)
	head       int
	eps        *episodes[resolverState]
}

func newResolver(p detect.Params) (detect.Detector, error) {
	ns, err := ints(p, "min_reasks", "min_clients", "max_entities", "max_names")
	if err != nil {
		return nil, err
	}
	ds, err := durations(p, "window", "episode_gap")
	if err != nil {
		return nil, err
	}
	d := &resolver{window: int64(ds[0]), minReasks: ns[0], minClients: ns[1], maxNames: ns[3],
		recent: map[uint64]asked{}}
	d.eps = newEpisodes(ns[2], ds[1], func(string, *ep[resolverState], detect.Emit) {})
	return d, nil
}

func (d *resolver) Observe(ev *event.Event, emit detect.Emit) {
	x := ev.DNS
	if x == nil || !ev.SrcIP.IsValid() || !x.ServerIP.IsValid() || x.Name == "" {
		return
	}
	t := ev.Time.UnixNano()
	d.expire(t)
	k := stablehash.Sum64(stablehash.String(x.Name), x.QType)
	if prev, ok := d.recent[k]; ok && prev.server == ev.SrcIP && prev.client != ev.SrcIP && t-prev.at <= d.window {
		d.reask(ev, prev.client, emit)
	}
	if _, ok := d.recent[k]; !ok && len(d.recent) >= d.maxNames {
		return
	}
	if _, ok := d.recent[k]; !ok {
		d.order = append(d.order, k)
	}
	d.recent[k] = asked{server: x.ServerIP, client: ev.SrcIP, at: t}
}

// expire forgets questions older than the window.
func (d *resolver) expire(now int64) {
	for d.head < len(d.order) {
		k := d.order[d.head]
		if a, ok := d.recent[k]; ok && now-a.at <= d.window {
			break
		}
		delete(d.recent, k)
		d.head++
	}
	if d.head > 1024 && d.head*2 > len(d.order) {
		d.order = append(d.order[:0], d.order[d.head:]...)
		d.head = 0
	}
}

func (d *resolver) reask(ev *event.Event, client netip.Addr, emit detect.Emit) {
	key := ev.SrcIP.String()
	e := d.eps.touch(key, ev.Time, emit)
	s := &e.v
	s.reasks++
	s.clients.add(client.String(), 1, 16)
	s.upstreams.add(ev.DNS.ServerIP.String(), 1, 8)
	smp := event.SampleOf(ev)
	if s.first.Text == "" {
		s.first = smp
	}
	s.sample = smp
	if s.reported || s.reasks < d.minReasks || s.clients.distinct() < d.minClients {
		return
	}
	s.reported = true
	clients := s.clients.top(10)
	ups := s.upstreams.top(4)
	a := base("dns.resolver", nil, event.Entity{Type: event.EntityIP, Value: key}, e)
	a.SourceIP = ev.SrcIP
	a.Severity = event.SeverityInfo
	a.Score = 1
	a.Role = event.RoleDNSResolver
	a.Related = ipEntities(clients)
	a.Samples = []event.Sample{s.first, s.sample}
	a.Evidence = map[string]any{
		"reasked_names": s.reasks, "clients": keys(clients), "client_count": s.clients.distinct(),
		"upstream_servers": keys(ups), "window_seconds": float64(d.window) / float64(time.Second),
	}
	a.Description = fmt.Sprintf("%s is a DNS resolver: it re-asked upstream (%s) %s that %s had just asked it; DNS findings about it are its clients'",
		key, strings.Join(keys(ups), ", "), plural(int64(s.reasks), "name", "names"), clientList(clients, s.clients.distinct()))
	emit(a)
}

func clientList(l []kv, n int) string {
	names := keys(l[:min(3, len(l))])
	s := strings.Join(names, ", ")
	if n > len(names) {
		s += fmt.Sprintf(" and %d more hosts", n-len(names))
	}
	return s
}

func (d *resolver) Advance(t time.Time, emit detect.Emit) { d.eps.advance(t, emit) }
func (d *resolver) Flush(emit detect.Emit)                { d.eps.flush(emit) }
func (d *resolver) Stats() detect.Stats                   { return d.eps.stats() }
