// Package forest applies compiled behaviour models in the stream: models
// trained in batch over the archive ('winnow learn forest', 'winnow learn
// vfdt') score per-entity behaviour vectors (package learn/vector) as the
// entity's windows close, and a window at or above the model's threshold
// is a finding explained by its top features and values and, for a single
// tree, the path through the tree.
package forest

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/learn/forest"
	"winnow/internal/learn/vector"
)

// Model is a compiled behaviour model. Implementations are read-only
// after loading: every method is safe for concurrent use.
type Model interface {
	// Score is the probability (0–1) that the vector is bad.
	Score(x []float64) float64
	// Explain returns the features that moved the score most, with their
	// effect on it.
	Explain(x []float64, n int) []forest.Contribution
	// Path is the vector's way through a single tree (nil for an
	// ensemble).
	Path(x []float64) []forest.Step
}

// Compiled is a loaded model with what the detector needs to apply it.
type Compiled struct {
	Model     Model
	Spec      vector.Spec
	Threshold float64
	Algo      string // "random forest", "CART tree", "Hoeffding tree"
	Family    string // rule family: "forest" or "vfdt"
	Source    string // the model file (for findings)
}

func (c *Compiled) family() string {
	if c.Family == "" {
		return "forest"
	}
	return c.Family
}

// ForestModel adapts a learn/forest model.
type ForestModel struct{ F *forest.Forest }

// Score implements Model.
func (m ForestModel) Score(x []float64) float64 { return m.F.Score(x) }

// Explain implements Model.
func (m ForestModel) Explain(x []float64, n int) []forest.Contribution {
	_, top := m.F.Explain(x, n)
	return top
}

// Path implements Model: the path for a single tree, nil for a forest.
func (m ForestModel) Path(x []float64) []forest.Step {
	if len(m.F.Trees) != 1 {
		return nil
	}
	_, steps := m.F.Path(x)
	return steps
}

// KeyName is the short name of a key in rule names ("forest.source_ip").
func KeyName(k detect.Key) string {
	switch k {
	case detect.KeySourceIP:
		return "source_ip"
	case detect.KeyUser:
		return "user"
	case detect.KeyHost:
		return "host"
	case detect.KeySite:
		return "site"
	case detect.KeyDomain:
		return "domain"
	}
	return "none"
}

// Spec returns the detector "forest.<key>" (or "vfdt.<key>") applying c.
func Spec(c *Compiled) detect.Spec {
	kinds := c.Spec.Kinds
	if len(kinds) == 0 {
		kinds = []event.Kind{event.KindAuth, event.KindSyslog, event.KindService, event.KindHTTP, event.KindDNS}
	}
	return detect.Spec{
		Name: c.family() + "." + KeyName(c.Spec.Key),
		Summary: fmt.Sprintf("compiled %s (%s) scoring %s behaviour over %s windows (threshold %.3f)",
			c.Algo, c.Source, c.Spec.Key, c.Spec.Window, c.Threshold),
		Key:   c.Spec.Key,
		Kinds: kinds,
		Params: []detect.Param{
			{Name: "threshold", Default: "model", Doc: "score (0–1) at or above which a window is reported; 'model' uses the threshold stored in the model"},
			{Name: "top_features", Default: "5", Doc: "features reported per finding (those that moved the score most)"},
			{Name: "samples", Default: "5", Doc: "evidence lines kept per finding"},
			{Name: "episode_gap", Default: "1h", Doc: "bad windows of an entity closer than this are reported as one finding"},
			{Name: "max_entities", Default: "50000", Doc: "entities with an open window per shard; events of new entities beyond it are not scored (counted as deferred)"},
		},
		New: func(p detect.Params) (detect.Detector, error) { return newDetector(c, p) },
	}
}

type detector struct {
	c         *Compiled
	threshold float64
	top       int
	gap       time.Duration
	w         *vector.Windower
	emit      detect.Emit
	sink      func(*vector.Window)
	// open holds each entity's finding while its bad windows keep coming
	// (bounded: only entities with a bad window, at most max_entities).
	open map[string]*episode
	max  int
	shed int64
}

// episode is an entity's run of bad windows, reported as one finding.
type episode struct {
	a       event.Alert
	windows int
	events  int
}

func newDetector(c *Compiled, p detect.Params) (detect.Detector, error) {
	d := &detector{c: c, threshold: c.Threshold}
	var err error
	if th := p.Strings("threshold"); len(th) == 1 && th[0] != "model" {
		if d.threshold, err = p.Float("threshold"); err != nil {
			return nil, err
		}
	}
	if d.top, err = p.Int("top_features"); err != nil {
		return nil, err
	}
	samples, err := p.Int("samples")
	if err != nil {
		return nil, err
	}
	maxEnt, err := p.PositiveInt("max_entities")
	if err != nil {
		return nil, err
	}
	if d.top < 0 || samples < 0 || !(d.threshold >= 0 && d.threshold <= 1) {
		return nil, fmt.Errorf("detector %s.%s: top_features ≥ 0, samples ≥ 0 and threshold in [0, 1] are required", c.family(), KeyName(c.Spec.Key))
	}
	if d.gap, err = p.PositiveDuration("episode_gap"); err != nil {
		return nil, err
	}
	d.max, d.open = maxEnt, map[string]*episode{}
	d.w = vector.NewWindower(vector.Options{Spec: c.Spec, MaxEntities: maxEnt, Samples: samples})
	d.sink = func(w *vector.Window) { d.score(w) }
	return d, nil
}

