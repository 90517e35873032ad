package web

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/parse/access"
)

// injState is what one client sent during an episode.
type injState struct {
	matched  int64             // requests with at least one injection
	answered int64             // of those, answered 2xx
	classes  counted[Class]    // requests per class
	fields   counted[Field]    // requests per field
	examples [classCount]Match // the first match per class
}

type injectionDetector struct {
	c        common
	min      int
	eps      *episodes[injState]
	in       Inspector
	out      []Match
	dec      []byte
	clean    strCache[struct{}] // referrers and user agents already found clean
	key      ipKey
	severeAt int
	hot      hotSet
}

func injectionSpec() detect.Spec {
	tech := []string{"T1190", "T1059", "T1595.002"}
	return detect.Spec{
		Name:    "web.injection",
		Summary: "a client sends injection payloads (SQL, XSS, traversal/LFI/RFI, OS command, template/OGNL, ${jndi:}, code, CRLF, SSRF) in path, query, referrer or user agent, after URL decoding; every query parameter is inspected, and absurd padding (1,024+ copies of one byte) is itself reported",
		Key:     detect.KeySourceIP, Kinds: httpKinds, Actions: httpActions, Techniques: tech,
		Params: []detect.Param{
			gapParam("30m", "scanners pause between test batches; half an hour keeps one scan in one finding"),
			paramMaxEntities, paramSamples,
			{Name: "min_requests", Default: "1", Doc: "requests with a payload per episode; one is enough because the rules match attack syntax (a break-out, a tag with a handler, a lookup), not words, and were measured at ≤ 0.1% on benign parameter sets"},
			{Name: "high_requests", Default: "10", Doc: "from this many requests with payloads (an automated campaign) the finding is high; remote-execution classes (command, code, template, jndi) are high from the first"},
		},
		New: func(p detect.Params) (detect.Detector, error) {
			c, err := readCommon(p)
			if err != nil {
				return nil, err
			}
			v, err := ints(p, "min_requests", "high_requests")
			if err != nil {
				return nil, err
			}
			d := &injectionDetector{c: c, min: v[0], severeAt: v[1]}
			d.eps = newEpisodes(c, d.end)
			return d, nil
		},
	}
}

var _ detect.Detector = (*injectionDetector)(nil)

func (d *injectionDetector) Observe(ev *event.Event, emit detect.Emit) {
	h := ev.HTTP
	if h == nil || !ev.SrcIP.IsValid() {
		return
	}
	d.key = keyOf(ev.SrcIP)
	out := d.out[:0]
	if !h.Invalid {
		out = d.in.InspectLong(h.PathDecoded, FieldPath, out)
		if h.QueryDecoded != "" {
			out = d.in.InspectLong(h.QueryDecoded, FieldQuery, out)
		}
	}
	out = d.inspectHeader(h.Referrer, FieldReferrer, out)
	out = d.inspectHeader(h.UserAgent, FieldUserAgent, out)
	d.out = out
	if len(out) == 0 {
		if d.hot.maybe(&d.key) { // count the request in an open episode
			if e := d.eps.get(d.keyBytes(ev)); e != nil {
				e.requests++
			}
		}
		return
	}
	e := d.eps.touch(d.keyBytes(ev), ev.Time, emit)
	d.hot.add(&d.key)
	e.requests++
	noteUser(e, ev)
	s := &e.v
	s.matched++
	if h.Status >= 200 && h.Status < 300 {
		s.answered++
	}
	var seen [classCount]bool
	var fseen [4]bool
	for _, m := range out {
		if !seen[m.Class] {
			seen[m.Class] = true
			s.classes.Add(m.Class, 1, int(classCount))
		}
		if !fseen[m.Field] {
			fseen[m.Field] = true
			s.fields.Add(m.Field, 1, 4)
		}
		if s.examples[m.Class].Class == ClassNone {
			s.examples[m.Class] = m
		}
	}
	e.smp.add(ev, d.c.samples)
}

