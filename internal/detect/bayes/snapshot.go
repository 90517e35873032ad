package bayes

import (
	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// The filter's open episodes survive a restart (detect.Snapshotter); the
// model is the one loaded with --model, not state. Detectors keyed by
// source address write one entry per client (routed by its address). The
// auth filter is keyed by host but its episodes are about addresses,
// accounts or hosts — one shard may hold an address's episode as seen
// from its hosts, another the same address from other hosts — so its
// episodes are the shard's state, merged when restored into another
// sharding.

var _ detect.Snapshotter = (*detector)(nil)

var episodeCodec = codec.MustFor[episode]()

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *detector) Snapshot(w *detect.SnapshotWriter) error {
	if d.m.Kind == KindAuth {
		w.ShardState((*shardEpisodes)(d))
		return nil
	}
	d.table.Snapshot(w, 0, episodeCodec, func(_ string, ep *episode) string { return detect.RouteAddr(ep.srcIP) })
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *detector) Restore(r *detect.SnapshotReader) error {
	if d.m.Kind == KindAuth {
		return r.RestoreShard((*shardEpisodes)(d))
	}
	return d.table.Restore(r, 0, episodeCodec, nil)
}

// shardEpisodes encodes a detector's episode table as shard state.
type shardEpisodes detector

// MarshalState writes the table (detect.EncodeTable).
func (s *shardEpisodes) MarshalState(e *codec.Enc) {
	e.Uint64(episodeCodec.Layout())
	detect.EncodeTable(e, s.table, episodeCodec)
}

// UnmarshalState merges a saved table into the detector's.
func (s *shardEpisodes) UnmarshalState(d *codec.Dec) error {
	if l := d.Uint64(); d.Err() == nil && l != episodeCodec.Layout() {
		return codec.ErrLayout
	}
	return detect.DecodeTable(d, s.table, episodeCodec)
}
