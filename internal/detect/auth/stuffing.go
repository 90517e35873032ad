package auth

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/state/codec"
)

// ---- auth.credential_stuffing: many addresses, a few tries each ----
//
// Credential stuffing replays leaked name/password pairs from many
// addresses (proxies, a botnet), each trying a few accounts once: no source
// reaches a brute-force bar and no account a distributed one. What gives it
// away on the server it targets is the crowd: in a window, many addresses
// that never logged in to the host fail on accounts that exist (Internet
// background guesses root and names the host does not have; people who
// mistype come from addresses they log in from). The detector is keyed by
// host; each host keeps two windows staggered by half their length, so a
// campaign shorter than half a window falls whole into one of them. The
// bar (addresses per window) is learned from the host's own windows with a
// floor (see baseline).

type stuffSrc struct {
	fails, pam int32
	accounts   counted[string]
	ok         bool // logged in successfully later in the window
}

type stuffWin struct {
	idx   int64 // window number (-1: none yet)
	start int64 // unix ns of the first failure counted
	last  int64
	srcs  map[addrKey]*stuffSrc
	over  int64 // sources not tracked (cap)
	smp   samples
}

type stuffHost struct {
	known  map[addrKey]int64 // sources that logged in to the host: last login, unix ns
	pruned int64             // when known was last pruned, unix ns
	win    [2]stuffWin
	base   baseline
}

type stuffing struct {
	c           common
	window      time.Duration
	maxTries    int
	minAccounts int
	minSources  int
	maxSources  int
	tmpl        *baseline // parameters of every host's baseline
	tab         *detect.Table[stuffHost]
	emit        detect.Emit
}

func stuffingSpec() detect.Spec {
	name := "auth.credential_stuffing"
	return detect.Spec{
		Name:    name,
		Summary: "many addresses that never logged in to a host each fail on a few of its existing accounts (leaked credentials replayed from a botnet or proxies)",
		Key:     detect.KeyHost, Kinds: []event.Kind{event.KindAuth},
		Actions:    []event.Action{event.ActLoginFailure, event.ActAuthFailurePAM, event.ActLoginSuccess},
		Techniques: []string{"T1110.004"},
		Params: append([]detect.Param{
			{Name: "window", Default: "2h", Doc: "length of the windows in which the crowd is counted (two, staggered by half: a campaign up to half as long falls whole into one)"},
			{Name: "max_tries", Default: "4", Doc: "failures of one address in a window at most this (more is a brute force, reported by auth.brute_force)"},
			{Name: "min_sources", Default: "10", Doc: "addresses below which nothing is reported; the learned bar (baseline_*) may raise it for a host that such crowds always hit"},
			{Name: "min_accounts", Default: "5", Doc: "distinct existing accounts the crowd tried (a crowd on one account is a distributed brute force)"},
			{Name: "max_sources", Default: "4096", Doc: "addresses tracked per host and window (a flood beyond it is counted, not tracked)"},
			{Name: "max_entities", Default: "1000", Doc: "hosts tracked per shard"},
			detect.SamplesParam(),
		}, baselineParams("stuffing addresses per window")...),
		New: func(p detect.Params) (detect.Detector, error) {
			v, err := positive(p, "max_tries", "min_sources", "min_accounts", "max_sources", "max_entities")
			if err != nil {
				return nil, err
			}
			w, err := p.PositiveDuration("window")
			if err != nil {
				return nil, err
			}
			smp, err := p.Int("samples")
			if err != nil || smp < 0 {
				return nil, errParam("samples must be 0 or more")
			}
			tmpl, err := readBaseline(p, v[1])
			if err != nil {
				return nil, err
			}
			d := &stuffing{c: common{samples: smp, maxNames: 64}, window: w, maxTries: v[0], minSources: v[1],
				minAccounts: v[2], maxSources: v[3], tmpl: tmpl}
			d.tab = detect.NewTable[stuffHost](v[4], detect.TableOptions[stuffHost]{
				Shed: func(host string, h *stuffHost) {
					if d.emit != nil {
						d.closeAll(host, h, d.emit)
					}
				},
			})
			return d, nil
		},
	}
}

