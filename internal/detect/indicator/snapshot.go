package indicator

import (
	"encoding/binary"
	"fmt"
	"time"

	"winnow/internal/detect"
	"winnow/internal/enrich/ioc"
	"winnow/internal/state/codec"
)

// The detector's state — one open episode per (indicator, client) —
// survives a restart (detect.Snapshotter). In memory an episode is keyed
// by the indicator's index in the loaded lists, which means nothing once
// the lists are reloaded; a snapshot names the indicator instead (type,
// list, value), and Restore finds it again in the lists loaded now.
// Episodes of indicators no longer listed are dropped: the lists no longer
// call them bad.

var _ detect.Snapshotter = (*Detector)(nil)

var episodeCodec = codec.MustFor[episode]()

// snapKey is an episode's key in a snapshot: type, list, value and the
// client's 16 address bytes (the route) at the end.
func snapKey(ind *ioc.Indicator, client string) string {
	var e codec.Enc
	e.Byte(byte(ind.Type))
	e.String(ind.Source)
	e.String(ind.Value)
	e.Raw([]byte(client))
	return string(e.Bytes())
}

// Snapshot writes the open episodes (detect.Snapshotter).
func (d *Detector) Snapshot(w *detect.SnapshotWriter) error {
	w.Part(0, episodeCodec.Layout())
	var e codec.Enc
	d.tab.Each(func(key string, ep *episode) bool {
		id := int32(binary.BigEndian.Uint32([]byte(key[:4])))
		client := key[4:]
		e.Reset()
		episodeCodec.Encode(&e, ep)
		w.Entry(0, client, snapKey(d.set.Get(id), client), d.tab.LastSeen(key).UnixNano(), append([]byte(nil), e.Bytes()...))
		return true
	})
	return nil
}

// Restore reads the episodes of indicators still listed
// (detect.Snapshotter).
func (d *Detector) Restore(r *detect.SnapshotReader) error {
	if err := r.Check(0, episodeCodec.Layout()); err != nil {
		return err
	}
	es := r.Entries(0)
	if len(es) == 0 {
		return nil
	}
	ids := make(map[string]int32, d.set.Len())
	for i := 0; i < d.set.Len(); i++ {
		ind := d.set.Get(int32(i))
		ids[snapKey(ind, "")] = int32(i)
	}
	for _, en := range es {
		if len(en.Key) < 16 {
			return fmt.Errorf("cannot restore %s: %w: short key", r.Name(), codec.ErrCorrupt)
		}
		id, ok := ids[en.Key[:len(en.Key)-16]]
		if !ok {
			continue
		}
		var ep episode
		if err := episodeCodec.Unmarshal(en.Data, &ep); err != nil {
			return fmt.Errorf("cannot restore %s: %w", r.Name(), err)
		}
		var key [4 + 16]byte
		binary.BigEndian.PutUint32(key[:4], uint32(id))
		copy(key[4:], en.Key[len(en.Key)-16:])
		v, _ := d.tab.UpsertBytes(key[:], time.Unix(0, en.Seen))
		*v = ep
	}
	return nil
}
