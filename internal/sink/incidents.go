package sink

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
	"math"
	"sync"

	"winnow/internal/event"
)

// Incidents turns the detectors' findings into incident reports: it gives
// every report of one episode (same rule, entity and start) the same
// Incident id, counts its updates, keeps the entity's combined risk (the
// noisy-OR of its rules' strongest findings, as correlate computes it),
// and writes each report to the Sink at once.
//
// Emit is safe for concurrent use (detector shards call it from their own
// goroutines). Memory is bounded: at most Max open incidents and Max
// entities are remembered; beyond that the oldest are forgotten (a later
// report of a forgotten incident starts over at Update 0) and counted.
type Incidents struct {
	mu   sync.Mutex
	out  Sink
	max  int
	open map[string]int // incident id → reports so far
	oord []string       // open ids in the order they were opened (lazy)
	ents map[event.Entity]map[string]float64
	eord []event.Entity
	// Errors receives Write errors (nil: ignored); called under the lock.
	Errors    func(error)
	forgotten int64
}

// NewIncidents writes reports to out, remembering at most max open
// incidents and entities (0 = 100000).
func NewIncidents(out Sink, max int) *Incidents {
	if max <= 0 {
		max = 100000
	}
	return &Incidents{out: out, max: max, open: map[string]int{}, ents: map[event.Entity]map[string]float64{}}
}

// IncidentID is the stable id of a finding's incident.
func IncidentID(a *event.Alert) string {
	h := fnv.New64a()
	h.Write([]byte(a.Rule))
	h.Write([]byte{0, byte(a.Entity.Type)})
	h.Write([]byte(a.Entity.Value))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(a.Start.UnixNano()))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil))
}

// Emit reports a finding (it is handed over, like detect.Emit's).
func (in *Incidents) Emit(a event.Alert) {
	id := IncidentID(&a)
	in.mu.Lock()
	defer in.mu.Unlock()
	n, seen := in.open[id]
	f := Finding{Alert: a, Incident: id, Update: n, Open: a.Open, Risk: in.risk(&a)}
	switch {
	case a.Open && !seen:
		in.open[id] = 1
		in.oord = append(in.oord, id)
		in.trimOpen()
	case a.Open:
		in.open[id] = n + 1
	case seen:
		delete(in.open, id)
	}
	if err := in.out.Write(&f); err != nil && in.Errors != nil {
		in.Errors(err)
	}
}

// risk folds a into its entity's rules and returns the entity's risk.
func (in *Incidents) risk(a *event.Alert) float64 {
	rules := in.ents[a.Entity]
	if rules == nil {
		rules = map[string]float64{}
		in.ents[a.Entity] = rules
		in.eord = append(in.eord, a.Entity)
		for len(in.ents) > in.max {
			delete(in.ents, in.eord[0])
			in.eord = in.eord[1:]
			in.forgotten++
		}
	}
	w := min(max(a.Score, 0), 1) * float64(a.Severity) / 100
	if w > rules[a.Rule] {
		rules[a.Rule] = w
	}
	rest := 1.0
	for _, v := range rules {
		rest *= 1 - v
	}
	return math.Round((1-rest)*1000) / 1000
}

func (in *Incidents) trimOpen() {
	for len(in.open) > in.max && len(in.oord) > 0 {
		id := in.oord[0]
		in.oord = in.oord[1:]
		if _, ok := in.open[id]; ok {
			delete(in.open, id)
			in.forgotten++
		}
	}
	if len(in.oord) > 2*in.max { // drop ids of closed incidents
		kept := in.oord[:0]
		for _, id := range in.oord {
			if _, ok := in.open[id]; ok {
				kept = append(kept, id)
			}
		}
		in.oord = kept
	}
}

// OpenCount returns the incidents open now and how many were forgotten
// because of the cap.
func (in *Incidents) OpenCount() (open int, forgotten int64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.open), in.forgotten
}
