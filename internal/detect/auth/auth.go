// Package auth holds the detectors of Linux authentication activity (sshd,
// PAM, sudo, su, account tools, systemd): brute force, password spray,
// distributed attacks on one account, success after failures, invalid-user
// enumeration, root login attempts, account changes, sensitive sudo, sudo
// failures, first-seen sources, unusual login hours and service failures.
//
// Every detector is registered with a Spec (name, key, parameters with
// defaults and the reasoning behind them). State is per entity in a
// detect.Table: it expires in event time and is capped; what a cap sheds is
// counted in Stats and, where an episode was open, still reported.
//
// Episodes: most detectors group an entity's events into episodes that
// end after episode_gap of event time without activity. A finding is
// emitted when its episode ends (the watermark passes last+gap, or end of
// input), so it carries the whole episode's numbers. Compromise findings
// (success after failures) are emitted at once, at the successful login.
package auth

import (
	"bytes"
	"math"
	"net/netip"
	"strconv"
	"time"
	"winnow/internal/detect/tally"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// Register adds every auth detector to r.
func Register(r *detect.Registry) {
	for _, s := range Specs() {
		r.MustRegister(s)
	}
}

// Specs returns the auth detector specs.
func Specs() []detect.Spec {
	return []detect.Spec{
		bruteForceSpec(),
		passwordSpraySpec(),
		invalidUserSpec(),
		rootLoginSpec(),
		successAfterFailuresSpec(),
		accountTakeoverSpec(),
		distributedSpec(),
		stuffingSpec(),
		newSourceSpec(),
		unusualHourSpec(),
		sudoSensitiveSpec(),
		sudoFailureSpec(),
		accountChangeSpec(),
		serviceFailuresSpec(),
	}
}

// Common parameters.
var paramMaxEntities = detect.Param{Name: "max_entities", Default: "20000",
	Doc: "entities tracked per shard (about 400 bytes each for per-source rules); beyond it the least recently active is shed, its open episode reported, and the shedding counted"}

var (
	paramSamples = detect.SamplesParam()
	gapParam     = detect.GapParam
)

// common are the parameters every episode detector reads.
type common struct {
	gap      time.Duration
	max      int
	samples  int
	maxNames int
}

func readCommon(p detect.Params) (common, error) {
	e, err := p.Episode()
	return common{gap: e.Gap, max: e.Max, samples: e.Samples, maxNames: 4096}, err
}

type paramError string

func (e paramError) Error() string { return string(e) }

func errParam(s string) error { return paramError(s) }

// positive reads integer parameters that must be ≥ 1.
func positive(p detect.Params, names ...string) ([]int, error) {
	out := make([]int, len(names))
	for i, n := range names {
		v, err := p.PositiveInt(n)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// samples keeps the first few evidence lines of an episode and counts all.
//
// Which lines: the 1st, 2nd, 4th, 8th, 16th … offered line, up to max. An
// episode's evidence then spans its whole course (the first tries and the
// later, heavier ones) instead of its first seconds, and the thousands of
// sources that stop after a few tries cost two or three copies, not max.
type samples struct {
	list    []event.Sample
	offered int32
}

// maxSampleText caps a kept line's text (bytes).
const maxSampleText = 240

func (s *samples) add(ev *event.Event, max int) {
	if n := len(s.list); n > 0 && s.list[n-1].Line == ev.Ref.Line && s.list[n-1].File == ev.Ref.File {
		return // one line expanded into several events ("message repeated")
	}
	s.offered++
	if len(s.list) >= max || s.offered&(s.offered-1) != 0 {
		return // keep powers of two only
	}
	s.list = append(s.list, sampleOf(ev))
}

// sampleOf copies an event's line for evidence.
func sampleOf(ev *event.Event) event.Sample {
	raw := ev.Raw
	text := ""
	if len(raw) > maxSampleText {
		text = string(raw[:maxSampleText]) + "…"
	} else {
		text = string(raw)
	}
	return event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: text}
}

// take hands the samples over (the alert owns them afterwards).
func (s *samples) take() []event.Sample {
	l := s.list
	s.list, s.offered = nil, 0
	return l
}

// The shared counting structures (see package tally), under short names.
type (
	counted[K comparable] = tally.Counted[K]
	kv                    = tally.KV
)

func top[K comparable](c *counted[K], n int, str func(K) string) []kv { return tally.Top(c, n, str) }

// topAddrs ranks address keys, ties in address order, rendering only the n
// returned (an account's 256 known sources cost no 256 strings).
func topAddrs(c *counted[addrKey], n int) []kv {
	return tally.TopFunc(c, n, func(a, b addrKey) int { return bytes.Compare(a[:], b[:]) }, addrKey.String)
}

func names(l []kv) []string { return tally.Names(l) }

func ident(s string) string { return s }

// addrKey is an address as a comparable, allocation-free map key.
type addrKey [16]byte

func keyOf(a netip.Addr) addrKey { return a.As16() }

func (k addrKey) addr() netip.Addr { return netip.AddrFrom16(k).Unmap() }

func (k addrKey) String() string { return k.addr().String() }

func addrFromKey(s string) netip.Addr {
	var k addrKey
	copy(k[:], s)
	return k.addr()
}

// strength maps observed/threshold to a confidence in [0.05, 1]: 0.5 at
// the threshold, rising on a log scale to 1 at a thousand times it, so
// that ranking still separates a 500-try source from a 10,000-try one.
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

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func userEntities(l []kv) []event.Entity {
	out := make([]event.Entity, 0, len(l))
	for _, e := range l {
		out = append(out, event.Entity{Type: event.EntityUser, Value: e.Key})
	}
	return out
}
