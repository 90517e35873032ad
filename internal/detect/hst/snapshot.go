package hst

import (
	"fmt"
	"sort"
	"strings"

	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// The Half-Space Trees detector's state survives a restart
// (detect.Snapshotter): each site's forest, encoder, score histogram and
// running mean (part 1, keyed and routed by site), and the clients' open
// windows (part 0, keyed "site client", routed by site).

var _ detect.Snapshotter = (*clientDetector)(nil)

const (
	partWindows = 0
	partSites   = 1
)

// windowSite is the site of a "site client" window key.
func windowSite(key string, _ *clientWindow) string {
	if i := strings.LastIndexByte(key, ' '); i >= 0 {
		return key[:i]
	}
	return key
}

// Snapshot writes the sites' models and the open windows
// (detect.Snapshotter).
func (d *clientDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.clients.Snapshot(w, partWindows, codec.MustFor[clientWindow](), windowSite)
	c := codec.MustFor[siteModel]()
	w.Part(partSites, c.Layout())
	names := make([]string, 0, len(d.sites))
	for s := range d.sites {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		w.Entry(partSites, s, s, 0, c.Marshal(d.sites[s]))
	}
	return nil
}

// Restore reads them back (detect.Snapshotter). A site's forest keeps the
// shape it was grown with even if the parameters changed since.
func (d *clientDetector) Restore(r *detect.SnapshotReader) error {
	c := codec.MustFor[siteModel]()
	if err := r.Check(partSites, c.Layout()); err != nil {
		return err
	}
	for _, en := range r.Entries(partSites) {
		if len(d.sites) >= d.cfg.maxSites {
			break
		}
		m := new(siteModel)
		if err := c.Unmarshal(en.Data, m); err != nil {
			return fmt.Errorf("cannot restore %s: %w", r.Name(), err)
		}
		if m.forest == nil || m.enc == nil || len(m.mean) != len(clientFeatures) {
			return fmt.Errorf("cannot restore %s: %w: site %q has no model", r.Name(), codec.ErrCorrupt, en.Key)
		}
		d.sites[en.Key] = m
	}
	return d.clients.Restore(r, partWindows, codec.MustFor[clientWindow](), nil)
}