func (d *injectionDetector) keyBytes(ev *event.Event) []byte {
	d.key = keyOf(ev.SrcIP)
	return d.key[:]
}

// inspectHeader inspects a referrer or user agent, remembering clean ones
// (they repeat: a bounded set, reset when full).
func (d *injectionDetector) inspectHeader(s string, f Field, out []Match) []Match {
	if s == "" {
		return out
	}
	if _, ok := d.clean.get(s); ok {
		return out
	}
	v := s
	if strings.ContainsAny(s, "%\\+") {
		d.dec = access.AppendDecode(d.dec[:0], []byte(s), f == FieldReferrer)
		v = string(d.dec)
	}
	n := len(out)
	out = d.in.InspectLong(v, f, out)
	if len(out) == n {
		d.clean.put(s, struct{}{})
	}
	return out
}

func (d *injectionDetector) Advance(t time.Time, emit detect.Emit) {
	d.eps.advance(t, emit)
	rebuildHot(&d.hot, d.eps)
}
func (d *injectionDetector) Flush(emit detect.Emit) { d.eps.flush(emit) }
func (d *injectionDetector) Stats() detect.Stats    { return d.eps.stats() }

func (d *injectionDetector) end(key string, e *ep[injState], emit detect.Emit) {
	s := &e.v
	if s.matched < int64(d.min) {
		return
	}
	ip := addrOf([]byte(key))
	a := finding("web.injection", nil, ip, e)
	type cls struct {
		c Class
		n int32
	}
	var cs []cls
	s.classes.Each(func(c Class, n int32) { cs = append(cs, cls{c, n}) })
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].n != cs[j].n {
			return cs[i].n > cs[j].n
		}
		return cs[i].c < cs[j].c
	})
	rce := false
	techs := map[string]bool{}
	var parts []string
	classes := map[string]int32{}
	var examples []map[string]string
	for _, x := range cs {
		m := s.examples[x.c]
		classes[x.c.String()] = x.n
		techs[x.c.technique()] = true
		switch x.c {
		case ClassCommand, ClassCode, ClassTemplate, ClassJNDI:
			rce = true
		}
		parts = append(parts, fmt.Sprintf("%s %d (e.g. %q in the %s)", x.c, x.n, clip(m.Fragment, 40), m.Field))
		examples = append(examples, map[string]string{"class": x.c.String(), "rule": m.Rule, "field": m.Field.String(), "fragment": m.Fragment})
	}
	for _, t := range []string{"T1190", "T1059", "T1595.002"} {
		if techs[t] {
			a.Techniques = append(a.Techniques, t)
		}
	}
	onlyProbe := len(cs) == 1 && cs[0].c == ClassProbe
	a.Severity = event.SeverityMedium
	if rce || s.matched >= int64(d.severeAt) || len(cs) >= 3 && !onlyProbe {
		a.Severity = event.SeverityHigh
	}
	a.Score = strength(float64(s.matched), float64(d.min))
	if rce {
		a.Score = max(a.Score, 0.8)
	}
	fields := map[string]int32{}
	s.fields.Each(func(f Field, n int32) { fields[f.String()] = n })
	a.Evidence = map[string]any{
		"requests":           e.requests,
		"payload_requests":   s.matched,
		"answered_2xx":       s.answered,
		"classes":            classes,
		"fields":             fields,
		"examples":           examples,
		"min_requests":       d.min,
		"duration_minutes":   round2(minutes(e.start, e.last)),
		"remote_execution":   rce,
		"scanner_probe_only": onlyProbe,
	}
	a.Description = fmt.Sprintf("%s sent %s with injection payloads in %s: %s",
		a.Entity.Value, plural(int(s.matched), "request", "requests"), span(e), strings.Join(parts, "; "))
	if s.answered > 0 {
		a.Description += fmt.Sprintf("; %d answered 2xx", s.answered)
	}
	emit(a)
}
