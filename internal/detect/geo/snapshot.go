package geo

import (
	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// The geo detectors' per-account state survives a restart
// (detect.Snapshotter): each account's last login (impossible travel) and
// its learned countries and networks, keyed and routed by account.

var (
	_ detect.Snapshotter = (*travel)(nil)
	_ detect.Snapshotter = (*place)(nil)
)

// Snapshot writes every account's last login (detect.Snapshotter).
func (d *travel) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[lastLogin](), nil)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *travel) Restore(r *detect.SnapshotReader) error {
	return d.tab.Restore(r, 0, codec.MustFor[lastLogin](), nil)
}

// Snapshot writes every account's baseline (detect.Snapshotter).
func (d *place) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[baseline](), nil)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *place) Restore(r *detect.SnapshotReader) error {
	return d.tab.Restore(r, 0, codec.MustFor[baseline](), nil)
}
