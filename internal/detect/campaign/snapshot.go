package campaign

import (
	"time"

	"winnow/internal/detect"
	"winnow/internal/learn/campaign"
	"winnow/internal/state/codec"
)

// The campaign detectors' state survives a restart (detect.Snapshotter):
// per host or site (the route), the profiles of the sources failing
// against it, the campaigns already reported and the next report time.

var _ detect.Snapshotter = (*detector)(nil)

// targetState is a target without its profile table.
type targetState struct {
	Reported map[string]int
	Sizes    []int
	Next     time.Time
	Last     time.Time
}

var (
	targetStateCodec = codec.MustFor[targetState]()
	profileCodec     = codec.MustFor[*campaign.Profile]()
)

// targetCodec encodes a target: its profiles (oldest first) and the rest
// (detect.ValueCodec).
type targetCodec struct{ maxEnt int }

func (targetCodec) Layout() uint64 { return targetStateCodec.Layout() ^ profileCodec.Layout()*31 }

func (targetCodec) Encode(e *codec.Enc, t *target) {
	if t.profiles == nil {
		e.Bool(false)
	} else {
		e.Bool(true)
		detect.EncodeTable(e, t.profiles, profileCodec)
	}
	s := targetState{Reported: t.reported, Sizes: t.sizes, Next: t.next, Last: t.last}
	targetStateCodec.Encode(e, &s)
}

func (c targetCodec) Decode(d *codec.Dec, t *target) error {
	var tab *detect.Table[*campaign.Profile]
	if d.Bool() {
		tab = detect.NewTable(c.maxEnt, detect.TableOptions[*campaign.Profile]{})
		if err := detect.DecodeTable(d, tab, profileCodec); err != nil {
			return err
		}
	}
	var s targetState
	if err := targetStateCodec.Decode(d, &s); err != nil {
		return err
	}
	*t = target{profiles: tab, reported: s.Reported, sizes: s.Sizes, next: s.Next, last: s.Last}
	return nil
}

// Snapshot writes every target (detect.Snapshotter).
func (d *detector) Snapshot(w *detect.SnapshotWriter) error {
	d.targets.Snapshot(w, 0, targetCodec{d.maxEnt}, nil)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *detector) Restore(r *detect.SnapshotReader) error {
	return d.targets.Restore(r, 0, targetCodec{d.maxEnt}, nil)
}
