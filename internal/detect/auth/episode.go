package auth

import (
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// ep is one entity's open episode: its time range, evidence lines and the
// detector's own state V.
type ep[V any] struct {
	start, last int64 // unix nanoseconds
	smp         samples
	v           V
	// Live reports (see episodes.probe): whether this episode was reported
	// while open, at which severity and event time.
	rep    bool
	repSev int
	repAt  int64
}

// episodes keeps one open episode per entity key in a bounded Table and
// calls end when an episode is over: its entity was idle for gap (at
// Advance), it was shed by the cap, or the input ended (Flush). A new event
// more than gap after the entity's last one ends the old episode first.
//
// Admission: once the table is 90% full, a key that has no state is only
// admitted on its second sighting within about a gap (detect.Doorkeeper),
// so a flood of one-off keys cannot churn the table and evict entities
// that keep acting; touch then returns nil and the event is counted as
// deferred. Below that pressure every event is counted exactly.
type episodes[V any] struct {
	tab      *detect.Table[ep[V]]
	door     *detect.Doorkeeper
	pressure int
	gap      time.Duration
	end      func(key string, e *ep[V], emit detect.Emit)
	emit     detect.Emit // the current call's emit, for the Shed callback

	// Live runs (probe): peek judges an open episode without closing it;
	// dirty holds the keys touched since the last probe. Tracking starts
	// at the first probe, so batch runs pay nothing.
	peek  func(key string, e *ep[V]) (event.Alert, bool)
	live  bool
	dirty map[string]struct{}
}

// liveUpdate is how much event time must pass before an open episode that
// was already reported is reported again (unless its severity rose).
const liveUpdate = time.Minute

func newEpisodes[V any](c common, end func(key string, e *ep[V], emit detect.Emit)) *episodes[V] {
	es := &episodes[V]{gap: c.gap, end: end, pressure: max(1, c.max*9/10),
		door: detect.NewDoorkeeper(20, c.gap)}
	es.tab = detect.NewTable(c.max, detect.TableOptions[ep[V]]{
		Shed: func(key string, e *ep[V]) {
			if es.emit != nil {
				es.end(key, e, es.emit)
			}
		},
	})
	return es
}

// touch returns key's episode, opened or continued at t, or nil when the
// key was not admitted (see episodes).
func (es *episodes[V]) touch(key []byte, t time.Time, emit detect.Emit) *ep[V] {
	es.emit = emit
	if es.tab.Len() >= es.pressure && es.tab.GetBytes(key) == nil && !es.door.Admit(key, t) {
		return nil
	}
	e, created := es.tab.UpsertBytes(key, t)
	if es.live {
		es.dirty[string(key)] = struct{}{}
	}
	return es.start(string(key), e, created, t, emit)
}

// touchString is touch for a string key (retained).
func (es *episodes[V]) touchString(key string, t time.Time, emit detect.Emit) *ep[V] {
	es.emit = emit
	if es.tab.Len() >= es.pressure && es.tab.Get(key) == nil && !es.door.AdmitString(key, t) {
		return nil
	}
	e, created := es.tab.Upsert(key, t)
	if es.live {
		es.dirty[key] = struct{}{}
	}
	return es.start(key, e, created, t, emit)
}

func (es *episodes[V]) start(key string, e *ep[V], created bool, t time.Time, emit detect.Emit) *ep[V] {
	n := t.UnixNano()
	if !created && n-e.last > int64(es.gap) {
		es.end(key, e, emit)
		*e = ep[V]{}
		created = true
	}
	if created {
		e.start, e.last = n, n
	}
	if n > e.last {
		e.last = n
	}
	return e
}

func (es *episodes[V]) advance(wm time.Time, emit detect.Emit) {
	es.tab.Expire(wm, es.gap, func(key string, e *ep[V]) { es.end(key, e, emit) })
}

// probe reports the open episodes touched since the last probe whose
// evidence is already enough for a finding (peek fires): the first time,
// then again when the severity rises or liveUpdate of event time passed.
// The findings carry Open = true; the episode's end reports it once more,
// closed. Samples are copied, so the episode keeps collecting them.
func (es *episodes[V]) probe(emit detect.Emit) {
	if es.peek == nil {
		return
	}
	if !es.live {
		es.live, es.dirty = true, map[string]struct{}{}
		return
	}
	for key := range es.dirty {
		e := es.tab.Get(key)
		if e == nil {
			continue
		}
		saved := e.smp
		saved.list = append([]event.Sample(nil), e.smp.list...)
		a, ok := es.peek(key, e)
		e.smp = saved
		if !ok {
			continue
		}
		if e.rep && a.Severity <= e.repSev && e.last-e.repAt < int64(liveUpdate) {
			continue
		}
		e.rep, e.repSev, e.repAt = true, a.Severity, e.last
		a.Open = true
		emit(a)
	}
	clear(es.dirty)
}

func (es *episodes[V]) flush(emit detect.Emit) {
	es.tab.Drain(func(key string, e *ep[V]) { es.end(key, e, emit) })
}

func (es *episodes[V]) stats() detect.Stats {
	st := es.tab.Stats()
	st.Deferred = es.door.Deferred()
	return st
}

// base fills the fields every finding has from an episode.
func base[V any](rule string, techniques []string, ent event.Entity, e *ep[V]) event.Alert {
	return event.Alert{
		Rule:       rule,
		Entity:     ent,
		Start:      unix(e.start),
		End:        unix(e.last),
		Techniques: techniques,
		Samples:    e.smp.take(),
	}
}
