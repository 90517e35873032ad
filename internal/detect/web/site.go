package web

import (
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// maxSites bounds the sites one site-keyed detector instance keeps
// baselines for (least recently active sites are shed, counted).
const maxSites = 10000

// sites holds per-site state S of a site-keyed detector. Site baselines
// do not expire with idleness: a site's history is what makes them.
type sites[S any] struct {
	tab  *detect.Table[S]
	init func(s *S)
	// the last site asked for: logs mostly hold one site, so most calls
	// skip the table. Entries move only when a new site is inserted (in
	// the slow path, which resets the cache), so the pointer stays valid;
	// every touchEvery hits the entry is touched for the LRU order.
	lastName string
	last     *S
	hits     int
}

const touchEvery = 256

func newSites[S any](init func(s *S)) *sites[S] {
	return &sites[S]{tab: detect.NewTable(maxSites, detect.TableOptions[S]{}), init: init}
}

// get returns site's state, created on first use (touched at t).
func (ss *sites[S]) get(site string, t time.Time) *S {
	if ss.last != nil && site == ss.lastName {
		if ss.hits++; ss.hits < touchEvery {
			return ss.last
		}
		ss.hits = 0
	}
	s, created := ss.tab.Upsert(site, t)
	if created && ss.init != nil {
		ss.init(s)
	}
	ss.lastName, ss.last = site, s
	return s
}

// peek returns site's state without touching it, or nil.
func (ss *sites[S]) peek(site string) *S { return ss.tab.Get(site) }

// siteOf is the site of an HTTP event (as the Runner routes it).
func siteOf(ev *event.Event) string { return detect.Site(ev) }

// siteClient is the common Observe prologue of site-keyed detectors: the
// episode of (site, client) for ev.
type siteClient[V any] struct {
	eps *episodes[V]
	buf []byte
}

func (sc *siteClient[V]) touch(ev *event.Event, site string, emit detect.Emit) *ep[V] {
	sc.buf = siteClientKey(sc.buf, site, ev.SrcIP)
	e := sc.eps.touch(sc.buf, ev.Time, emit)
	e.requests++
	noteUser(e, ev)
	return e
}

// combined merges the Stats of a client table and a site table.
func combined(a, b detect.Stats) detect.Stats { return a.Add(b) }
