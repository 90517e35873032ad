package dns

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
}

// episodes keeps one open episode per entity key in a bounded Table and
// calls end when an episode is over: its entity was idle for gap (at
// Advance), it was shed by the cap, or the input ended (Flush). A new
// event more than gap after the entity's last one ends the old episode
// first.
type episodes[V any] struct {
	tab  *detect.Table[ep[V]]
	gap  time.Duration
	end  func(key string, e *ep[V], emit detect.Emit)
	emit detect.Emit // the current call's emit, for the Shed callback
}

func newEpisodes[V any](max int, gap time.Duration, end func(key string, e *ep[V], emit detect.Emit)) *episodes[V] {
	es := &episodes[V]{gap: gap, end: end}
	es.tab = detect.NewTable(max, detect.TableOptions[ep[V]]{
		Shed: func(key string, e *ep[V]) {
			if es.emit != nil {
				es.end(key, e, es.emit)
			}
		},
	})
	return es
}

// touch returns key's episode, opened or continued at t. key is retained
// for a new entry (event strings are immutable).
func (es *episodes[V]) touch(key string, t time.Time, emit detect.Emit) *ep[V] {
	es.emit = emit
	e, created := es.tab.Upsert(key, t)
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

func (es *episodes[V]) flush(emit detect.Emit) {
	es.tab.Drain(func(key string, e *ep[V]) { es.end(key, e, emit) })
}

func (es *episodes[V]) stats() detect.Stats { return es.tab.Stats() }

// base fills the fields every finding has from an episode.
func base[V any](rule string, techniques []string, ent event.Entity, e *ep[V]) event.Alert {
	return event.Alert{
		Rule:       rule,
		Entity:     ent,
		Start:      unix(e.start),
		End:        unix(e.last),
		Techniques: techniques,
		Samples:    e.smp.list,
	}
}
