package dns

import (
	"sort"

	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// Every DNS detector's state survives a restart (detect.Snapshotter): the
// open episodes and the volume baselines, keyed by their routes (the
// client's 16 address bytes, or the registered domain), and the tunnel
// detector's query-type mix as shard state (summed when the snapshot is
// restored into another sharding). The DGA score cache is not state.

var (
	_ detect.Snapshotter = (*tunnel)(nil)
	_ detect.Snapshotter = (*dgaDet)(nil)
	_ detect.Snapshotter = (*orphan)(nil)
	_ detect.Snapshotter = (*volume)(nil)
)

func (es *episodes[V]) snapshot(w *detect.SnapshotWriter) error {
	es.tab.Snapshot(w, 0, codec.MustFor[ep[V]](), nil)
	return nil
}

func (es *episodes[V]) restore(r *detect.SnapshotReader) error {
	return es.tab.Restore(r, 0, codec.MustFor[ep[V]](), nil)
}

// Snapshot writes the open episodes and the shard's query-type mix
// (detect.Snapshotter).
func (d *tunnel) Snapshot(w *detect.SnapshotWriter) error {
	w.ShardState((*typeMix)(d))
	return d.eps.snapshot(w)
}

// Restore reads them back (detect.Snapshotter).
func (d *tunnel) Restore(r *detect.SnapshotReader) error {
	if err := r.RestoreShard((*typeMix)(d)); err != nil {
		return err
	}
	return d.eps.restore(r)
}

// typeMix encodes a tunnel detector's query-type mix.
type typeMix tunnel

// MarshalState writes the mix in type order.
func (m *typeMix) MarshalState(e *codec.Enc) {
	types := make([]string, 0, len(m.mix))
	for t := range m.mix {
		types = append(types, t)
	}
	sort.Strings(types)
	e.Varint(m.mixN)
	e.Uvarint(uint64(len(types)))
	for _, t := range types {
		e.String(t)
		e.Varint(m.mix[t])
	}
}

// UnmarshalState adds a saved mix to the current one.
func (m *typeMix) UnmarshalState(d *codec.Dec) error {
	n := d.Varint()
	k := d.Len(2)
	add := make(map[string]int64, k)
	for i := 0; i < k && d.Err() == nil; i++ {
		t := d.String()
		add[t] += d.Varint()
	}
	if err := d.Err(); err != nil {
		return err
	}
	m.mixN += n
	for t, c := range add {
		if _, ok := m.mix[t]; ok || len(m.mix) < 256 {
			m.mix[t] += c
		}
	}
	return nil
}

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *dgaDet) Snapshot(w *detect.SnapshotWriter) error { return d.eps.snapshot(w) }

// Restore reads them back (detect.Snapshotter).
func (d *dgaDet) Restore(r *detect.SnapshotReader) error { return d.eps.restore(r) }

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *orphan) Snapshot(w *detect.SnapshotWriter) error { return d.eps.snapshot(w) }

// Restore reads them back (detect.Snapshotter).
func (d *orphan) Restore(r *detect.SnapshotReader) error { return d.eps.restore(r) }

// Snapshot writes every client's volume baseline and open anomaly
// (detect.Snapshotter).
func (d *volume) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[volState](), nil)
	return nil
}

// Restore reads them back and lists the open anomalies again
// (detect.Snapshotter).
func (d *volume) Restore(r *detect.SnapshotReader) error {
	return d.tab.Restore(r, 0, codec.MustFor[volState](), func(key string, s *volState) error {
		if s.anom {
			d.open[key] = struct{}{}
		}
		return nil
	})
}
