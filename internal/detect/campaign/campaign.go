// Package campaign is the stream side of campaign clustering (package
// learn/campaign): per attacked host (auth) or site (web), it profiles the
// sources that fail against it — account names tried, paths probed (4xx
// and 5xx answers), user agents, pace, network — and reports the groups of
// sources that behave as one, with what binds them.
package campaign

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/learn/campaign"
)

// Register adds campaign.auth and campaign.web.
func Register(r *detect.Registry) {
	r.MustRegister(Spec(false))
	r.MustRegister(Spec(true))
}

// Spec returns campaign.auth (web false) or campaign.web.
func Spec(web bool) detect.Spec {
	s := detect.Spec{
		Name:       "campaign.auth",
		Summary:    "sources failing logins on a host that share account-name lists, pace and networks: one campaign",
		Key:        detect.KeyHost,
		Kinds:      []event.Kind{event.KindAuth},
		Techniques: []string{"T1110"},
	}
	if web {
		s.Name, s.Summary, s.Key, s.Kinds, s.Techniques = "campaign.web",
			"clients probing a site whose failed paths, user agents, pace and networks match: one campaign",
			detect.KeySite, []event.Kind{event.KindHTTP}, []string{"T1595"}
	}
	s.Params = []detect.Param{
		{Name: "threshold", Default: "0.6", Doc: "combined similarity two sources need to be linked (0–1)"},
		{Name: "min_events", Default: "10", Doc: "failed events a source needs to be profiled into a campaign"},
		{Name: "min_members", Default: "2", Doc: "sources a campaign needs to be reported"},
		{Name: "period", Default: "24h", Doc: "campaigns are reported every period of event time (and at the end) when they have new members"},
		{Name: "max_entities", Default: "2000", Doc: "sources profiled per host or site per shard (least recently active evicted first)"},
		{Name: "max_targets", Default: "1000", Doc: "hosts or sites tracked per shard"},
	}
	s.New = func(p detect.Params) (detect.Detector, error) { return newDetector(s.Name, s.Key, web, p) }
	return s
}

type target struct {
	profiles *detect.Table[*campaign.Profile]
	// reported maps each member of a reported campaign to the index of
	// that report in sizes (the campaign's size when reported).
	reported map[string]int
	sizes    []int
	next     time.Time // next report
	last     time.Time // the target's latest failed attempt
}

type detector struct {
	rule       string
	key        detect.Key
	web        bool
	opt        campaign.Options
	minMembers int
	period     time.Duration
	maxEnt     int
	targets    *detect.Table[target]
}

func newDetector(rule string, key detect.Key, web bool, p detect.Params) (detect.Detector, error) {
	d := &detector{rule: rule, key: key, web: web}
	var err error
	if d.opt.Threshold, err = p.Float("threshold"); err != nil {
		return nil, err
	}
	if d.opt.MinEvents, err = p.PositiveInt("min_events"); err != nil {
		return nil, err
	}
	if d.minMembers, err = p.Int("min_members"); err != nil {
		return nil, err
	}
	if d.period, err = p.PositiveDuration("period"); err != nil {
		return nil, err
	}
	if d.maxEnt, err = p.PositiveInt("max_entities"); err != nil {
		return nil, err
	}
	mt, err := p.PositiveInt("max_targets")
	if err != nil {
		return nil, err
	}
	if !(d.opt.Threshold > 0 && d.opt.Threshold <= 1) || d.minMembers < 2 {
		return nil, fmt.Errorf("detector %s: threshold in (0, 1] and min_members ≥ 2 are required", rule)
	}
	d.targets = detect.NewTable(mt, detect.TableOptions[target]{})
	return d, nil
}

func (d *detector) Observe(ev *event.Event, emit detect.Emit) {
	if !ev.SrcIP.IsValid() || !campaign.Failed(ev) {
		return
	}
	key, ok := detect.KeyValue(d.key, ev)
	if !ok {
		return
	}
	t, created := d.targets.Upsert(key, ev.Time)
	if created || t.profiles == nil {
		d.init(t, ev.Time.Add(d.period))
	}
	if ev.Time.After(t.last) {
		t.last = ev.Time
	}
	src := ev.SrcIP.String()
	p, _ := t.profiles.Upsert(src, ev.Time)
	if *p == nil {
		*p = campaign.NewProfile(src)
	}
	(*p).Add(ev)
	if !ev.Time.Before(t.next) {
		d.report(key, t, emit, growth)
		t.next = ev.Time.Add(d.period)
	}
}

