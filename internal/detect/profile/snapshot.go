package profile

import (
	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// The profiles survive a restart (detect.Snapshotter): each client's
// software families and hours, and an odd-hour episode still open, keyed
// and routed by the client's address.

var (
	_ detect.Snapshotter = (*webClient)(nil)
	_ detect.Snapshotter = (*hourly)(nil)
)

func route(key string, _ any) string { return detect.RouteOfValue(detect.KeySourceIP, key) }

// Snapshot writes every client's profile (detect.Snapshotter).
func (d *webClient) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[client](), func(k string, v *client) string { return route(k, v) })
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *webClient) Restore(r *detect.SnapshotReader) error {
	return d.tab.Restore(r, 0, codec.MustFor[client](), nil)
}

// Snapshot writes every client's hours and open episode (detect.Snapshotter).
func (d *hourly) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[hourState](), func(k string, v *hourState) string { return route(k, v) })
	return nil
}

// Restore reads them back and rebuilds the set of open episodes
// (detect.Snapshotter).
func (d *hourly) Restore(r *detect.SnapshotReader) error {
	return d.tab.Restore(r, 0, codec.MustFor[hourState](), func(key string, s *hourState) error {
		if s.ep != nil {
			if d.open == nil {
				d.open = map[string]struct{}{}
			}
			d.open[key] = struct{}{}
		}
		return nil
	})
}
