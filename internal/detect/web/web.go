// Package web holds the detectors of web access logs (KindHTTP events from
// parse/access): scanners, injection attempts, sensitive-file probes,
// probes for extensions and frameworks the site never serves, login and
// admin hammering, error storms, request floods, user-agent anomalies and
// web shells.
//
// Keys. Detectors that judge a client on its own requests (injection,
// sensitive files, hammering, errors, user agents) aggregate by source IP
// and run in parallel across shards. Detectors that compare a client with
// its site (scanner, never-served, flood, web shell, rare user agent) aggregate by site
// (url.domain: the virtual host, else one site per log): the site's
// baselines are learned from all of its traffic in event time, so those
// detectors see every request of the site on one shard, and keep each
// client's state in a bounded table of their own. Every finding is about a
// client IP (entity ip), with the remote user, when the log names one, as a
// related user entity: correlation joins a client's web findings with its
// SSH findings and with the account's.
//
// Learned baselines (per site, in event time, deterministic):
//   - scanner: the distribution of distinct missing paths per client
//     episode and the site's own 404 share;
//   - never-served: the extensions and frameworks the site answers 2xx to
//     several distinct clients;
//   - flood: the distribution of requests per client-minute, and each
//     client's own typical rate;
//   - web shell: the paths the site serves (first seen, distinct clients);
//   - rare user agent: the share of the site's requests per user-agent
//     family (browser family on its OS, HTTP library, other).
//
// Episodes: a client's requests are grouped into episodes that end after
// episode_gap of event time without activity; a finding is emitted when its
// episode ends (the watermark passes last+gap, the client is shed by the
// cap, or the input ends) with the whole episode's numbers. State is
// bounded by max_entities per shard (clients, or site×client pairs); what a
// cap sheds is counted in Stats and an open episode is still judged.
//
// Benign heavy traffic (search-engine crawlers, health checks, busy API
// clients) is accounted for by design: no detector counts volume alone
// against a fixed threshold, crawlers' missing pages are judged with the
// crawlers' own low 404 shares, and floods are relative to the site's and
// the client's own rates.
package web

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"winnow/internal/detect/tally"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// Register adds every web detector to r.
func Register(r *detect.Registry) {
	for _, s := range Specs() {
		r.MustRegister(s)
	}
}

// Specs returns the web detector specs.
func Specs() []detect.Spec {
	return []detect.Spec{
		injectionSpec(),
		sensitiveSpec(),
		loginSpec(),
		errorsSpec(),
		userAgentSpec(),
		scannerSpec(),
		neverServedSpec(),
		rareUserAgentSpec(),
		floodSpec(),
		webShellSpec(),
		exploitSpec(),
	}
}

var httpKinds = []event.Kind{event.KindHTTP}
var httpActions = []event.Action{event.ActHTTPRequest}

// Common parameters.
var paramMaxEntities = detect.Param{Name: "max_entities", Default: "50000",
	Doc: "clients tracked per shard; beyond it the least recently active is shed (counted, and its open episode still judged)"}

var (
	paramSamples = detect.SamplesParam()
	gapParam     = detect.GapParam
)

// common are the parameters every episode detector reads.
type common struct {
	gap     time.Duration
	max     int
	samples int
}

func readCommon(p detect.Params) (common, error) {
	e, err := p.Episode()
	return common{gap: e.Gap, max: e.Max, samples: e.Samples}, err
}

// burstWindow reads the "window" parameter of the burst detectors, in
// whole minutes (their per-minute rings hold 16).
func burstWindow(p detect.Params) (int, error) {
	w, err := p.Duration("window")
	if err != nil {
		return 0, err
	}
	if w < time.Minute || w > 16*time.Minute {
		return 0, errParam("window must be between 1m and 16m")
	}
	return int(w / time.Minute), nil
}

type paramError string

func (e paramError) Error() string { return string(e) }

func errParam(s string) error { return paramError(s) }

// ints reads integer parameters that must be ≥ 1.
func ints(p detect.Params, names ...string) ([]int, error) {
	out := make([]int, len(names))
	for i, n := range names {
		v, err := p.Int(n)
		if err != nil {
			return nil, err
		}
		if v < 1 {
			return nil, errParam("parameter " + n + " must be at least 1")
		}
		out[i] = v
	}
	return out, nil
}

// floats reads float parameters that must be > 0.
func floats(p detect.Params, names ...string) ([]float64, error) {
	out := make([]float64, len(names))
	for i, n := range names {
		v, err := p.Float(n)
		if err != nil {
			return nil, err
		}
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, errParam("parameter " + n + " must be a positive number")
		}
		out[i] = v
	}
	return out, nil
}

// samples keeps the first few evidence lines of an episode.
type samples struct {
	list []event.Sample
}

func (s *samples) add(ev *event.Event, max int) {
	if len(s.list) < max {
		s.list = append(s.list, sampleOf(ev))
	}
}