// init makes t an empty target whose first report is due at next.
func (d *detector) init(t *target, next time.Time) {
	t.profiles = detect.NewTable(d.maxEnt, detect.TableOptions[*campaign.Profile]{})
	t.reported, t.sizes, t.next = map[string]int{}, nil, next
}

// growth is how much a reported campaign must grow before a periodic
// report repeats it (the final report, at Flush, repeats any growth).
const growth = 1.5

// report clusters a target's sources and emits the campaigns that are new
// or grew by the factor grow since they were reported.
func (d *detector) report(key string, t *target, emit detect.Emit, grow float64) {
	var ps []*campaign.Profile
	t.profiles.Each(func(_ string, p **campaign.Profile) bool {
		ps = append(ps, *p)
		return true
	})
	for _, c := range campaign.Cluster(ps, d.opt) {
		if len(c.Members) < d.minMembers {
			continue
		}
		prev := 0
		for _, m := range c.Members {
			if i, ok := t.reported[m]; ok {
				prev = max(prev, t.sizes[i])
			}
		}
		if prev > 0 && float64(len(c.Members)) < grow*float64(prev) {
			continue
		}
		for _, m := range c.Members {
			t.reported[m] = len(t.sizes)
		}
		t.sizes = append(t.sizes, len(c.Members))
		emit(d.alert(key, &c, t.last))
	}
}

// alert reports a campaign as seen at asOf (the target's latest attempt):
// the finding spans the campaign's first attempt to the report, and the
// members' last attempt is in the evidence.
func (d *detector) alert(key string, c *campaign.Campaign, asOf time.Time) event.Alert {
	var related []event.Entity
	for _, m := range c.Members {
		related = append(related, event.Entity{Type: event.EntityIP, Value: m})
	}
	what := "host"
	if d.web {
		what = "site"
	}
	var reasons []string
	for _, r := range c.Reasons {
		reasons = append(reasons, r.Text)
	}
	// Campaign membership is context: it links the members' incidents
	// and raises their risk a little; their own findings say how bad
	// each one is.
	sev := event.SeverityLow
	ev := map[string]any{
		"members": c.Members, "size": len(c.Members), "events": c.Events, "similarity": c.Score,
		"reasons": strings.Join(reasons, "; "), what: key, "last_activity": c.Last.UTC().Format(time.RFC3339),
	}
	if len(c.Shared) > 0 {
		label := "shared_names"
		if d.web {
			label = "shared_paths"
		}
		ev[label] = c.Shared
		ev[label+"_count"] = len(c.Shared)
	}
	a := event.Alert{
		Rule:        d.rule,
		Description: fmt.Sprintf("%s against %s %s", c.Describe(), what, key),
		// The finding is about the attacked host or site; the members
		// are related entities, so correlation links their incidents
		// without crediting the campaign to one of them.
		Entity: event.Entity{Type: event.EntityHost, Value: key},
		Start:  c.First, End: latest(asOf, c.Last), Severity: sev, Score: cmp.Or(c.Score, 0.5),
		Techniques: []string{"T1110"}, Related: related, Evidence: ev, Samples: c.Samples,
	}
	if d.web {
		a.Techniques = []string{"T1595"}
	}
	a.SourceIP, _ = netip.ParseAddr(c.Members[0])
	return a
}

func (d *detector) Advance(now time.Time, emit detect.Emit) {
	d.targets.Each(func(key string, t *target) bool {
		if t.profiles != nil && !now.Before(t.next) {
			d.report(key, t, emit, growth)
			t.next = now.Add(d.period)
		}
		return true
	})
}

func (d *detector) Flush(emit detect.Emit) {
	var keys []string
	d.targets.Each(func(key string, _ *target) bool {
		keys = append(keys, key)
		return true
	})
	slices.Sort(keys)
	for _, k := range keys {
		if t := d.targets.Get(k); t != nil && t.profiles != nil {
			d.report(k, t, emit, 1.0000001)
		}
	}
}

func (d *detector) Stats() detect.Stats {
	s := d.targets.Stats()
	d.targets.Each(func(_ string, t *target) bool {
		if t.profiles != nil {
			s = s.Add(t.profiles.Stats())
		}
		return true
	})
	return s
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
