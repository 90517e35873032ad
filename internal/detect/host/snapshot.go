package host

import (
	"encoding/json"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/state/codec"
)

// The host detectors' open groups survive a restart
// (detect.Snapshotter), keyed "host\x00signature" and routed by host. A
// group's first-match evidence is free-form (map[string]any) and is kept
// as JSON: it comes back as JSON values, which render the same.

var _ detect.Snapshotter = (*detector)(nil)

// groupState is a group as it is encoded.
type groupState struct {
	Sig      string
	Severity int
	What     string
	Entity   event.Entity
	Related  []event.Entity
	Evidence []byte // JSON
	Host     string
	Start    time.Time
	Last     time.Time
	Count    int64
	Users    map[string]struct{}
	Samples  []event.Sample
}

var stateCodec = codec.MustFor[groupState]()

// groupCodec encodes groups (detect.ValueCodec).
type groupCodec struct{}

func (groupCodec) Layout() uint64 { return stateCodec.Layout() }

func (groupCodec) Encode(e *codec.Enc, g *group) {
	ev, err := json.Marshal(g.m.evidence)
	if err != nil {
		ev = []byte("{}") // evidence is JSON-encodable by contract; never fail a snapshot over it
	}
	s := groupState{Sig: g.m.sig, Severity: g.m.severity, What: g.m.what, Entity: g.m.entity, Related: g.m.related,
		Evidence: ev, Host: g.host, Start: g.start, Last: g.last, Count: g.count, Users: g.users, Samples: g.samples}
	stateCodec.Encode(e, &s)
}

func (groupCodec) Decode(d *codec.Dec, g *group) error {
	var s groupState
	if err := stateCodec.Decode(d, &s); err != nil {
		return err
	}
	var ev map[string]any
	if len(s.Evidence) > 0 && string(s.Evidence) != "null" {
		if err := json.Unmarshal(s.Evidence, &ev); err != nil {
			d.Fail("group evidence: %v", err)
			return d.Err()
		}
	}
	*g = group{m: match{sig: s.Sig, severity: s.Severity, what: s.What, entity: s.Entity, related: s.Related, evidence: ev},
		host: s.Host, start: s.Start, last: s.Last, count: s.Count, users: s.Users, samples: s.Samples}
	return nil
}

// Snapshot writes the open groups (detect.Snapshotter).
func (d *detector) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, groupCodec{}, func(key string, _ *group) string {
		host, _, _ := strings.Cut(key, "\x00")
		return host
	})
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *detector) Restore(r *detect.SnapshotReader) error {
	return d.tab.Restore(r, 0, groupCodec{}, nil)
}