func (d *detector) Observe(ev *event.Event, emit detect.Emit) {
	d.emit = emit
	d.w.Add(ev, d.sink)
}

func (d *detector) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	d.w.Advance(t, d.sink)
	for key, ep := range d.open {
		if t.Sub(ep.a.End) > d.gap {
			d.report(key, ep)
		}
	}
}

func (d *detector) Flush(emit detect.Emit) {
	d.emit = emit
	d.w.Flush(d.sink)
	keys := make([]string, 0, len(d.open))
	for k := range d.open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		d.report(k, d.open[k])
	}
}

func (d *detector) Stats() detect.Stats {
	s := d.w.Stats()
	s.Expired = 0
	s.Shed += d.shed
	return s
}

func (d *detector) report(key string, ep *episode) {
	delete(d.open, key)
	if ep.windows > 1 {
		ep.a.Evidence["windows"] = ep.windows
		ep.a.Evidence["events_in_episode"] = ep.events
		ep.a.Description += fmt.Sprintf("; %d bad windows, %d events in all", ep.windows, ep.events)
	}
	d.emit(ep.a)
}

func (d *detector) score(w *vector.Window) {
	s := d.c.Model.Score(w.Vector)
	if s < d.threshold {
		return
	}
	ep := d.open[w.Entity]
	if ep != nil && w.First.Sub(ep.a.End) > d.gap {
		d.report(w.Entity, ep)
		ep = nil
	}
	if ep == nil {
		if len(d.open) >= d.max {
			// Report the oldest open episode early to make room.
			var oldKey string
			var old *episode
			for k, e := range d.open {
				if old == nil || e.a.End.Before(old.a.End) {
					oldKey, old = k, e
				}
			}
			d.shed++
			d.report(oldKey, old)
		}
		d.open[w.Entity] = &episode{a: Finding(d.c, w, s, d.threshold, d.top), windows: 1, events: w.Events}
		return
	}
	ep.windows++
	ep.events += w.Events
	if s > ep.a.Score { // the finding shows its worst window
		a := Finding(d.c, w, s, d.threshold, d.top)
		a.Start, a.Samples = ep.a.Start, ep.a.Samples
		ep.a = a
	}
	if w.Last.After(ep.a.End) {
		ep.a.End = w.Last
	}
}

// Finding builds the explained finding for a window scored s.
func Finding(c *Compiled, w *vector.Window, s, threshold float64, top int) event.Alert {
	key := c.Spec.Key
	ent := event.Entity{Type: vector.EntityType(key), Value: w.Entity}
	contrib := c.Model.Explain(w.Vector, top)
	feats := make([]string, 0, len(contrib))
	var parts []string
	for _, ct := range contrib {
		f := fmt.Sprintf("%s=%s (%+.2f)", ct.Name, ct.Shown, ct.Effect)
		feats = append(feats, f)
		if len(parts) < 3 && ct.Effect > 0 {
			parts = append(parts, f)
		}
	}
	ev := map[string]any{
		"score": round(s), "threshold": round(threshold), "model": c.Source, "algorithm": c.Algo,
		"window": c.Spec.Window.String(), "window_start": w.Start.UTC().Format(time.RFC3339),
		"events": w.Events, "top_features": strings.Join(feats, "; "),
	}
	if steps := c.Model.Path(w.Vector); steps != nil {
		path := make([]string, 0, len(steps))
		for _, st := range steps {
			path = append(path, fmt.Sprintf("%s (%.2f)", st.Test, st.Score))
		}
		ev["tree_path"] = strings.Join(path, " → ")
	}
	why := strings.Join(parts, ", ")
	if why == "" {
		why = "no single feature dominates"
	}
	sev := event.SeverityMedium
	if s >= 0.9 && s >= threshold {
		sev = event.SeverityHigh
	}
	a := event.Alert{
		Rule: c.family() + "." + KeyName(key),
		Description: fmt.Sprintf("%s scores %s's behaviour over %d events in %s %.2f (threshold %.2f): %s",
			c.Algo, ent, w.Events, c.Spec.Window, s, threshold, why),
		Entity: ent, Start: w.First, End: w.Last, Severity: sev, Score: s,
		Evidence: ev, Samples: w.Samples,
	}
	switch key {
	case detect.KeySourceIP:
		a.SourceIP, _ = netip.ParseAddr(w.Entity)
	case detect.KeyUser:
		a.User = w.Entity
	}
	return a
}

func round(f float64) float64 { return math.Round(f*1e4) / 1e4 }