// take hands the samples over (the alert owns them afterwards).
func (s *samples) take() []event.Sample {
	l := s.list
	s.list = nil
	return l
}

// maxSampleText caps an evidence line (scanners send very long URLs).
const maxSampleText = 600

func sampleOf(ev *event.Event) event.Sample {
	raw := ev.Raw
	if len(raw) > maxSampleText {
		raw = raw[:maxSampleText]
	}
	return event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: string(raw)}
}

// ep is one client's open episode: its time range, evidence lines, request
// count and the detector's own state V.
type ep[V any] struct {
	start, last int64 // unix nanoseconds
	requests    int64
	smp         samples
	user        string // the last remote user the client authenticated as
	v           V
}

// episodes keeps one open episode per key in a bounded Table and calls end
// when an episode is over: its key was idle for gap (at Advance), it was
// shed by the cap, or the input ended (Flush). A new event more than gap
// after the key's last one ends the old episode first. Events may arrive
// slightly out of order: start is the earliest time seen.
type episodes[V any] struct {
	tab  *detect.Table[ep[V]]
	gap  time.Duration
	end  func(key string, e *ep[V], emit detect.Emit)
	emit detect.Emit // the current call's emit, for the Shed callback
}

func newEpisodes[V any](c common, end func(key string, e *ep[V], emit detect.Emit)) *episodes[V] {
	es := &episodes[V]{gap: c.gap, end: end}
	es.tab = detect.NewTable(c.max, detect.TableOptions[ep[V]]{
		Shed: func(key string, e *ep[V]) {
			if es.emit != nil {
				es.end(key, e, es.emit)
			}
		},
	})
	return es
}

// touch returns key's episode, opened or continued at t.
func (es *episodes[V]) touch(key []byte, t time.Time, emit detect.Emit) *ep[V] {
	es.emit = emit
	e, created := es.tab.UpsertBytes(key, t)
	n := t.UnixNano()
	if !created && n-e.last > int64(es.gap) {
		es.end(string(key), e, emit)
		*e = ep[V]{}
		created = true
	}
	if created {
		e.start, e.last = n, n
	}
	if n > e.last {
		e.last = n
	}
	if n < e.start {
		e.start = n
	}
	return e
}

// get returns key's open episode without touching it, or nil.
func (es *episodes[V]) get(key []byte) *ep[V] { return es.tab.GetBytes(key) }

func (es *episodes[V]) advance(wm time.Time, emit detect.Emit) {
	es.tab.Expire(wm, es.gap, func(key string, e *ep[V]) { es.end(key, e, emit) })
}

func (es *episodes[V]) flush(emit detect.Emit) {
	es.tab.Drain(func(key string, e *ep[V]) { es.end(key, e, emit) })
}

func (es *episodes[V]) stats() detect.Stats { return es.tab.Stats() }

// hotSet is a filter of the client keys that have an open episode, so that
// detectors which count every request of a client with an episode (for a
// share) skip the table lookup for the many clients without one. It is a
// bitmap by address hash: a false "maybe" costs one lookup, never a miss.
// When it fills up it is rebuilt from the table.
type hotSet struct {
	bits [1 << 10]uint64
	n    int
}

func hotHash(k *ipKey) uint32 {
	lo := uint64(k[8]) | uint64(k[9])<<8 | uint64(k[10])<<16 | uint64(k[11])<<24 | uint64(k[12])<<32 | uint64(k[13])<<40 | uint64(k[14])<<48 | uint64(k[15])<<56
	hi := uint64(k[0]) | uint64(k[1])<<8 | uint64(k[2])<<16 | uint64(k[3])<<24 | uint64(k[4])<<32 | uint64(k[5])<<40 | uint64(k[6])<<48 | uint64(k[7])<<56
	return uint32(((lo ^ hi*0x9E3779B97F4A7C15) * 0xBF58476D1CE4E5B9) >> 48)
}

func (h *hotSet) maybe(k *ipKey) bool {
	i := hotHash(k)
	return h.bits[i>>6]&(1<<(i&63)) != 0
}

func (h *hotSet) add(k *ipKey) {
	i := hotHash(k)
	if h.bits[i>>6]&(1<<(i&63)) == 0 {
		h.bits[i>>6] |= 1 << (i & 63)
		h.n++
	}
}

// rebuild resets the filter to the keys still in es when it is a quarter
// full (called at Advance, after expiry).
func rebuildHot[V any](h *hotSet, es *episodes[V]) {
	if h.n < len(h.bits)*64/4 {
		return
	}
	*h = hotSet{}
	es.tab.Each(func(key string, _ *ep[V]) bool {
		var k ipKey
		copy(k[:], key)
		h.add(&k)
		return true
	})
}

// ipKey is a client address as a fixed-size, allocation-free key.
type ipKey [16]byte

func keyOf(a netip.Addr) ipKey { return a.As16() }

