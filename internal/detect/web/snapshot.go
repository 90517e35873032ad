package web

import (
	"strings"

	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// Every web detector's state survives a restart (detect.Snapshotter):
// the open episodes (part 0; keyed by the client's 16 address bytes, or
// by "site\x00address" for site-keyed detectors, whose route is the site),
// the per-site baselines (part 1, keyed and routed by site) and the web
// shell detector's per-site paths (part 2, "site\x00path"). Caches of
// pure functions (user-agent classes, clean strings, directory
// frameworks) are not state; the hot-client filters are rebuilt from the
// restored episodes.

var (
	_ detect.Snapshotter = (*errorsDetector)(nil)
	_ detect.Snapshotter = (*floodDetector)(nil)
	_ detect.Snapshotter = (*injectionDetector)(nil)
	_ detect.Snapshotter = (*loginDetector)(nil)
	_ detect.Snapshotter = (*neverServedDetector)(nil)
	_ detect.Snapshotter = (*rareUADetector)(nil)
	_ detect.Snapshotter = (*scannerDetector)(nil)
	_ detect.Snapshotter = (*sensitiveDetector)(nil)
	_ detect.Snapshotter = (*userAgentDetector)(nil)
	_ detect.Snapshotter = (*webShellDetector)(nil)
)

const (
	partEpisodes = 0
	partSites    = 1
	partPaths    = 2
)

// siteRoute is the route of a "site\x00…" key: the site.
func siteRoute(key string, _ any) string {
	if i := strings.IndexByte(key, 0); i >= 0 {
		return key[:i]
	}
	return key
}

func (es *episodes[V]) snapshot(w *detect.SnapshotWriter, bySite bool) {
	var route func(string, *ep[V]) string
	if bySite {
		route = func(k string, _ *ep[V]) string { return siteRoute(k, nil) }
	}
	es.tab.Snapshot(w, partEpisodes, codec.MustFor[ep[V]](), route)
}

func (es *episodes[V]) restore(r *detect.SnapshotReader) error {
	return es.tab.Restore(r, partEpisodes, codec.MustFor[ep[V]](), nil)
}

func (ss *sites[S]) snapshot(w *detect.SnapshotWriter) {
	ss.tab.Snapshot(w, partSites, codec.MustFor[S](), nil)
}

func (ss *sites[S]) restore(r *detect.SnapshotReader) error {
	ss.last, ss.lastName = nil, ""
	return ss.tab.Restore(r, partSites, codec.MustFor[S](), nil)
}

// fillHot adds every client with an open episode to h.
func fillHot[V any](h *hotSet, es *episodes[V]) {
	es.tab.Each(func(key string, _ *ep[V]) bool {
		var k ipKey
		copy(k[:], key)
		h.add(&k)
		return true
	})
}

// siteSnapshot writes a site-keyed detector's episodes and sites.
func siteSnapshot[V, S any](w *detect.SnapshotWriter, sc *siteClient[V], ss *sites[S]) error {
	sc.eps.snapshot(w, true)
	ss.snapshot(w)
	return nil
}

func siteRestore[V, S any](r *detect.SnapshotReader, sc *siteClient[V], ss *sites[S]) error {
	if err := sc.eps.restore(r); err != nil {
		return err
	}
	return ss.restore(r)
}

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *errorsDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.eps.snapshot(w, false)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *errorsDetector) Restore(r *detect.SnapshotReader) error {
	if err := d.eps.restore(r); err != nil {
		return err
	}
	fillHot(&d.hot, d.eps)
	return nil
}

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *injectionDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.eps.snapshot(w, false)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *injectionDetector) Restore(r *detect.SnapshotReader) error {
	if err := d.eps.restore(r); err != nil {
		return err
	}
	fillHot(&d.hot, d.eps)
	return nil
}

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *loginDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.eps.snapshot(w, false)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *loginDetector) Restore(r *detect.SnapshotReader) error {
	if err := d.eps.restore(r); err != nil {
		return err
	}
	fillHot(&d.hot, d.eps)
	return nil
}

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *sensitiveDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.eps.snapshot(w, false)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *sensitiveDetector) Restore(r *detect.SnapshotReader) error { return d.eps.restore(r) }

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *userAgentDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.eps.snapshot(w, false)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *userAgentDetector) Restore(r *detect.SnapshotReader) error { return d.eps.restore(r) }

// Snapshot writes the open episodes and the sites' baselines
// (detect.Snapshotter).
func (d *floodDetector) Snapshot(w *detect.SnapshotWriter) error {
	return siteSnapshot(w, &d.sc, d.sites)
}

// Restore reads them back (detect.Snapshotter).
func (d *floodDetector) Restore(r *detect.SnapshotReader) error {
	return siteRestore(r, &d.sc, d.sites)
}

// Snapshot writes the open episodes and what each site serves
// (detect.Snapshotter).
func (d *neverServedDetector) Snapshot(w *detect.SnapshotWriter) error {
	return siteSnapshot(w, &d.sc, d.sites)
}

// Restore reads them back (detect.Snapshotter).
func (d *neverServedDetector) Restore(r *detect.SnapshotReader) error {
	return siteRestore(r, &d.sc, d.sites)
}

// Snapshot writes the open episodes and the sites' user-agent mixes
// (detect.Snapshotter).
func (d *rareUADetector) Snapshot(w *detect.SnapshotWriter) error {
	return siteSnapshot(w, &d.sc, d.sites)
}

// Restore reads them back (detect.Snapshotter).
func (d *rareUADetector) Restore(r *detect.SnapshotReader) error {
	return siteRestore(r, &d.sc, d.sites)
}

// Snapshot writes the open episodes and the sites' missing-page baselines
// (detect.Snapshotter).
func (d *scannerDetector) Snapshot(w *detect.SnapshotWriter) error {
	return siteSnapshot(w, &d.sc, d.sites)
}

// Restore reads them back (detect.Snapshotter).
func (d *scannerDetector) Restore(r *detect.SnapshotReader) error {
	return siteRestore(r, &d.sc, d.sites)
}

// Snapshot writes the open episodes, the sites and their executable
// paths (detect.Snapshotter).
func (d *webShellDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.paths.Snapshot(w, partPaths, codec.MustFor[wsPath](), func(k string, _ *wsPath) string { return siteRoute(k, nil) })
	return siteSnapshot(w, &d.sc, d.sites)
}

// Restore reads them back (detect.Snapshotter).
func (d *webShellDetector) Restore(r *detect.SnapshotReader) error {
	if err := d.paths.Restore(r, partPaths, codec.MustFor[wsPath](), nil); err != nil {
		return err
	}
	return siteRestore(r, &d.sc, d.sites)
}

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *exploitDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.eps.snapshot(w, false)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *exploitDetector) Restore(r *detect.SnapshotReader) error { return d.eps.restore(r) }
