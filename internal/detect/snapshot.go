package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"winnow/internal/state/codec"
)

// Snapshotter is the optional capability of a Detector whose state should
// survive a restart, or move to another process that takes over some of
// its entities (scale-out): baselines, open episodes, learned models.
//
// Contract:
//   - Goroutine: the Runner calls Snapshot and Restore from the shard's own
//     goroutine, between events — never concurrently with Observe,
//     Advance or Flush — so implementations need no locks.
//   - Consistency: a snapshot is taken at a point where every event
//     submitted to the Runner before it has been observed and none after
//     it (see Runner.Snapshot); the Runner records its watermark with it.
//   - Snapshot writes the instance's state into w and must not change the
//     instance: the run goes on after a snapshot (more events, or Flush).
//   - Per entity: state that belongs to one entity is written as entries
//     (w.Entry, or Table.Snapshot) carrying the entity's route (Route*):
//     the value the Runner shards by for the spec's Key. A snapshot can
//     then be split by shard or partition, entity by entity. State that is
//     not per entity (a doorkeeper's bits, a mix learned over all of a
//     shard's traffic) is written once with w.Shard.
//   - Restore is called once, on a fresh instance (Spec.New with the
//     current parameters), before its first event, with the entries whose
//     routes this shard owns and the shard blobs (see SnapshotReader.Own).
//     A layout that differs from the running code's is an error wrapping
//     codec.ErrLayout; bad bytes wrap codec.ErrCorrupt. After an error the
//     Runner's Restore fails and the Runner is closed unused, so a failed
//     Restore may leave the instance half-restored.
//   - Parameters may differ from the ones the snapshot was taken with
//     (max_entities lowered, a threshold tuned): Restore keeps what still
//     fits (a smaller table keeps its most recent entries) and returns an
//     error only for state it cannot use at all.
type Snapshotter interface {
	Snapshot(w *SnapshotWriter) error
	Restore(r *SnapshotReader) error
}

// Snapshot is the state of a Runner's detectors at one consistent point.
// docs/format/state.md describes its encoding.
type Snapshot struct {
	Seed      uint64    // routing seed the entries were sharded with
	Shards    int       // shards that wrote it
	Watermark time.Time // the Runner's watermark (zero if it never advanced)
	MaxSeen   time.Time // the newest event time submitted
	Detectors []DetectorSnapshot
}

// DetectorSnapshot is one detector's state across all shards.
type DetectorSnapshot struct {
	Name  string // the spec's name
	Key   Key    // the spec's key: what entry routes are values of
	Parts []PartLayout
	// Shard holds each shard's non-entity state (len == Snapshot.Shards;
	// nil entries for shards that wrote none).
	Shard   [][]byte
	Entries []Entry
}

// PartLayout declares the layout (codec fingerprint) of one part of a
// detector's entries. A detector numbers its tables or kinds of entry
// 0, 1, ...
type PartLayout struct {
	Part   uint8
	Layout uint64
}

// Entry is one entity's piece of a detector's state.
type Entry struct {
	Part  uint8
	Route string // the entity's routing value (see RouteAddr)
	Key   string // the detector's own key (a table key)
	Seen  int64  // unix nanoseconds of the entity's last activity (restore order)
	Data  []byte
}

// RouteAddr is the route of an address: its 16 bytes (IPv4 mapped), which
// is what the Runner hashes for KeySourceIP.
func RouteAddr(a netip.Addr) string {
	b := a.As16()
	return string(b[:])
}

// SnapshotWriter collects one detector instance's state (on one shard).
type SnapshotWriter struct {
	ds    *DetectorSnapshot
	shard []byte
	err   error
}

// Part declares that entries of part p are encoded with layout l. Every
// part a detector writes entries of must be declared (a part may be
// declared without entries).
func (w *SnapshotWriter) Part(p uint8, layout uint64) {
	for _, pl := range w.ds.Parts {
		if pl.Part == p {
			if pl.Layout != layout {
				w.err = fmt.Errorf("BUG: part %d declared with two layouts", p)
			}
			return
		}
	}
	w.ds.Parts = append(w.ds.Parts, PartLayout{Part: p, Layout: layout})
}

