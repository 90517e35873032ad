package net

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/state/codec"
)

// net.unexplained_connection: DNS answers joined with flows, per client.
// A client whose DNS the sensor sees normally resolves a name before it
// connects; connections that succeed to public addresses no answer
// explained are hard-coded addresses — malware's fallback C2, tools
// dropped with an IP list, direct-to-IP exfiltration. The other half of
// the join — names resolved and never connected to — is marked by the
// capture decoder (dns.orphan reports it); for logs (Zeek dns.log with
// conn.log) this detector counts it too.

func unexplainedSpec() detect.Spec {
	return detect.Spec{
		Name: "net.unexplained_connection", Key: detect.KeySourceIP,
		Summary:    "a client whose DNS is visible connects to many public addresses that no DNS answer explained (or, from logs, resolves names it never uses)",
		Kinds:      []event.Kind{event.KindDNS, event.KindFlow},
		Actions:    []event.Action{event.ActDNSQuery, event.ActDNSResponse, event.ActFlow},
		Techniques: []string{"T1071", "T1008"},
		Params: []detect.Param{
			{Name: "min_unexplained", Default: "10", Doc: "distinct public addresses connected to without an answer: a few are normal (cached answers from before the capture, hard-coded NTP or update servers)"},
			{Name: "min_share", Default: "0.5", Doc: "share of the client's connected public addresses that were unexplained"},
			{Name: "warmup", Default: "5m", Doc: "connections in the first minutes after the client's first DNS event are not judged: the client may use answers cached before the sensor saw them"},
			{Name: "answer_ttl", Default: "1h", Doc: "how long an answer explains connections at the longest (resolvers cap TTLs around this; answers with a shorter TTL still count until this, as clients keep using them)"},
			{Name: "min_unused", Default: "50", Doc: "answered lookups never followed by a connection within follow_up (log inputs only; captures mark these themselves)"},
			{Name: "follow_up", Default: "1m", Doc: "how long after an answer a connection to it is awaited (logs are coarser than packets)"},
			{Name: "max_addresses", Default: "512", Doc: "answer addresses remembered per client (least recently answered forgotten first)"},
			detect.GapParam("1h", "a client's episode ends after this much quiet"),
			paramMax("20000"),
			detect.SamplesParam(),
		},
		New: newUnexplained,
	}
}

type pendingName struct {
	name string
	at   time.Time
	addr []netip.Addr
}

type clientJoin struct {
	firstDNS    time.Time
	answers     map[netip.Addr]time.Time // address → when answered
	order       []netip.Addr             // answer order, for the cap
	flows       bool
	judged      map[netip.Addr]struct{}
	unexplained map[netip.Addr]uint16 // → port
	pending     []pendingName
	unused      int64
	unusedNames []string
	start, last time.Time
	samples     []event.Sample
}

type unexplained struct {
	minUnexp, minUnused, maxAddr int
	share                        float64
	warmup, ttl, follow, gap     time.Duration
	samples                      int
	tab                          *detect.Table[clientJoin]
	key                          [16]byte
	emit                         detect.Emit
}

var _ detect.Detector = (*unexplained)(nil)

func newUnexplained(p detect.Params) (detect.Detector, error) {
	e, err := p.Episode()
	if err != nil {
		return nil, err
	}
	d := &unexplained{gap: e.Gap, samples: e.Samples}
	if d.minUnexp, err = p.PositiveInt("min_unexplained"); err != nil {
		return nil, err
	}
	if d.minUnused, err = p.PositiveInt("min_unused"); err != nil {
		return nil, err
	}
	if d.maxAddr, err = p.PositiveInt("max_addresses"); err != nil {
		return nil, err
	}
	if d.share, err = unitParam(p, "min_share"); err != nil {
		return nil, err
	}
	if d.warmup, err = p.Duration("warmup"); err != nil {
		return nil, err
	}
	if d.ttl, err = p.PositiveDuration("answer_ttl"); err != nil {
		return nil, err
	}
	if d.follow, err = p.PositiveDuration("follow_up"); err != nil {
		return nil, err
	}
	d.tab = detect.NewTable(e.Max, detect.TableOptions[clientJoin]{Shed: func(k string, c *clientJoin) { d.end(k, c) }})
	return d, nil
}

func (d *unexplained) Observe(ev *event.Event, emit detect.Emit) {
	if !ev.SrcIP.IsValid() {
		return
	}
	d.emit = emit
	d.key = ev.SrcIP.As16()
	if ev.DNS != nil {
		d.dns(ev)
		return
	}
	c := d.tab.GetBytes(d.key[:])
	if c == nil {
		return // a client whose DNS the sensor does not see: nothing to join
	}
	d.tab.UpsertBytes(d.key[:], ev.Time)
	d.flow(c, ev)
}