func addrOf(k []byte) netip.Addr {
	var a [16]byte
	copy(a[:], k)
	return netip.AddrFrom16(a).Unmap()
}

// siteClientKey builds "site\x00<16-byte address>" into buf.
func siteClientKey(buf []byte, site string, a netip.Addr) []byte {
	buf = append(buf[:0], site...)
	buf = append(buf, 0)
	k := a.As16()
	return append(buf, k[:]...)
}

// splitSiteClient splits a siteClientKey.
func splitSiteClient(key string) (site string, a netip.Addr) {
	if len(key) < 17 {
		return "", netip.Addr{}
	}
	return key[:len(key)-17], addrOf([]byte(key[len(key)-16:]))
}

// finding starts a finding about the client ip over episode e.
func finding[V any](rule string, tech []string, ip netip.Addr, e *ep[V]) event.Alert {
	a := event.Alert{
		Rule:       rule,
		Entity:     event.Entity{Type: event.EntityIP, Value: ip.String()},
		Start:      unix(e.start),
		End:        unix(e.last),
		Techniques: tech,
		SourceIP:   ip,
		Samples:    e.smp.take(),
	}
	if e.user != "" {
		a.User = e.user
		a.Related = []event.Entity{{Type: event.EntityUser, Value: e.user}}
	}
	return a
}

// noteUser remembers the remote user of an authenticated request.
func noteUser[V any](e *ep[V], ev *event.Event) {
	if ev.User != "" {
		e.user = ev.User
	}
}

// The shared counting structures (see package tally), under short names.
type (
	counted[K comparable] = tally.Counted[K]
	kv                    = tally.KV
)

func top[K comparable](c *counted[K], n int, str func(K) string) []kv { return tally.Top(c, n, str) }

func names(l []kv) []string { return tally.Names(l) }

func ident(s string) string { return s }

// pathSet counts distinct paths by 64-bit hash, exactly up to a cap.
type pathSet struct {
	m    map[uint64]struct{}
	over int
}

func (s *pathSet) add(h uint64, max int) bool {
	if _, ok := s.m[h]; ok {
		return false
	}
	if len(s.m) >= max {
		s.over++
		return true
	}
	if s.m == nil {
		s.m = make(map[uint64]struct{}, 8)
	}
	s.m[h] = struct{}{}
	return true
}

func (s *pathSet) len() int { return len(s.m) + s.over }

// hashString is FNV-1a, 64 bits: stable across runs (findings must not
// depend on a random seed).
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// strength maps observed/threshold to a confidence in [0.05, 1]: 0.5 at
// the threshold, rising on a log scale to 1 at a thousand times it.
func strength(observed, threshold float64) float64 {
	if observed <= 0 || threshold <= 0 {
		return 0.05
	}
	s := 0.5 + 0.5*math.Log10(observed/threshold)/3
	return math.Max(0.05, math.Min(1, s))
}

func unix(n int64) time.Time { return time.Unix(0, n).UTC() }

func minutes(a, b int64) float64 { return float64(b-a) / float64(time.Minute) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// span renders an episode's duration: "42s", "7m", "3h39m".
func span[V any](e *ep[V]) string {
	d := time.Duration(e.last - e.start).Round(time.Second)
	if d < time.Minute {
		return strconv.Itoa(int(d.Seconds())) + "s"
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// clip shortens s for descriptions.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// quantiles is a deterministic streaming estimate of a distribution of
// non-negative counts: log-spaced buckets (exact below 8, then 8 per
// doubling), halved whenever the total passes a cap so that recent
// behaviour dominates. Memory is fixed.
type quantiles struct {
	b     [qBuckets]float64
	total float64
}

const qBuckets = 8 + 8*32

func qBucket(v float64) int {
	if v < 8 {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := math.Floor(math.Log2(v)) // ≥ 3
	frac := v/math.Exp2(e) - 1    // [0,1)
	i := 8 + int(e-3)*8 + int(frac*8)
	if i >= qBuckets {
		i = qBuckets - 1
	}
	return i
}

// qUpper is the largest value of bucket i.
func qUpper(i int) float64 {
	if i < 8 {
		return float64(i)
	}
	e := float64((i-8)/8 + 3)
	return math.Exp2(e) * (1 + float64((i-8)%8+1)/8)
}

// qCap is the total above which the counts are halved.
const qCap = 1 << 16

func (q *quantiles) add(v float64) {
	q.b[qBucket(v)]++
	q.total++
	if q.total >= qCap {
		q.total = 0
		for i := range q.b {
			q.b[i] /= 2
			q.total += q.b[i]
		}
	}
}

// quantile returns an upper estimate of the p-quantile (0 when empty).
func (q *quantiles) quantile(p float64) float64 {
	if q.total == 0 {
		return 0
	}
	want := p * q.total
	acc := 0.0
	for i, c := range q.b {
		acc += c
		if acc >= want && c > 0 {
			return qUpper(i)
		}
	}
	return qUpper(qBuckets - 1)
}
