package linkage

import (
	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// The linkage detectors' state survives a restart (detect.Snapshotter):
// every entity's values, day sketches and baselines, keyed by the entity
// (routed by it), and the shard's current day as shard state.

var _ detect.Snapshotter = (*detector)(nil)

var stateCodec = codec.MustFor[state]()

// Snapshot writes the entities and the current day (detect.Snapshotter).
func (d *detector) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, stateCodec, func(key string, _ *state) string { return detect.RouteOfValue(d.l.Key, key) })
	w.ShardState((*dayClock)(d))
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *detector) Restore(r *detect.SnapshotReader) error {
	if err := r.RestoreShard((*dayClock)(d)); err != nil {
		return err
	}
	return d.tab.Restore(r, 0, stateCodec, func(_ string, s *state) error {
		if s.hll != nil {
			d.sketched++
		}
		return nil
	})
}

// dayClock encodes a detector's current day.
type dayClock detector

// MarshalState writes the day and whether the clock started.
func (c *dayClock) MarshalState(e *codec.Enc) {
	e.Bool(c.started)
	e.Varint(int64(c.today))
}

// UnmarshalState takes the latest day of the saved ones.
func (c *dayClock) UnmarshalState(d *codec.Dec) error {
	started := d.Bool()
	today := int32(d.Varint())
	if err := d.Err(); err != nil {
		return err
	}
	if started && (!c.started || today > c.today) {
		c.started, c.today = true, today
	}
	return nil
}
