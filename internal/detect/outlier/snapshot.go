package outlier

import (
	"fmt"
	"sort"
	"time"

	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// The series family's state survives a restart (detect.Snapshotter): every
// entity's series — its ensemble (shared state, each stateful detector's
// own, weights, suppression peak, seasonal envelope), open minute, episode
// and daily peaks — keyed by the entity's route (16 address bytes, or the
// name); the doorkeeper of address-keyed series as shard state. The
// queues of minutes and batches to close are rebuilt from the entities.

var (
	_ detect.Snapshotter = (*seriesDetector)(nil)
	_ detect.Snapshotter = (*mixDetector)(nil)
	_ detect.Snapshotter = (*collector)(nil)
	_ codec.Marshaler    = (*Ensemble)(nil)
)

// ensembleState is an Ensemble without what its configuration rebuilds
// (the detectors' constants, the specs).
type ensembleState struct {
	Cfg      EnsembleConfig
	St       *State
	Z        []float64
	Ready    []bool
	Rate     []float64
	Decay    float64
	SupDecay float64
	Peak     float64
	Env      *envelope
	UseEnv   bool
	Start    time.Time
	Last     Result
}

var (
	ensembleCodec   = codec.MustFor[ensembleState]()
	cusumCodec      = codec.MustFor[cusum]()
	armaCodec       = codec.MustFor[arma]()
	seasonalCodec   = codec.MustFor[seasonal]()
	volatilityCodec = codec.MustFor[volatility]()
)

// StateLayout names the layout of an Ensemble's encoding.
func (e *Ensemble) StateLayout() string {
	return fmt.Sprintf("ensemble/1 %x %x %x %x %x", ensembleCodec.Layout(), cusumCodec.Layout(), armaCodec.Layout(),
		seasonalCodec.Layout(), volatilityCodec.Layout())
}

// MarshalState writes the ensemble (codec.Marshaler).
func (e *Ensemble) MarshalState(enc *codec.Enc) {
	s := ensembleState{Cfg: e.cfg, St: e.st, Z: e.z, Ready: e.ready, Rate: e.rate, Decay: e.decay, SupDecay: e.supDecay,
		Peak: e.peak, Env: e.env, UseEnv: e.useEnv, Start: e.start, Last: e.last}
	ensembleCodec.Encode(enc, &s)
	enc.Uvarint(uint64(len(e.dets)))
	for _, d := range e.dets {
		switch d := d.(type) {
		case *cusum:
			enc.Byte(1)
			cusumCodec.Encode(enc, d)
		case *arma:
			enc.Byte(2)
			armaCodec.Encode(enc, d)
		case *seasonal:
			enc.Byte(3)
			seasonalCodec.Encode(enc, d)
		case *volatility:
			enc.Byte(4)
			volatilityCodec.Encode(enc, d)
		case stateful: // detectors that encode themselves (skyline.go)
			enc.Byte(5)
			d.MarshalState(enc)
		default:
			if _, ok := d.(cloner); ok {
				panic(fmt.Sprintf("BUG: outlier detector %T has state but no snapshot encoding", d))
			}
			enc.Byte(0)
		}
	}
}

// UnmarshalState reads an ensemble: its configuration rebuilds the
// detectors, whose saved state is then put back (codec.Unmarshaler).
func (e *Ensemble) UnmarshalState(dec *codec.Dec) error {
	var s ensembleState
	if err := ensembleCodec.Decode(dec, &s); err != nil {
		return err
	}
	// The configuration sizes the buffers the factory allocates: it must
	// agree with the state decoded (whose size the input bounds).
	if s.St == nil || s.Cfg.Window < 1 || s.Cfg.Recent < 0 || len(s.St.ring) != s.Cfg.Window+s.Cfg.Recent ||
		s.St.cfg != s.Cfg.Config {
		dec.Fail("ensemble state does not match its configuration")
		return dec.Err()
	}
	f, err := NewFactory(s.Cfg)
	if err != nil {
		return fmt.Errorf("ensemble configuration: %w", err)
	}
	n := f.New()
	if n := dec.Uvarint(); n != uint64(len(f.protos)) && dec.Err() == nil {
		dec.Fail("%d detectors, the configuration has %d", n, len(f.protos))
	}
	for i := range n.dets {
		if dec.Err() != nil {
			break
		}
		tag := dec.Byte()
		var err error
		switch d := n.dets[i].(type) {
		case *cusum:
			err = decodeDet(dec, tag, 1, cusumCodec, d)
		case *arma:
			err = decodeDet(dec, tag, 2, armaCodec, d)
		case *seasonal:
			err = decodeDet(dec, tag, 3, seasonalCodec, d)
		case *volatility:
			err = decodeDet(dec, tag, 4, volatilityCodec, d)
		case stateful:
			if tag != 5 {
				dec.Fail("detector %d: state tag %d, want 5", i, tag)
			} else {
				err = d.UnmarshalState(dec)
			}
		default:
			if tag != 0 {
				dec.Fail("detector %d: state for a stateless detector", i)
			}
		}
		if err != nil {
			return err
		}
	}
	if err := dec.Err(); err != nil {
		return err
	}
	if s.St == nil || len(s.Z) != len(n.dets) || len(s.Ready) != len(n.dets) || len(s.Rate) != len(n.dets) {
		dec.Fail("ensemble vectors do not match its detectors")
		return dec.Err()
	}
	n.st, n.z, n.ready, n.rate = s.St, s.Z, s.Ready, s.Rate
	n.decay, n.supDecay, n.peak, n.env, n.useEnv, n.start, n.last = s.Decay, s.SupDecay, s.Peak, s.Env, s.UseEnv, s.Start, s.Last
	*e = *n
	return nil
}

func decodeDet[T any](dec *codec.Dec, tag, want byte, c *codec.Codec[T], d *T) error {
	if tag != want {
		dec.Fail("detector state tag %d, want %d", tag, want)
		return dec.Err()
	}
	return c.Decode(dec, d)
}

// requeue rebuilds a queue of (key, minute) from the entities, in time
// order.
func requeue(q []due) []due {
	sort.SliceStable(q, func(i, j int) bool { return q[i].minute < q[j].minute })
	return q
}

// Snapshot writes every entity's series and the doorkeeper
// (detect.Snapshotter).
func (d *seriesDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[entitySeries](), nil)
	if d.door != nil {
		w.ShardState(d.door)
	}
	return nil
}