func (d *unexplained) dns(ev *event.Event) {
	x := ev.DNS
	c, created := d.tab.UpsertBytes(d.key[:], ev.Time)
	if created || c.answers == nil {
		*c = clientJoin{firstDNS: ev.Time, answers: map[netip.Addr]time.Time{}, judged: map[netip.Addr]struct{}{}, unexplained: map[netip.Addr]uint16{}}
	}
	d.expirePending(c, ev.Time)
	var addrs []netip.Addr
	for _, a := range x.Answers {
		if a.Type != "A" && a.Type != "AAAA" {
			continue
		}
		ip, err := netip.ParseAddr(a.Data)
		if err != nil {
			continue
		}
		ip = ip.Unmap()
		if _, ok := c.answers[ip]; !ok {
			c.order = append(c.order, ip)
		}
		c.answers[ip] = ev.Time
		addrs = append(addrs, ip)
	}
	for len(c.order) > d.maxAddr {
		delete(c.answers, c.order[0])
		c.order = c.order[1:]
	}
	// Logs (not captures, which mark unused answers themselves): await a
	// connection to one of the addresses.
	if len(addrs) > 0 && x.SizeEstimated && x.Orphan == event.OrphanNone && len(c.pending) < 256 {
		c.pending = append(c.pending, pendingName{name: x.Name, at: ev.Time, addr: addrs})
	}
}

func (d *unexplained) expirePending(c *clientJoin, now time.Time) {
	n := 0
	for _, p := range c.pending {
		if now.Sub(p.at) <= d.follow {
			c.pending[n] = p
			n++
			continue
		}
		if c.flows {
			c.unused++
			if len(c.unusedNames) < 8 {
				c.unusedNames = append(c.unusedNames, p.name)
			}
		}
	}
	c.pending = c.pending[:n]
}

func (d *unexplained) flow(c *clientJoin, ev *event.Event) {
	f := ev.Flow
	if f == nil || f.Reversed || !ev.DstIP.IsValid() {
		return
	}
	c.flows = true
	d.expirePending(c, ev.Time)
	dst := ev.DstIP
	// A connection uses any pending answer that named its address.
	for i := 0; i < len(c.pending); i++ {
		for _, a := range c.pending[i].addr {
			if a == dst {
				c.pending = append(c.pending[:i], c.pending[i+1:]...)
				i--
				break
			}
		}
	}
	if failed(f) || (f.Transport != "tcp" && f.Transport != "udp") || ev.DstPort == 53 || ev.DstPort == 123 ||
		!dst.IsGlobalUnicast() || dst.IsPrivate() || ev.Time.Sub(c.firstDNS) < d.warmup {
		return
	}
	if c.start.IsZero() {
		c.start = ev.Time
	}
	c.last = ev.Time
	c.judged[dst] = struct{}{}
	if at, ok := c.answers[dst]; ok && ev.Time.Sub(at) <= d.ttl {
		return
	}
	if _, seen := c.unexplained[dst]; !seen && len(c.unexplained) < 4096 {
		c.unexplained[dst] = ev.DstPort
		if len(c.samples) < d.samples {
			c.samples = append(c.samples, sampleOf(ev))
		}
	}
}

func (d *unexplained) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	d.tab.Expire(t, d.gap, func(k string, c *clientJoin) { d.end(k, c) })
}

func (d *unexplained) Flush(emit detect.Emit) {
	d.emit = emit
	d.tab.Drain(func(k string, c *clientJoin) {
		d.expirePending(c, c.last.Add(d.follow+time.Nanosecond))
		d.end(k, c)
	})
}

func (d *unexplained) Stats() detect.Stats { return d.tab.Stats() }

func (d *unexplained) end(key string, c *clientJoin) {
	if d.emit == nil {
		return
	}
	n := len(c.unexplained)
	share := float64(n) / float64(max(len(c.judged), 1))
	fireUnexp := n >= d.minUnexp && share >= d.share
	fireUnused := c.unused >= int64(d.minUnused)
	if !fireUnexp && !fireUnused {
		return
	}
	client := netip.AddrFrom16([16]byte([]byte(key))).Unmap()
	addrs := make([]string, 0, n)
	for a, p := range c.unexplained {
		addrs = append(addrs, fmt.Sprintf("%s:%d", a, p))
	}
	sort.Strings(addrs)
	if len(addrs) > 8 {
		addrs = addrs[:8]
	}
	var parts []string
	if fireUnexp {
		parts = append(parts, fmt.Sprintf("connected to %d public addresses no DNS answer explained (%.0f%% of %d), e.g. %s", n, 100*share, len(c.judged), strings.Join(addrs, ", ")))
	}
	if fireUnused {
		parts = append(parts, fmt.Sprintf("resolved %d names it never connected to, e.g. %s", c.unused, strings.Join(c.unusedNames, ", ")))
	}
	start, end := c.start, c.last
	if start.IsZero() {
		start, end = c.firstDNS, c.firstDNS
	}
	d.emit(event.Alert{
		Rule:        "net.unexplained_connection",
		Description: fmt.Sprintf("client %s %s", client, strings.Join(parts, "; ")),
		Entity:      event.Entity{Type: event.EntityIP, Value: client.String()},
		Start:       start, End: end,
		Severity:   event.SeverityLow,
		Score:      share,
		Techniques: []string{"T1071", "T1008"},
		SourceIP:   client,
		Evidence: map[string]any{"unexplained_addresses": n, "judged_addresses": len(c.judged), "share": round3(share),
			"unused_answers": c.unused, "examples": strings.Join(addrs, ",")},
		Samples: c.samples,
	})
}

var _ detect.Snapshotter = (*unexplained)(nil)

// Snapshot writes the clients' answers and counts (detect.Snapshotter).
func (d *unexplained) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[clientJoin](), nil)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *unexplained) Restore(r *detect.SnapshotReader) error {
	return d.tab.Restore(r, 0, codec.MustFor[clientJoin](), nil)
}
