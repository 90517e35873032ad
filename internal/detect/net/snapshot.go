package net

import (
	"fmt"
	"sort"

	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

// The network detectors' state survives a restart (detect.Snapshotter):
// per-address windows, baselines and episodes keyed by the address's 16
// bytes (its route), the doorkeepers and the reflection detector's
// measured amplification per port as shard state, and the heavy-hitter
// sketches per sensor (routed by sensor). Hashes kept in sketches are
// stable across processes (addrHash).

var (
	_ detect.Snapshotter = (*flood)(nil)
	_ detect.Snapshotter = (*reflection)(nil)
	_ detect.Snapshotter = (*scan)(nil)
	_ detect.Snapshotter = (*heavy)(nil)
)

// Snapshot writes the addresses' state and the doorkeeper
// (detect.Snapshotter).
func (d *flood) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[floodState](), nil)
	w.ShardState(d.door)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *flood) Restore(r *detect.SnapshotReader) error {
	if err := r.RestoreShard(d.door); err != nil {
		return err
	}
	return d.tab.Restore(r, 0, codec.MustFor[floodState](), nil)
}

// Snapshot writes the addresses' state, the doorkeeper and the measured
// amplification (detect.Snapshotter).
func (d *reflection) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[reflState](), nil)
	w.ShardState(d.door, (*amplification)(d))
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *reflection) Restore(r *detect.SnapshotReader) error {
	if err := r.RestoreShard(d.door, (*amplification)(d)); err != nil {
		return err
	}
	return d.tab.Restore(r, 0, codec.MustFor[reflState](), nil)
}

// amplification encodes a reflection detector's bytes per port.
type amplification reflection

// MarshalState writes the ports in order.
func (a *amplification) MarshalState(e *codec.Enc) {
	ports := make([]int, 0, len(a.requests))
	for p := range a.requests {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	e.Uvarint(uint64(len(ports)))
	for _, p := range ports {
		r := a.requests[uint16(p)]
		e.Uvarint(uint64(p))
		e.Varint(r[0])
		e.Varint(r[1])
	}
}

// UnmarshalState adds saved counts to the current ones.
func (a *amplification) UnmarshalState(d *codec.Dec) error {
	n := d.Len(3)
	add := make(map[uint16][2]int64, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		p := d.Uvarint()
		if p > 65535 {
			d.Fail("port %d", p)
		}
		r := [2]int64{d.Varint(), d.Varint()}
		o := add[uint16(p)]
		add[uint16(p)] = [2]int64{o[0] + r[0], o[1] + r[1]}
	}
	if err := d.Err(); err != nil {
		return err
	}
	if a.requests == nil {
		a.requests = make(map[uint16][2]int64, len(add))
	}
	for p, r := range add {
		o := a.requests[p]
		a.requests[p] = [2]int64{o[0] + r[0], o[1] + r[1]}
	}
	return nil
}

// Snapshot writes the sources' state and the doorkeeper
// (detect.Snapshotter).
func (d *scan) Snapshot(w *detect.SnapshotWriter) error {
	d.tab.Snapshot(w, 0, codec.MustFor[scanState](), nil)
	w.ShardState(d.door)
	return nil
}

// Restore reads them back (detect.Snapshotter).
func (d *scan) Restore(r *detect.SnapshotReader) error {
	if err := r.RestoreShard(d.door); err != nil {
		return err
	}
	return d.tab.Restore(r, 0, codec.MustFor[scanState](), nil)
}

// Snapshot writes every sensor's sketches and open window
// (detect.Snapshotter).
func (d *heavy) Snapshot(w *detect.SnapshotWriter) error {
	c := codec.MustFor[hhSensor]()
	w.Part(0, c.Layout())
	names := make([]string, 0, len(d.sensors))
	for n := range d.sensors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w.Entry(0, n, n, 0, c.Marshal(d.sensors[n]))
	}
	return nil
}

// Restore reads the sensors back (detect.Snapshotter).
func (d *heavy) Restore(r *detect.SnapshotReader) error {
	c := codec.MustFor[hhSensor]()
	if err := r.Check(0, c.Layout()); err != nil {
		return err
	}
	for _, en := range r.Entries(0) {
		s := new(hhSensor)
		if err := c.Unmarshal(en.Data, s); err != nil {
			return fmt.Errorf("cannot restore %s: %w", r.Name(), err)
		}
		d.sensors[en.Key] = s
	}
	return nil
}
