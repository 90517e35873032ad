// Package indicator is the live indicator-of-compromise detector: every
// event's addresses, DNS names and URLs are matched against loaded
// indicator sets (enrich/ioc) and each known-bad indicator seen is
// reported once per client and episode, with the events that matched.
// Matches of known-good lists are not findings (they serve known-good
// elimination in the archive).
package indicator

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"winnow/internal/detect"
	"winnow/internal/enrich/ioc"
	"winnow/internal/event"
)

// Rule is the detector's name.
const Rule = "ioc.match"

// Spec returns the detector's spec over a loaded set (shared read-only by
// every shard).
func Spec(set *ioc.Set) detect.Spec {
	return detect.Spec{
		Name:       Rule,
		Summary:    "an event's address, DNS name, URL or file hash is on a loaded known-bad indicator list (--iocs)",
		Key:        detect.KeySourceIP,
		Kinds:      []event.Kind{event.KindAuth, event.KindHTTP, event.KindDNS, event.KindSyslog, event.KindService, event.KindFlow, event.KindFile, event.KindAudit},
		Techniques: []string{"T1071"},
		Params: []detect.Param{
			{Name: "episode_gap", Default: "1h", Doc: "matches of one indicator by one client less than this apart are one finding"},
			{Name: "max_entities", Default: "20000", Doc: "open (indicator, client) episodes per shard; the oldest is reported early when full"},
			{Name: "samples", Default: "5", Doc: "matching events kept per finding"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			e, err := p.Episode()
			if err != nil {
				return nil, err
			}
			d := &Detector{set: set, gap: e.Gap, samples: e.Samples}
			d.tab = detect.NewTable(e.Max, detect.TableOptions[episode]{Shed: func(k string, e *episode) { d.end(k, e, d.emit) }})
			return d, nil
		},
	}
}

// Detector is one shard's instance.
type Detector struct {
	set     *ioc.Set
	gap     time.Duration
	samples int
	tab     *detect.Table[episode]
	hits    []ioc.Hit
	key     [4 + 16]byte
	emit    detect.Emit
}

type episode struct {
	start, last time.Time
	count       int64
	field       string
	value       string
	kinds       [8]bool
	samples     []event.Sample
}

var _ detect.Detector = (*Detector)(nil)

// Observe matches ev and opens or extends an episode per bad indicator.
func (d *Detector) Observe(ev *event.Event, emit detect.Emit) {
	d.hits = d.set.MatchEvent(ev, d.hits[:0])
	if len(d.hits) == 0 {
		return
	}
	d.emit = emit
	client := ev.SrcIP.As16()
	if ev.File != nil && ev.DstIP.IsValid() {
		client = ev.DstIP.As16() // a file's receiver is the host at risk
	}
	for _, h := range d.hits {
		if d.set.Get(h.ID).Good {
			continue
		}
		binary.BigEndian.PutUint32(d.key[:4], uint32(h.ID))
		copy(d.key[4:], client[:])
		e, created := d.tab.UpsertBytes(d.key[:], ev.Time)
		if !created && ev.Time.Sub(e.last) > d.gap {
			d.end(string(d.key[:]), e, emit)
			*e = episode{}
			created = true
		}
		if created {
			e.start, e.field, e.value = ev.Time, h.Field, h.Value
		}
		if ev.Time.After(e.last) {
			e.last = ev.Time
		}
		e.count++
		if int(ev.Kind) < len(e.kinds) {
			e.kinds[ev.Kind] = true
		}
		if len(e.samples) < d.samples {
			e.samples = append(e.samples, event.SampleOf(ev))
		}
	}
}

func (d *Detector) end(key string, e *episode, emit detect.Emit) {
	if emit == nil || e.count == 0 {
		return
	}
	id := int32(binary.BigEndian.Uint32([]byte(key[:4])))
	var ck [16]byte
	copy(ck[:], key[4:])
	client := netip.AddrFrom16(ck).Unmap()
	ind := d.set.Get(id)
	ent := event.Entity{Type: event.EntityIP, Value: ind.Value}
	switch ind.Type {
	case ioc.TypeDomain, ioc.TypeURL:
		ent = event.Entity{Type: event.EntityDomain, Value: ind.Value}
	case ioc.TypeCIDR:
		ent = event.Entity{Type: event.EntityIP, Value: e.value}
	case ioc.TypeMD5, ioc.TypeSHA1, ioc.TypeSHA256:
		// A known-bad file: the finding is about the host that received it.
		ent = event.Entity{Type: event.EntityIP, Value: client.String()}
	}
	var kinds []string
	for k, on := range e.kinds {
		if on {
			kinds = append(kinds, event.Kind(k).String())
		}
	}
	a := event.Alert{
		Rule: Rule, Entity: ent, Start: e.start, End: e.last, Severity: event.SeverityHigh, Score: 0.9,
		Techniques: []string{"T1071"}, Samples: e.samples,
		Evidence: map[string]any{"indicator": ind.Value, "indicator_type": ind.Type.String(), "list": ind.Source,
			"list_line": ind.Line, "label": ind.Label, "field": e.field, "value": e.value, "matches": e.count, "kinds": kinds},
	}
	if client.IsValid() && !client.IsUnspecified() {
		a.SourceIP = client
		if ent.Value != client.String() {
			a.Related = []event.Entity{{Type: event.EntityIP, Value: client.String()}}
		}
	}
	a.Description = fmt.Sprintf("%s matched %s by %s %d times", e.value, ind.Describe(), e.field, e.count)
	if a.SourceIP.IsValid() && e.field != "source.ip" {
		a.Description = fmt.Sprintf("client %s: %s", a.SourceIP, a.Description)
	}
	emit(a)
}

// Advance reports episodes idle for longer than the gap.
func (d *Detector) Advance(t time.Time, emit detect.Emit) {
	d.tab.Expire(t, d.gap, func(k string, e *episode) { d.end(k, e, emit) })
}

// Flush reports every open episode.
func (d *Detector) Flush(emit detect.Emit) {
	d.tab.Drain(func(k string, e *episode) { d.end(k, e, emit) })
}

// Stats reports the table's counters.
func (d *Detector) Stats() detect.Stats { return d.tab.Stats() }
