package auth

import (
	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// Every auth detector's state survives a restart (detect.Snapshotter):
// each table's entries are written with the codec of their Go type, keyed
// by the table key, which is the entity's route (the 16 bytes of a source
// address, or the account or host name); the doorkeeper of an episode
// table is the shard state.

var (
	_ detect.Snapshotter = (*sourceDetector)(nil)
	_ detect.Snapshotter = (*distributed)(nil)
	_ detect.Snapshotter = (*historyDetector)(nil)
	_ detect.Snapshotter = (*keyedEpisodes[svcState])(nil)
)

func (es *episodes[V]) snapshot(w *detect.SnapshotWriter) error {
	es.tab.Snapshot(w, 0, codec.MustFor[ep[V]](), nil)
	w.ShardState(es.door)
	return nil
}

func (es *episodes[V]) restore(r *detect.SnapshotReader) error {
	if err := r.RestoreShard(es.door); err != nil {
		return err
	}
	return es.tab.Restore(r, 0, codec.MustFor[ep[V]](), nil)
}

// Snapshot writes the open episodes, and the learned baseline of the
// rules that have one as shard state (detect.Snapshotter).
func (d *sourceDetector) Snapshot(w *detect.SnapshotWriter) error {
	if d.base == nil {
		return d.eps.snapshot(w)
	}
	d.eps.tab.Snapshot(w, 0, codec.MustFor[ep[srcState]](), nil)
	w.ShardState(d.eps.door, d.base)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *sourceDetector) Restore(r *detect.SnapshotReader) error {
	if d.base == nil {
		return d.eps.restore(r)
	}
	if err := r.RestoreShard(d.eps.door, d.base); err != nil {
		return err
	}
	return d.eps.tab.Restore(r, 0, codec.MustFor[ep[srcState]](), nil)
}

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *distributed) Snapshot(w *detect.SnapshotWriter) error { return d.eps.snapshot(w) }

// Restore reads them back (detect.Snapshotter).
func (d *distributed) Restore(r *detect.SnapshotReader) error { return d.eps.restore(r) }

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *keyedEpisodes[V]) Snapshot(w *detect.SnapshotWriter) error { return d.eps.snapshot(w) }

// Restore reads them back (detect.Snapshotter).
func (d *keyedEpisodes[V]) Restore(r *detect.SnapshotReader) error { return d.eps.restore(r) }

// Snapshot writes every account's history: its sources, networks and
// hours (detect.Snapshotter).
func (d *historyDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[history](), nil)
	return nil
}

// Restore reads the histories back (detect.Snapshotter).
func (d *historyDetector) Restore(r *detect.SnapshotReader) error {
	return d.tab.Restore(r, 0, codec.MustFor[history](), nil)
}
