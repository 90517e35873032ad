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

var _ detect.Snapshotter = (*resolver)(nil)

// Snapshot writes the shard's resolver candidates and recent questions
// as shard state: the resolver detector is keyed by domain but tracks
// addresses, so its state is the shard's, not an entity's
// (detect.Snapshotter).
func (d *resolver) Snapshot(w *detect.SnapshotWriter) error {
	w.ShardState((*resolverShard)(d))
	return nil
}

// Restore reads them back, merging the shards of another sharding
// (detect.Snapshotter).
func (d *resolver) Restore(r *detect.SnapshotReader) error {
	return r.RestoreShard((*resolverShard)(d))
}

// resolverShard encodes a resolver detector's state.
type resolverShard resolver

// MarshalState writes the episodes, then the recent questions in order.
func (s *resolverShard) MarshalState(e *codec.Enc) {
	detect.EncodeTable(e, s.eps.tab, codec.MustFor[ep[resolverState]]())
	ac := codec.MustFor[asked]()
	live := 0
	for _, k := range s.order[s.head:] {
		if _, ok := s.recent[k]; ok {
			live++
		}
	}
	e.Uvarint(uint64(live))
	for _, k := range s.order[s.head:] {
		if a, ok := s.recent[k]; ok {
			e.Uint64(k)
			ac.Encode(e, &a)
		}
	}
}

// UnmarshalState merges saved state into the detector's.
func (s *resolverShard) UnmarshalState(d *codec.Dec) error {
	if err := detect.DecodeTable(d, s.eps.tab, codec.MustFor[ep[resolverState]]()); err != nil {
		return err
	}
	ac := codec.MustFor[asked]()
	n := d.Len(9)
	for i := 0; i < n && d.Err() == nil; i++ {
		k := d.Uint64()
		var a asked
		if err := ac.Decode(d, &a); err != nil {
			return err
		}
		if old, ok := s.recent[k]; ok {
			if old.at < a.at {
				s.recent[k] = a
			}
			continue
		}
		if len(s.recent) < s.maxNames {
			s.recent[k] = a
			s.order = append(s.order, k)
		}
	}
	return d.Err()
}
