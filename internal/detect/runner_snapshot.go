package detect

import (
	"errors"
	"fmt"
)

// shardSnap is one shard's answer to a snapshot request.
type shardSnap struct {
	idx  int
	dets []shardDet // per enabled detector
	err  error
}

type shardDet struct {
	ds    *DetectorSnapshot // nil: not a Snapshotter
	shard []byte
}

// shardRestore hands a shard the state routed to it.
type shardRestore struct {
	readers []*SnapshotReader // per enabled detector; nil: nothing to restore
	done    chan<- error
}

func (sh *shard) snapshot(enabled []Enabled) shardSnap {
	out := shardSnap{idx: sh.idx, dets: make([]shardDet, len(sh.dets))}
	for i, in := range sh.dets {
		s, ok := in.d.(Snapshotter)
		if !ok {
			continue
		}
		ds := &DetectorSnapshot{Name: enabled[i].Spec.Name, Key: enabled[i].Spec.Key}
		w := &SnapshotWriter{ds: ds}
		err := s.Snapshot(w)
		if err == nil {
			err = w.err
		}
		if err != nil {
			out.err = fmt.Errorf("cannot snapshot %s: %w", ds.Name, err)
			return out
		}
		out.dets[i] = shardDet{ds: ds, shard: w.shard}
	}
	return out
}

func (sh *shard) restore(m *shardRestore) error {
	var errs []error
	for i, rd := range m.readers {
		if rd == nil {
			continue
		}
		s, ok := sh.dets[i].d.(Snapshotter)
		if !ok {
			continue
		}
		if err := s.Restore(rd); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Snapshot returns the state of every enabled detector that is a
// Snapshotter, at a consistent point: the pending events are sent first,
// and each shard answers after it has observed every event submitted
// before the call (and advanced to the watermark sent before it), before
// any later one. Every finding those events caused has been emitted when
// Snapshot returns. Called from the producer goroutine, like Submit; the
// run goes on afterwards.
func (r *Runner) Snapshot() (*Snapshot, error) {
	if r.closed {
		return nil, errors.New("cannot snapshot detectors: runner is closed")
	}
	replies := make(chan shardSnap, len(r.shards))
	for s := range r.shards {
		if err := r.send(s, message{batch: r.pending[s], snap: replies}); err != nil {
			return nil, err
		}
		r.pending[s] = nil
	}
	got := make([]shardSnap, len(r.shards))
	for range r.shards {
		select {
		case sn := <-replies:
			got[sn.idx] = sn
		case <-r.ctx.Done():
			return nil, r.ctx.Err()
		}
	}
	snap := &Snapshot{Seed: r.seed, Shards: len(r.shards), Watermark: r.wm, MaxSeen: r.maxSeen}
	for _, sn := range got {
		if sn.err != nil {
			return nil, sn.err
		}
	}
	for i, en := range r.enabled {
		if got[0].dets[i].ds == nil {
			continue
		}
		ds := DetectorSnapshot{Name: en.Spec.Name, Key: en.Spec.Key, Shard: make([][]byte, len(r.shards))}
		for s, sn := range got {
			sd := sn.dets[i]
			for _, pl := range sd.ds.Parts {
				if l, ok := partLayout(ds.Parts, pl.Part); ok && l != pl.Layout {
					return nil, fmt.Errorf("BUG: cannot snapshot %s: shards disagree on the layout of part %d", en.Spec.Name, pl.Part)
				} else if !ok {
					ds.Parts = append(ds.Parts, pl)
				}
			}
			ds.Shard[s] = sd.shard
			ds.Entries = append(ds.Entries, sd.ds.Entries...)
		}
		snap.Detectors = append(snap.Detectors, ds)
	}
	return snap, nil
}

func partLayout(ps []PartLayout, p uint8) (uint64, bool) {
	for _, pl := range ps {
		if pl.Part == p {
			return pl.Layout, true
		}
	}
	return 0, false
}

// Restore loads a snapshot into the detectors; it must be called before
// the first Submit. The Runner adopts the snapshot's routing seed and
// watermark; each entry goes to the shard that owns its route, so the
// snapshot may come from a Runner with another number of shards.
// Detectors in s that are not enabled are ignored (Unused lists them);
// enabled detectors missing from s start empty. A detector whose key
// changed, or whose Restore fails, makes Restore fail: the Runner must
// then be closed, not used.
func (r *Runner) Restore(s *Snapshot) error {
	if r.closed || !r.maxSeen.IsZero() || !r.wm.IsZero() {
		return errors.New("cannot restore detectors: the run has started")
	}
	if s.Seed != 0 {
		r.seed = s.Seed
	}
	n := len(r.shards)
	own := s.Shards == n
	byName := make(map[string]*DetectorSnapshot, len(s.Detectors))
	for i := range s.Detectors {
		byName[s.Detectors[i].Name] = &s.Detectors[i]
	}
	msgs := make([]*shardRestore, n)
	for i := range msgs {
		msgs[i] = &shardRestore{readers: make([]*SnapshotReader, len(r.enabled))}
	}
	for i, en := range r.enabled {
		ds := byName[en.Spec.Name]
		if ds == nil {
			continue
		}
		if ds.Key != en.Spec.Key {
			return fmt.Errorf("cannot restore %s: its state is keyed by %v, the detector now by %v", ds.Name, ds.Key, en.Spec.Key)
		}
		for sh := range msgs {
			rd := &SnapshotReader{ds: ds, own: own}
			switch {
			case own:
				if sh < len(ds.Shard) && len(ds.Shard[sh]) > 0 {
					rd.shards = [][]byte{ds.Shard[sh]}
				}
			default:
				for _, b := range ds.Shard {
					if len(b) > 0 {
						rd.shards = append(rd.shards, b)
					}
				}
			}
			msgs[sh].readers[i] = rd
		}
		for _, e := range ds.Entries {
			sh := RouteHash(r.seed, e.Route) % uint64(n)
			rd := msgs[sh].readers[i]
			rd.entries = append(rd.entries, e)
		}
	}
	done := make(chan error, n)
	for sh, m := range msgs {
		m.done = done
		if err := r.send(sh, message{restore: m}); err != nil {
			return err
		}
	}
	var errs []error
	for range msgs {
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, err)
			}
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.wm, r.maxSeen = s.Watermark, s.MaxSeen
	return nil
}

// Unused returns the names of detectors in s that none of the enabled
// detectors takes (their state is dropped by Restore).
func (r *Runner) Unused(s *Snapshot) []string {
	on := make(map[string]bool, len(r.enabled))
	for _, en := range r.enabled {
		on[en.Spec.Name] = true
	}
	var out []string
	for _, d := range s.Detectors {
		if !on[d.Name] {
			out = append(out, d.Name)
		}
	}
	return out
}
