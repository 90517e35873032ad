package web

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

type sensState struct {
	paths    pathSet
	kinds    counted[sensitiveKind]
	exposed  int32 // answered 2xx with a body
	examples []string
	exposedE []string
}

type sensitiveDetector struct {
	c   common
	min int
	eps *episodes[sensState]
	key ipKey
}

func sensitiveSpec() detect.Spec {
	tech := []string{"T1595.003", "T1552.001"}
	return detect.Spec{
		Name:    "web.sensitive_file",
		Summary: "a client asks for files that must never be served: .env and keys, .git/.svn, backups and dumps, config copies (wp-config.php.bak), phpinfo/server-status, logs; high when one is answered 2xx",
		Key:     detect.KeySourceIP, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("30m", "probes for leaked files come in bursts from a wordlist"),
			paramMaxEntities, paramSamples,
			{Name: "min_paths", Default: "3", Doc: "distinct sensitive paths asked for per episode for a medium finding; one or two (a stray /.env) is Internet background noise and is reported low; any 2xx answer is reported high whatever the count"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "min_paths")
			if err != nil {
				return nil, err
			}
			d := &sensitiveDetector{c: c, min: v[0]}
			d.eps = newEpisodes(c, d.end)
			return d, nil
		},
	}
}

var _ detect.Detector = (*sensitiveDetector)(nil)

func (d *sensitiveDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || h.Invalid || !ev.SrcIP.IsValid() {
		return
	}
	p := lowerASCII(h.PathDecoded)
	kind := sensitive(p)
	if kind == sensNone {
		return
	}
	// Monitoring agents read server-status from the host or the LAN.
	if kind == sensInfo && (ev.SrcIP.IsLoopback() || ev.SrcIP.IsPrivate()) {
		return
	}
	d.key = keyOf(ev.SrcIP)
	e := d.eps.touch(d.key[:], ev.Time, emit)
	e.requests++
	noteUser(e, ev)
	s := &e.v
	s.kinds.Add(kind, 1, 16)
	isNew := s.paths.add(hashString(p), 4096)
	if isNew && len(s.examples) < 10 {
		s.examples = append(s.examples, clip(h.Path, 120))
	}
	if h.Status >= 200 && h.Status < 300 && h.Bytes != 0 && h.Method != "HEAD" {
		s.exposed++
		if len(s.exposedE) < 5 {
			s.exposedE = append(s.exposedE, fmt.Sprintf("%s (%d, %d bytes)", clip(h.Path, 100), h.Status, h.Bytes))
		}
	}
	e.smp.add(ev, d.c.samples)
}

func (d *sensitiveDetector) Advance(t time.Time, emit detect.Emit) { d.eps.advance(t, emit) }
func (d *sensitiveDetector) Flush(emit detect.Emit)                { d.eps.flush(emit) }
func (d *sensitiveDetector) Stats() detect.Stats                   { return d.eps.stats() }

func (d *sensitiveDetector) end(key string, e *ep[sensState], emit detect.Emit) {
	s := &e.v
	n := s.paths.len()
	if n == 0 {
		return
	}
	ip := addrOf([]byte(key))
	a := finding("web.sensitive_file", []string{"T1595.003"}, ip, e)
	kinds := map[string]int32{}
	var kl []string
	s.kinds.Each(func(k sensitiveKind, c int32) { kinds[k.String()] = c; kl = append(kl, k.String()) })
	sort.Strings(kl)
	a.Severity = event.SeverityLow
	a.Score = strength(float64(n), float64(d.min))
	switch {
	case s.exposed > 0:
		a.Severity = event.SeverityHigh
		a.Score = max(a.Score, 0.85)
		a.Techniques = append(a.Techniques, "T1552.001")
	case n >= d.min:
		a.Severity = event.SeverityMedium
	}
	a.Evidence = map[string]any{
		"requests":         e.requests,
		"sensitive_paths":  n,
		"kinds":            kinds,
		"answered_2xx":     s.exposed,
		"examples":         s.examples,
		"min_paths":        d.min,
		"duration_minutes": round2(minutes(e.start, e.last)),
	}
	a.Description = fmt.Sprintf("%s asked for %s (%s) in %s, e.g. %s (threshold %d)",
		a.Entity.Value, plural(n, "sensitive path", "sensitive paths"), strings.Join(kl, ", "), span(e), strings.Join(first(s.examples, 3), ", "), d.min)
	if s.exposed > 0 {
		a.Evidence["exposed"] = s.exposedE
		a.Description += fmt.Sprintf("; %d answered 2xx: %s", s.exposed, strings.Join(s.exposedE, ", "))
	}
	emit(a)
}

func first(l []string, n int) []string {
	if len(l) > n {
		return l[:n]
	}
	return l
}
