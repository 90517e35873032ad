package correlate

import (
	"sync"
	"time"

	"winnow/internal/event"
	"winnow/internal/sink"
)

// Reporter is the live form of incidents: it folds each finding a run
// emits into a Correlator and writes it at once to a sink as a report of
// the incident it joined — Finding.Incident is the incident's stable ID
// (findings of several rules and episodes of one entity share it),
// Update counts the incident's earlier reports, Risk is its risk so far.
//
// Emit is safe for concurrent use (detector shards call it from their
// goroutines); reports reach the sink in the order Emit saw them. Memory
// is bounded by Config.MaxIncidents, and incidents that ended a day before
// the newest finding are let go (a later finding opens a new incident).
type Reporter struct {
	mu     sync.Mutex
	c      *Correlator
	out    sink.Sink
	newest time.Time
	n      int
	// Errors receives Write errors (nil: ignored); called under the lock.
	Errors func(error)
	done   int64
}

// retainLive is how long a live run keeps an incident after its end.
const retainLive = 24 * time.Hour

// NewReporter writes incident reports to out.
func NewReporter(out sink.Sink, cfg Config) *Reporter {
	return &Reporter{c: New(cfg), out: out}
}

// Emit reports a finding (handed over, like detect.Emit's).
func (r *Reporter) Emit(a event.Alert) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a.End.After(r.newest) {
		r.newest = a.End
	}
	inc, _ := r.c.Add(a)
	f := sink.Finding{Alert: a, Incident: inc.ID, Update: inc.Version - 1, Open: a.Open, Risk: inc.Risk}
	if err := r.out.Write(&f); err != nil && r.Errors != nil {
		r.Errors(err)
	}
	if r.n++; r.n%1024 == 0 {
		r.done += int64(len(r.c.Expire(r.newest.Add(-retainLive))))
	}
}

// OpenCount returns the incidents held now and how many were let go (ended
// long ago, or dropped by the cap).
func (r *Reporter) OpenCount() (open int, forgotten int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c.Len(), r.done + r.c.Dropped()
}

// Snapshot returns the incidents held now, ranked.
func (r *Reporter) Snapshot() []event.Incident { return r.c.Snapshot() }
