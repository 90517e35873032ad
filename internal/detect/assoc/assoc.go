// Package assoc applies mined association rules (package learn/rules) in
// the stream: per source and window it collects the same items the rules
// were mined from (account names, networks, probed paths, user agents) and
// reports a source whose items hold every item of a rule — the source
// matches the signature the rule describes.
package assoc

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/learn/rules"
	"winnow/internal/modelfile"
)

// Load reads a rules model file and checks it.
func Load(path, site string) (*rules.Model, []string, error) {
	h, p, err := modelfile.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	warn, err := h.Check(modelfile.Expect{Type: rules.ModelType, TypeVersion: rules.PayloadVersion, Site: site})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot apply model %s: %w", path, err)
	}
	m, err := rules.Decode(p)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot apply model %s: %w", path, err)
	}
	if m.Schema() != h.Schema {
		return nil, nil, fmt.Errorf("cannot apply model %s: %w: schema %q does not match its rules (%s)", path, modelfile.ErrFormat, h.Schema, m.Schema())
	}
	return m, warn, nil
}

// Spec returns the detector "assoc.<kind>" applying m's rules.
func Spec(m *rules.Model, source string) detect.Spec {
	kind := event.KindAuth
	if m.Kind == rules.KindHTTP {
		kind = event.KindHTTP
	}
	c := compile(m)
	return detect.Spec{
		Name: "assoc." + m.Kind,
		Summary: fmt.Sprintf("sources matching %d mined association rules (%s, %s windows) — campaign signatures",
			len(m.Rules), source, m.Window),
		Key: detect.KeySourceIP, Kinds: []event.Kind{kind}, Techniques: []string{"T1110"},
		Params: []detect.Param{
			{Name: "max_entities", Default: "20000", Doc: "sources tracked per shard"},
			{Name: "max_matches", Default: "3", Doc: "rules reported per source and window"},
		},
		New: func(p detect.Params) (detect.Detector, error) { return newDetector(c, source, p) },
	}
}

// compiled indexes a model's rules by item.
type compiled struct {
	m      *rules.Model
	items  map[string]int32 // every item of a rule → id
	byItem [][]int          // item id → rules holding it
	need   [][]int32        // rule → its item ids
}

func compile(m *rules.Model) *compiled {
	c := &compiled{m: m, items: map[string]int32{}}
	for ri, r := range m.Rules {
		var need []int32
		for _, it := range append(slices.Clone(r.If), r.Then...) {
			id, ok := c.items[it]
			if !ok {
				id = int32(len(c.byItem))
				c.items[it] = id
				c.byItem = append(c.byItem, nil)
			}
			c.byItem[id] = append(c.byItem[id], ri)
			need = append(need, id)
		}
		c.need = append(c.need, need)
	}
	return c
}

type state struct {
	start   time.Time
	have    map[int32]struct{}
	matched []int
	samples []event.Sample
}

type detector struct {
	c       *compiled
	source  string
	maxHits int
	tab     *detect.Table[state]
	buf     []string
}

func newDetector(c *compiled, source string, p detect.Params) (detect.Detector, error) {
	n, err := p.PositiveInt("max_entities")
	if err != nil {
		return nil, err
	}
	d := &detector{c: c, source: source}
	if d.maxHits, err = p.PositiveInt("max_matches"); err != nil {
		return nil, err
	}
	d.tab = detect.NewTable(n, detect.TableOptions[state]{Recycle: func(s *state) {
		clear(s.have)
		*s = state{have: s.have}
	}})
	return d, nil
}

func (d *detector) Observe(ev *event.Event, emit detect.Emit) {
	var ok bool
	d.buf, ok = rules.EventItems(d.c.m.Kind, ev, d.buf[:0])
	if !ok {
		return
	}
	src := ev.SrcIP.String()
	start := ev.Time.Truncate(d.c.m.Window)
	var s *state
	for _, it := range d.buf {
		id, known := d.c.items[it]
		if !known {
			continue
		}
		if s == nil {
			s, _ = d.tab.Upsert(src, ev.Time)
			if s.have == nil {
				s.have = map[int32]struct{}{}
			}
			if !s.start.Equal(start) {
				clear(s.have)
				s.start, s.matched, s.samples = start, s.matched[:0], s.samples[:0]
			}
			if len(s.samples) < 3 {
				s.samples = append(s.samples, event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: string(ev.Raw)})
			}
		}
		if _, dup := s.have[id]; dup {
			continue
		}
		s.have[id] = struct{}{}
		for _, ri := range d.c.byItem[id] {
			if len(s.matched) >= d.maxHits || slices.Contains(s.matched, ri) || !d.holds(s, ri) {
				continue
			}
			s.matched = append(s.matched, ri)
			emit(d.alert(src, ev, s, ri))
		}
	}
}

func (d *detector) holds(s *state, ri int) bool {
	for _, id := range d.c.need[ri] {
		if _, ok := s.have[id]; !ok {
			return false
		}
	}
	return true
}

func (d *detector) alert(src string, ev *event.Event, s *state, ri int) event.Alert {
	r := d.c.m.Rules[ri]
	var related []event.Entity
	for _, it := range append(slices.Clone(r.If), r.Then...) {
		if u, ok := strings.CutPrefix(it, "user="); ok {
			related = append(related, event.Entity{Type: event.EntityUser, Value: u})
		}
	}
	a := event.Alert{
		Rule: "assoc." + d.c.m.Kind,
		Description: fmt.Sprintf("%s matches the mined signature %s, seen in %d of %d %s windows of the training archive",
			src, r, r.Count, d.c.m.Transactions, d.c.m.Window),
		Entity: event.Entity{Type: event.EntityIP, Value: src}, Start: s.start, End: ev.Time,
		Severity: event.SeverityLow, Score: r.Confidence, Techniques: []string{"T1110"}, Related: related,
		Evidence: map[string]any{
			"rule_if": r.If, "rule_then": r.Then, "support": r.Support, "confidence": r.Confidence, "lift": r.Lift,
			"model": d.source, "window": d.c.m.Window.String(),
		},
		Samples: slices.Clone(s.samples),
	}
	a.SourceIP, _ = netip.ParseAddr(src)
	return a
}

func (d *detector) Advance(t time.Time, _ detect.Emit) { d.tab.Expire(t, d.c.m.Window, nil) }
func (d *detector) Flush(detect.Emit)                  {}
func (d *detector) Stats() detect.Stats                { return d.tab.Stats() }