func (d *stuffing) host(key string, t time.Time) *stuffHost {
	h, created := d.tab.Upsert(key, t)
	if created || h.known == nil {
		*h = stuffHost{known: map[addrKey]int64{}, base: *d.tmpl}
		h.win[0].idx, h.win[1].idx = -1, -1
	}
	return h
}

func (d *stuffing) Observe(ev *event.Event, emit detect.Emit) {
	if ev.Host == "" || !ev.SrcIP.IsValid() {
		return
	}
	d.emit = emit
	h := d.host(ev.Host, ev.Time)
	t := ev.Time.UnixNano()
	src := keyOf(ev.SrcIP)
	for i := range h.win {
		d.roll(ev.Host, h, i, t, emit)
	}
	if ev.Action == event.ActLoginSuccess {
		for i := range h.win {
			if s := h.win[i].srcs[src]; s != nil {
				s.ok = true
			}
		}
		if _, ok := h.known[src]; ok || len(h.known) < 4*d.maxSources {
			h.known[src] = t
		}
		return
	}
	if ev.User == "" || ev.User == "root" || ev.InvalidUser || (ev.Action == event.ActLoginFailure && ev.Method == "none") {
		return
	}
	if _, known := h.known[src]; known {
		return // a person who logs in from there, mistyping
	}
	for i := range h.win {
		w := &h.win[i]
		if w.srcs == nil {
			w.srcs = map[addrKey]*stuffSrc{}
		}
		s := w.srcs[src]
		if s == nil {
			if len(w.srcs) >= d.maxSources {
				w.over++
				continue
			}
			s = &stuffSrc{}
			w.srcs[src] = s
		}
		if ev.Action == event.ActAuthFailurePAM {
			s.pam++
		} else {
			s.fails++
		}
		s.accounts.Add(ev.User, 1, 8)
		if w.start == 0 {
			w.start = t
		}
		w.last = max(w.last, t)
		if max(s.fails, s.pam) == 1 {
			w.smp.add(ev, d.c.samples)
		}
	}
}

// roll closes window i of h when t is past it.
func (d *stuffing) roll(host string, h *stuffHost, i int, t int64, emit detect.Emit) {
	off := int64(i) * int64(d.window) / 2
	idx := (t - off) / int64(d.window)
	w := &h.win[i]
	if w.idx == idx {
		return
	}
	if w.idx >= 0 {
		d.close(host, h, w, emit)
	}
	*w = stuffWin{idx: idx}
}