// Entry adds one entity's state. data is retained (not copied).
func (w *SnapshotWriter) Entry(part uint8, route, key string, seen int64, data []byte) {
	w.ds.Entries = append(w.ds.Entries, Entry{Part: part, Route: route, Key: key, Seen: seen, Data: data})
}

// Shard sets the instance's non-entity state (retained).
func (w *SnapshotWriter) Shard(data []byte) { w.shard = data }

// SnapshotReader gives one detector instance the state routed to it.
type SnapshotReader struct {
	ds      *DetectorSnapshot
	entries []Entry
	shards  [][]byte
	own     bool
}

// Layout returns the layout recorded for part p.
func (r *SnapshotReader) Layout(p uint8) (uint64, bool) {
	for _, pl := range r.ds.Parts {
		if pl.Part == p {
			return pl.Layout, true
		}
	}
	return 0, false
}

// Check returns an error wrapping codec.ErrLayout unless part p was
// written with layout (or not at all).
func (r *SnapshotReader) Check(p uint8, layout uint64) error {
	if l, ok := r.Layout(p); ok && l != layout {
		return fmt.Errorf("cannot restore %s: part %d: %w (have %016x, want %016x)", r.ds.Name, p, codec.ErrLayout, l, layout)
	}
	return nil
}

// Entries returns this shard's entries of part p, oldest (by Seen) first.
// The slice and its Data are borrowed for the Restore call.
func (r *SnapshotReader) Entries(p uint8) []Entry {
	var out []Entry
	for _, e := range r.entries {
		if e.Part == p {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		switch {
		case a.Seen < b.Seen:
			return -1
		case a.Seen > b.Seen:
			return 1
		}
		return 0
	})
	return out
}

// Shards returns the non-entity state to restore: this shard's own blob
// when Own, else every shard's blob of the snapshot (the instance merges
// them: the snapshot was taken with another sharding). Empty blobs are
// left out.
func (r *SnapshotReader) Shards() [][]byte { return r.shards }

// Own reports whether the snapshot was taken with the same sharding (seed
// and shard count), so Shards is exactly this shard's former state.
func (r *SnapshotReader) Own() bool { return r.own }

// Name is the detector's name.
func (r *SnapshotReader) Name() string { return r.ds.Name }

// ValueCodec encodes a Table's values; *codec.Codec[V] is one.
type ValueCodec[V any] interface {
	Layout() uint64
	Encode(e *codec.Enc, v *V)
	Decode(d *codec.Dec, v *V) error
}

// Snapshot writes every entry of t, oldest first, as part p, with the
// route that route returns for its key (nil: the key is the route).
func (t *Table[V]) Snapshot(w *SnapshotWriter, p uint8, c ValueCodec[V], route func(key string, v *V) string) {
	w.Part(p, c.Layout())
	var e codec.Enc
	for n := t.tail; n != nil; n = n.prev {
		e.Reset()
		c.Encode(&e, &n.val)
		r := n.key
		if route != nil {
			r = route(n.key, &n.val)
		}
		w.Entry(p, r, n.key, n.seen, append([]byte(nil), e.Bytes()...))
	}
}

// Restore adds the entries of part p to t, oldest first, keeping their
// last-seen times and order. t should be empty; an entry whose key t
// already holds replaces it. When there are more entries than t's
// capacity, the oldest are dropped (counted as shed; no callback runs).
// fix, if non-nil, is called on each decoded value before it is stored
// (to rebuild what the codec skips).
func (t *Table[V]) Restore(r *SnapshotReader, p uint8, c ValueCodec[V], fix func(key string, v *V) error) error {
	if err := r.Check(p, c.Layout()); err != nil {
		return err
	}
	es := r.Entries(p)
	if over := len(es) - t.max; over > 0 {
		t.shed += int64(over)
		es = es[over:]
	}
	for _, en := range es {
		var v V
		d := codec.NewDec(en.Data)
		if err := c.Decode(d, &v); err != nil {
			return fmt.Errorf("cannot restore %s: %w", r.ds.Name, err)
		}
		if err := d.End(); err != nil {
			return fmt.Errorf("cannot restore %s: %w", r.ds.Name, err)
		}
		if fix != nil {
			if err := fix(en.Key, &v); err != nil {
				return fmt.Errorf("cannot restore %s: %w", r.ds.Name, err)
			}
		}
		t.Delete(en.Key)
		n := t.insert(en.Key, en.Seen)
		n.val = v
	}
	return nil
}

