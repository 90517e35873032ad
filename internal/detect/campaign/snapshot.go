package campaign

import (
	"fmt"
	"strings"
	"time"

	"winnow/internal/detect"
	"winnow/internal/learn/campaign"
	"winnow/internal/state/codec"
)

// The campaign detectors' state survives a restart (detect.Snapshotter):
// per attacked host or site (the key, which is the route) its report
// bookkeeping (part 0), and each source's profile against it (part 1,
// keyed host + NUL + source, routed by the host).

var _ detect.Snapshotter = (*detector)(nil)

// targetMeta is a target's state besides its profiles.
type targetMeta struct {
	Reported map[string]int
	Sizes    []int
	Next     time.Time
	Last     time.Time
}

var (
	metaCodec    = codec.MustFor[targetMeta]()
	profileCodec = codec.MustFor[campaign.Profile]()
)

// Snapshot writes the targets and their sources' profiles.
func (d *detector) Snapshot(w *detect.SnapshotWriter) error {
	w.Part(0, metaCodec.Layout())
	w.Part(1, profileCodec.Layout())
	var e codec.Enc
	d.targets.Each(func(key string, t *target) bool {
		if t.profiles == nil {
			return true
		}
		route := detect.RouteOfValue(d.key, key)
		m := targetMeta{Reported: t.reported, Sizes: t.sizes, Next: t.next, Last: t.last}
		e.Reset()
		metaCodec.Encode(&e, &m)
		w.Entry(0, route, key, d.targets.LastSeen(key).UnixNano(), append([]byte(nil), e.Bytes()...))
		t.profiles.Each(func(src string, p **campaign.Profile) bool {
			e.Reset()
			profileCodec.Encode(&e, *p)
			w.Entry(1, route, key+"\x00"+src, t.profiles.LastSeen(src).UnixNano(), append([]byte(nil), e.Bytes()...))
			return true
		})
		return true
	})
	return nil
}

// Restore reads them back.
func (d *detector) Restore(r *detect.SnapshotReader) error {
	for p, c := range []uint64{metaCodec.Layout(), profileCodec.Layout()} {
		if err := r.Check(uint8(p), c); err != nil {
			return err
		}
	}
	for _, en := range r.Entries(0) {
		var m targetMeta
		dec := codec.NewDec(en.Data)
		if err := metaCodec.Decode(dec, &m); err != nil {
			return fmt.Errorf("cannot restore %s: %w", r.Name(), err)
		}
		t, _ := d.targets.Upsert(en.Key, time.Unix(0, en.Seen))
		d.init(t, m.Next)
		if m.Reported != nil {
			t.reported = m.Reported
		}
		t.sizes, t.last = m.Sizes, m.Last
	}
	for _, en := range r.Entries(1) {
		host, src, ok := strings.Cut(en.Key, "\x00")
		if !ok {
			return fmt.Errorf("cannot restore %s: %w: profile key without a source", r.Name(), codec.ErrCorrupt)
		}
		p := &campaign.Profile{}
		dec := codec.NewDec(en.Data)
		if err := profileCodec.Decode(dec, p); err != nil {
			return fmt.Errorf("cannot restore %s: %w", r.Name(), err)
		}
		t := d.targets.Get(host)
		if t == nil {
			t, _ = d.targets.Upsert(host, time.Unix(0, en.Seen))
			d.init(t, time.Unix(0, en.Seen).Add(d.period))
		}
		slot, _ := t.profiles.Upsert(src, time.Unix(0, en.Seen))
		*slot = p
	}
	return nil
}