// close judges a window and teaches the host's baseline.
func (d *stuffing) close(host string, h *stuffHost, w *stuffWin, emit detect.Emit) {
	type crowd struct {
		key addrKey
		s   *stuffSrc
	}
	var in []crowd
	accounts := map[string]int{}
	for k, s := range w.srcs {
		if int(max(s.fails, s.pam)) > d.maxTries {
			continue
		}
		in = append(in, crowd{k, s})
		s.accounts.Each(func(u string, _ int32) { accounts[u]++ })
	}
	n := len(in)
	bar := h.base.bar
	defer func() {
		h.base.add(int64(n), w.last)
		h.base.refresh()
	}()
	if n < d.minSources || float64(n) < bar || len(accounts) < d.minAccounts {
		return
	}
	sort.Slice(in, func(i, j int) bool {
		a, b := max(in[i].s.fails, in[i].s.pam), max(in[j].s.fails, in[j].s.pam)
		if a != b {
			return a > b
		}
		return string(in[i].key[:]) < string(in[j].key[:])
	})
	var srcs []string
	var related []event.Entity
	fails, ok := 0, 0
	for _, c := range in {
		fails += int(max(c.s.fails, c.s.pam))
		if c.s.ok {
			ok++
		}
		if len(srcs) < 20 {
			srcs = append(srcs, c.key.String())
			related = append(related, event.Entity{Type: event.EntityIP, Value: c.key.String()})
		}
	}
	accts := make([]string, 0, len(accounts))
	for u := range accounts {
		accts = append(accts, u)
	}
	sort.Strings(accts)
	a := event.Alert{Rule: "auth.credential_stuffing", Techniques: []string{"T1110.004"},
		Entity: event.Entity{Type: event.EntityHost, Value: host},
		Start:  unix(w.start), End: unix(w.last), Samples: w.smp.take(), Related: related}
	a.Severity = event.SeverityMedium
	if ok > 0 || float64(n) >= 5*bar {
		a.Severity = event.SeverityHigh
	}
	a.Score = strength(float64(n), max(float64(d.minSources), bar))
	for _, u := range accts[:min(10, len(accts))] {
		a.Related = append(a.Related, event.Entity{Type: event.EntityUser, Value: u})
	}
	a.Evidence = map[string]any{
		"sources": n, "failures": fails, "accounts": len(accounts), "account_sample": first(accts, 10),
		"top_sources": srcs, "sources_that_logged_in": ok, "min_sources": d.minSources, "bar": bar,
		"bar_learned": h.base.learned(), "max_tries_per_source": d.maxTries, "untracked_sources": w.over,
		"host": host, "duration_minutes": round2(minutes(w.start, w.last)),
	}
	a.Description = fmt.Sprintf("on %s, %d addresses that never logged in there failed on %d existing accounts in %s, %.1f tries each (e.g. %s; threshold %d addresses, bar %s)",
		host, n, len(accounts), between(w.start, w.last), float64(fails)/float64(n), strings.Join(first(accts, 4), ", "), d.minSources, h.base.describe())
	if ok > 0 {
		a.Description += fmt.Sprintf("; %s of them then logged in", plural(ok, "address", "addresses"))
	}
	emit(a)
}

func first(l []string, n int) []string { return l[:min(n, len(l))] }

func (d *stuffing) closeAll(host string, h *stuffHost, emit detect.Emit) {
	for i := range h.win {
		if h.win[i].idx >= 0 {
			d.close(host, h, &h.win[i], emit)
			h.win[i] = stuffWin{idx: -1}
		}
	}
}

// Advance closes the windows that ended before t and forgets hosts idle
// for a whole window (and their known sources after 30 days).
func (d *stuffing) Advance(t time.Time, emit detect.Emit) {
	d.emit = emit
	n := t.UnixNano()
	d.tab.Each(func(host string, h *stuffHost) bool {
		for i := range h.win {
			if h.win[i].idx >= 0 {
				d.roll(host, h, i, n, emit)
			}
		}
		if n-h.pruned > int64(time.Hour) {
			h.pruned = n
			for k, at := range h.known {
				if n-at > int64(30*24*time.Hour) {
					delete(h.known, k)
				}
			}
		}
		return true
	})
}

func (d *stuffing) Flush(emit detect.Emit) {
	d.tab.Drain(func(host string, h *stuffHost) { d.closeAll(host, h, emit) })
}

func (d *stuffing) Stats() detect.Stats { return d.tab.Stats() }

// Snapshot writes every host's windows, known sources and baseline
// (detect.Snapshotter; one entry per host, routed by the host name).
func (d *stuffing) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[stuffHost](), nil)
	return nil
}

// Restore reads them back; the baselines take the current parameters.
func (d *stuffing) Restore(r *detect.SnapshotReader) error {
	if err := d.tab.Restore(r, 0, codec.MustFor[stuffHost](), nil); err != nil {
		return err
	}
	d.tab.Each(func(_ string, h *stuffHost) bool {
		h.base.configure(d.tmpl)
		if h.known == nil {
			h.known = map[addrKey]int64{}
		}
		return true
	})
	return nil
}

var _ detect.Snapshotter = (*stuffing)(nil)
