package web

import (
	"fmt"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

type errState struct {
	server   int32 // 5xx answers
	bad      int32 // 400 answers (invalid requests among them)
	invalid  int32 // request lines that were not HTTP (TLS handshakes, junk)
	win5xx   window
	win400   window
	statuses counted[int]
	invSmp   string
}

type errorsDetector struct {
	c      common
	storm  int
	flood  int
	share  float64
	window int
	eps    *episodes[errState]
	key    ipKey
	hot    hotSet
}

func errorsSpec() detect.Spec {
	tech := []string{"T1190", "T1499.004", "T1499"}
	return detect.Spec{
		Name:    "web.error_storm",
		Summary: "a client causes a storm of 5xx server errors (fuzzing, exploitation, an application-layer DoS) or a flood of 400 Bad Request / non-HTTP request lines",
		Key:     detect.KeySourceIP, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("30m", "the episode spans the client's activity; bursts inside it are measured per window"),
			paramMaxEntities, paramSamples,
			{Name: "storm", Default: "25", Doc: "5xx answers to one client within window; a healthy site gives a visitor at most a few, a fuzzer dozens per minute"},
			{Name: "min_share", Default: "0.05", Doc: "5xx share of the client's requests in the episode; a busy API client that sees the odd 503 during a deploy stays below"},
			{Name: "flood", Default: "25", Doc: "400 answers (including TLS handshakes and junk sent to the HTTP port) within window; Internet noise sends one or two"},
			{Name: "window", Default: "5m", Doc: "the burst window (at most 16 minutes)"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "storm", "flood")
			if err != nil {
				return nil, err
			}
			f, err := floats(p, "min_share")
			if err != nil {
				return nil, err
			}
			w, err := burstWindow(p)
			if err != nil {
				return nil, err
			}
			d := &errorsDetector{c: c, storm: v[0], flood: v[1], share: f[0], window: w}
			d.eps = newEpisodes(c, d.end)
			return d, nil
		},
	}
}

var _ detect.Detector = (*errorsDetector)(nil)

func (d *errorsDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || !ev.SrcIP.IsValid() {
		return
	}
	d.key = keyOf(ev.SrcIP)
	st := h.Status
	if st < 500 && st != 400 {
		if d.hot.maybe(&d.key) {
			if e := d.eps.get(d.key[:]); e != nil {
				e.requests++
			}
		}
		return
	}
	d.hot.add(&d.key)
	e := d.eps.touch(d.key[:], ev.Time, emit)
	e.requests++
	noteUser(e, ev)
	s := &e.v
	s.statuses.Add(st, 1, 32)
	if st >= 500 {
		s.server++
		s.win5xx.add(ev.Time, d.window, 1)
	} else {
		s.bad++
		s.win400.add(ev.Time, d.window, 1)
		if h.Invalid {
			s.invalid++
			if s.invSmp == "" {
				s.invSmp = clip(h.Path, 60)
			}
		}
	}
	e.smp.add(ev, d.c.samples)
}

func (d *errorsDetector) Advance(t time.Time, emit detect.Emit) {
	d.eps.advance(t, emit)
	rebuildHot(&d.hot, d.eps)
}
func (d *errorsDetector) Flush(emit detect.Emit) { d.eps.flush(emit) }
func (d *errorsDetector) Stats() detect.Stats    { return d.eps.stats() }

func (d *errorsDetector) end(key string, e *ep[errState], emit detect.Emit) {
	s := &e.v
	share := float64(s.server) / float64(max(e.requests, 1))
	storm := int(s.win5xx.peak) >= d.storm && share >= d.share
	flood := int(s.win400.peak) >= d.flood
	if !storm && !flood {
		return
	}
	ip := addrOf([]byte(key))
	a := finding("web.error_storm", nil, ip, e)
	a.Severity = event.SeverityMedium
	var parts []string
	if storm {
		a.Techniques = append(a.Techniques, "T1190", "T1499.004")
		parts = append(parts, fmt.Sprintf("%d server errors (5xx), peak %d in %d minutes (threshold %d), %.0f%% of its requests",
			s.server, s.win5xx.peak, d.window, d.storm, 100*share))
		if int(s.win5xx.peak) >= 10*d.storm {
			a.Severity = event.SeverityHigh
		}
	}
	if flood {
		a.Techniques = append(a.Techniques, "T1499")
		p := fmt.Sprintf("%d bad requests (400), peak %d in %d minutes (threshold %d)", s.bad, s.win400.peak, d.window, d.flood)
		if s.invalid > 0 {
			p += fmt.Sprintf(", %d of them not HTTP (e.g. %q)", s.invalid, s.invSmp)
		}
		parts = append(parts, p)
		if int(s.win400.peak) >= 10*d.flood {
			a.Severity = event.SeverityHigh
		}
	}
	a.Score = max(strength(float64(s.win5xx.peak), float64(d.storm)), strength(float64(s.win400.peak), float64(d.flood)))
	statuses := map[string]int32{}
	s.statuses.Each(func(st int, n int32) { statuses[fmt.Sprint(st)] = n })
	a.Evidence = map[string]any{
		"requests":           e.requests,
		"server_errors":      s.server,
		"bad_requests":       s.bad,
		"invalid_requests":   s.invalid,
		"peak_5xx":           s.win5xx.peak,
		"peak_400":           s.win400.peak,
		"window_minutes":     d.window,
		"storm":              d.storm,
		"flood":              d.flood,
		"server_error_share": round3(share),
		"statuses":           statuses,
		"duration_minutes":   round2(minutes(e.start, e.last)),
	}
	a.Description = fmt.Sprintf("%s caused %s in %s", a.Entity.Value, strings.Join(parts, " and "), span(e))
	emit(a)
}