// ShardState sets the instance's non-entity state to the encodings of ms,
// in order (see Shard).
func (w *SnapshotWriter) ShardState(ms ...codec.Marshaler) {
	var e codec.Enc
	for _, m := range ms {
		m.MarshalState(&e)
	}
	w.Shard(e.Bytes())
}

// RestoreShard reads what ShardState wrote into us, in the same order,
// once per blob of Shards: when the snapshot had another sharding, each
// Unmarshaler is called once per former shard and merges what it reads
// (a Doorkeeper ORs the bits).
func (r *SnapshotReader) RestoreShard(us ...codec.Unmarshaler) error {
	for _, b := range r.shards {
		d := codec.NewDec(b)
		for _, u := range us {
			if err := u.UnmarshalState(d); err != nil {
				return fmt.Errorf("cannot restore %s: %w", r.ds.Name, err)
			}
		}
		if err := d.End(); err != nil {
			return fmt.Errorf("cannot restore %s: %w", r.ds.Name, err)
		}
	}
	return nil
}

// EncodeTable appends t's entries (key, last seen, value), oldest first,
// to e: for a table that is a shard's state rather than its entities'
// (its keys are not routes; see Snapshotter).
func EncodeTable[V any](e *codec.Enc, t *Table[V], c ValueCodec[V]) {
	e.Uvarint(uint64(t.Len()))
	for n := t.tail; n != nil; n = n.prev {
		e.String(n.key)
		e.Varint(n.seen)
		c.Encode(e, &n.val)
	}
}

// DecodeTable reads EncodeTable's entries into t. An entry whose key t
// holds already replaces it only if it was seen later (blobs of several
// former shards merge); entries beyond t's capacity evict the least
// recently seen, without callbacks. On error t is unchanged.
func DecodeTable[V any](d *codec.Dec, t *Table[V], c ValueCodec[V]) error {
	type entry struct {
		key  string
		seen int64
		v    V
	}
	n := d.Len(3)
	es := make([]entry, 0, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		en := entry{key: d.String(), seen: d.Varint()}
		if err := c.Decode(d, &en.v); err != nil {
			return err
		}
		es = append(es, en)
	}
	if err := d.Err(); err != nil {
		return err
	}
	for _, en := range es {
		if old := t.m[en.key]; old != nil {
			if old.seen >= en.seen {
				continue
			}
			t.Delete(en.key)
		}
		if len(t.m) >= t.max {
			nd := t.tail
			t.unlink(nd)
			delete(t.m, nd.key)
			t.shed++
			t.release(nd)
		}
		nd := t.insert(en.key, en.seen)
		nd.val = en.v
	}
	return nil
}

// Select returns the part of s whose entities keep accepts (by the key
// their detector aggregates on and their route): a scaled-out process
// restores the entities of the partitions it owns, for example keep =
// RouteHash(seed, route) % partitions in mine. Shard state is kept whole
// (the restoring Runner merges it); the watermark and seed are s's. The
// entries' bytes are shared with s.
func (s *Snapshot) Select(keep func(k Key, route string) bool) *Snapshot {
	out := &Snapshot{Seed: s.Seed, Shards: s.Shards, Watermark: s.Watermark, MaxSeen: s.MaxSeen}
	for _, d := range s.Detectors {
		nd := DetectorSnapshot{Name: d.Name, Key: d.Key, Parts: d.Parts, Shard: d.Shard}
		for _, e := range d.Entries {
			if keep(d.Key, e.Route) {
				nd.Entries = append(nd.Entries, e)
			}
		}
		out.Detectors = append(out.Detectors, nd)
	}
	return out
}