// Restore reads them back and queues the minutes still to close
// (detect.Snapshotter).
func (d *seriesDetector) Restore(r *detect.SnapshotReader) error {
	if d.door != nil {
		if err := r.RestoreShard(d.door); err != nil {
			return err
		}
	}
	err := d.tab.Restore(r, 0, codec.MustFor[entitySeries](), func(key string, st *entitySeries) error {
		if st.cur >= 0 {
			d.queue = append(d.queue, due{key: key, minute: st.cur})
		}
		if st.ep != nil {
			d.queue = append(d.queue, due{key: key, minute: st.lastClosed + 1})
		}
		return nil
	})
	d.queue = requeue(d.queue)
	return err
}

// Snapshot writes every entity's category mix (detect.Snapshotter).
func (d *mixDetector) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[mixState](), nil)
	return nil
}

// Restore reads them back and queues the open batches
// (detect.Snapshotter).
func (d *mixDetector) Restore(r *detect.SnapshotReader) error {
	err := d.tab.Restore(r, 0, codec.MustFor[mixState](), func(key string, st *mixState) error {
		if st.open {
			d.queue = append(d.queue, due{key: key, minute: st.batch})
		}
		return nil
	})
	d.queue = requeue(d.queue)
	return err
}

// Snapshot writes every entity's collected series (detect.Snapshotter).
func (c *collector) Snapshot(w *detect.SnapshotWriter) error {
	c.tab.Snapshot(w, 0, codec.MustFor[collected](), nil)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (c *collector) Restore(r *detect.SnapshotReader) error {
	return c.tab.Restore(r, 0, codec.MustFor[collected](), nil)
}
