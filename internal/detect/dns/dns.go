// Package dns holds the DNS detectors: tunnelling (per query and per
// registered domain), DGA domains (per client, with NXDOMAINs; and bursts
// of non-existent domains weighed by how generated they look), orphan
// queries (per client) and query volume against each client's own
// baseline. It also holds the lexical models they share: the benign
// character model (model.go, embedded dga_model.txt built by
// cmd/builddga), per-name features (features.go) and the tunnel and DGA
// scores (score.go), which `winnow score dns` uses on name lists
// (names.go).
//
// All detectors follow the detect contract: state per entity in bounded
// detect.Tables that expire in event time, episodes that end after an idle
// gap (findings are emitted then, or at end of input), and evidence maps
// with the numbers that made them fire. The network's query-type mix that
// the tunnel detector compares a domain with is kept per shard: each shard
// sees a hash-random subset of domains, so its mix approximates the
// network's.
package dns

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// Register adds every DNS detector to r.
func Register(r *detect.Registry) {
	for _, s := range Specs() {
		r.MustRegister(s)
	}
}

// Specs returns the DNS detector specs.
func Specs() []detect.Spec {
	return []detect.Spec{tunnelSpec(), dgaSpec(), dgaNXSpec(), orphanSpec(), volumeSpec(), resolverSpec()}
}

// sharedModel is the embedded model, parsed once (immutable afterwards).
var sharedModel = sync.OnceValue(DefaultModel)

// Common parameters.
var (
	paramMaxEntities = detect.Param{Name: "max_entities", Default: "50000",
		Doc: "entities tracked per shard; beyond it the least recently active is shed (counted)"}
	paramSamples = detect.Param{Name: "samples", Default: "5",
		Doc: "evidence lines kept per finding"}
)

var dnsKinds = []event.Kind{event.KindDNS}
var dnsActions = []event.Action{event.ActDNSQuery, event.ActDNSResponse}

type paramError string

func (e paramError) Error() string { return string(e) }

func ints(p detect.Params, names ...string) ([]int, error) {
	out := make([]int, len(names))
	for i, n := range names {
		v, err := p.Int(n)
		if err != nil {
			return nil, err
		}
		if v < 0 || (v == 0 && n != "samples") {
			return nil, paramError("parameter " + n + " must be at least 1")
		}
		out[i] = v
	}
	return out, nil
}

func durations(p detect.Params, names ...string) ([]time.Duration, error) {
	out := make([]time.Duration, len(names))
	for i, n := range names {
		v, err := p.PositiveDuration(n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func unitFloat(p detect.Params, name string) (float64, error) {
	v, err := p.Float(name)
	if err != nil {
		return 0, err
	}
	if v <= 0 || v > 1 {
		return 0, paramError("parameter " + name + " must be in (0,1]")
	}
	return v, nil
}

// sampleOf is an event's evidence: its log line, or for packet captures a
// rendering of the query and its answer (see event.SampleOf).
func sampleOf(ev *event.Event) event.Sample { return event.SampleOf(ev) }

// samples keeps the first few evidence lines.
type samples struct{ list []event.Sample }

func (s *samples) add(ev *event.Event, max int) {
	if len(s.list) < max {
		s.list = append(s.list, sampleOf(ev))
	}
}

// counter is a bounded count per key: keys beyond max are counted in
// over, not kept.
type counter struct {
	m    map[string]int64
	over int64
}

func (c *counter) add(k string, n int64, max int) {
	if c.m == nil {
		c.m = make(map[string]int64, 4)
	}
	if _, ok := c.m[k]; !ok && len(c.m) >= max {
		c.over += n
		return
	}
	c.m[k] += n
}

func (c *counter) distinct() int { return len(c.m) + int(min(c.over, 1<<30)) }

// kv is a ranked evidence entry.
type kv struct {
	Key   string `json:"name"`
	Count int64  `json:"count"`
}

func (c *counter) top(n int) []kv {
	out := make([]kv, 0, len(c.m))
	for k, v := range c.m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func keys(l []kv) []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.Key
	}
	return out
}

func unix(n int64) time.Time { return time.Unix(0, n).UTC() }

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func ipEntities(l []kv) []event.Entity {
	out := make([]event.Entity, 0, len(l))
	for _, e := range l {
		out = append(out, event.Entity{Type: event.EntityIP, Value: e.Key})
	}
	return out
}

func domainEntities(l []string) []event.Entity {
	out := make([]event.Entity, 0, len(l))
	for _, d := range l {
		out = append(out, event.Entity{Type: event.EntityDomain, Value: d})
	}
	return out
}

// humanBytes renders a byte count (1.2 KB, 3.4 MB).
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// strength maps observed/threshold to a confidence in [0.05, 1] on a log
// scale (0.5 at the threshold, 1 at a thousand times it), as the auth
// detectors do.
func strength(observed, threshold float64) float64 {
	if observed <= 0 || threshold <= 0 {
		return 0.05
	}
	s := 0.5 + 0.5*math.Log10(observed/threshold)/3
	return math.Max(0.05, math.Min(1, s))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// ipKey is an address as a compact table key (its 16 bytes).
func ipKey(ev *event.Event) string {
	b := ev.SrcIP.As16()
	return string(b[:])
}

// ipOfKey renders an ipKey as an address string.
func ipOfKey(k string) string {
	var b [16]byte
	copy(b[:], k)
	return netip.AddrFrom16(b).Unmap().String()
}

func mustAddr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a
}
