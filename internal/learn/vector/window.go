package vector

import (
	"hash/maphash"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// Window is one closed entity window.
type Window struct {
	Entity      string
	Start, End  time.Time // the window [Start, End)
	First, Last time.Time // its first and last event
	Events      int
	Vector      []float64      // NumFeatures values; owned by the receiver
	Samples     []event.Sample // the first evidence lines
}

// Options configure a Windower.
type Options struct {
	Spec
	// MaxEntities caps the entities with an open window (default 50,000);
	// events of new entities beyond it are not tracked and are counted in
	// Stats.Deferred.
	MaxEntities int
	// Samples is the number of evidence lines kept per window (0: none).
	Samples int
}

// Windower groups events into per-entity tumbling windows and hands each
// window to emit when it closes: when the entity's next event falls in a
// later window, when Advance passes the window's end, or at Flush. Not
// safe for concurrent use.
type Windower struct {
	o        Options
	seed     maphash.Seed
	open     map[string]*entry
	free     []*entry
	boundary time.Time // no open window ends before this
	st       detect.Stats
}

type entry struct {
	acc     *Acc
	start   time.Time
	samples []event.Sample
}

// NewWindower returns a Windower.
func NewWindower(o Options) *Windower {
	if o.MaxEntities <= 0 {
		o.MaxEntities = 50_000
	}
	if o.Window <= 0 {
		o.Window = time.Hour
	}
	return &Windower{o: o, seed: maphash.MakeSeed(), open: make(map[string]*entry)}
}

// Stats reports entities tracked and dropped.
func (w *Windower) Stats() detect.Stats {
	s := w.st
	s.Entities = len(w.open)
	return s
}

// Add adds an event to its entity's window.
func (w *Windower) Add(ev *event.Event, emit func(*Window)) {
	if !w.o.wants(ev.Kind) {
		return
	}
	key, ok := detect.KeyValue(w.o.Key, ev)
	if !ok {
		return
	}
	start := ev.Time.Truncate(w.o.Window)
	e := w.open[key]
	if e != nil && start.After(e.start) {
		w.close(key, e, emit)
		e = nil
	}
	if e == nil {
		if len(w.open) >= w.o.MaxEntities {
			w.st.Deferred++
			return
		}
		if n := len(w.free); n > 0 {
			e, w.free = w.free[n-1], w.free[:n-1]
		} else {
			e = &entry{acc: NewAcc(w.seed)}
		}
		e.start = start
		w.open[key] = e
		if end := start.Add(w.o.Window); w.boundary.IsZero() || end.Before(w.boundary) {
			w.boundary = end
		}
	}
	e.acc.Add(ev)
	if len(e.samples) < w.o.Samples {
		e.samples = append(e.samples, event.Sample{File: ev.Ref.File, Line: ev.Ref.Line, Text: string(ev.Raw)})
	}
}

func (w *Windower) close(key string, e *entry, emit func(*Window)) {
	win := &Window{Entity: key, Start: e.start, End: e.start.Add(w.o.Window), First: e.acc.first, Last: e.acc.last,
		Events: e.acc.Events(), Vector: e.acc.Vector(nil), Samples: e.samples}
	delete(w.open, key)
	e.acc.Reset()
	e.samples = nil
	w.free = append(w.free, e)
	w.st.Expired++
	emit(win)
}

// Advance closes the windows that end at or before t.
func (w *Windower) Advance(t time.Time, emit func(*Window)) {
	if w.boundary.IsZero() || t.Before(w.boundary) {
		return
	}
	var next time.Time
	for key, e := range w.open {
		end := e.start.Add(w.o.Window)
		if !end.After(t) {
			w.close(key, e, emit)
			continue
		}
		if next.IsZero() || end.Before(next) {
			next = end
		}
	}
	w.boundary = next
}

// Flush closes every open window.
func (w *Windower) Flush(emit func(*Window)) {
	for key, e := range w.open {
		w.close(key, e, emit)
	}
	w.boundary = time.Time{}
}
