package detect

import (
	"time"

	"winnow/internal/state/codec"
)

// Doorkeeper decides whether a new key deserves per-entity state while a
// Table is under pressure: it admits a key only on its second sighting
// within a window of event time. A flood of keys that each appear once (10
// million spoofed sources with one failed login each) then never enters
// the Table, so it neither evicts the entities that keep acting nor costs
// an allocation per key. This is the "doorkeeper" of TinyLFU admission.
//
// It is two bitsets of Bits bits (hashed with RouteHash under a fixed
// seed, so that a snapshot restores into any shard; k = 2 probes), the
// current and the previous generation; they rotate every Window/2 of event
// time, so a key seen once is remembered for between Window/2 and Window.
// A false positive (a first sighting that looks like a second) admits a key
// early, which is harmless. Memory: Bits/4 bytes. Not safe for concurrent
// use.
type Doorkeeper struct {
	cur, old []uint64
	mask     uint64
	half     int64 // nanoseconds between rotations
	rotated  int64 // event time of the last rotation
	deferred int64
}

// NewDoorkeeper returns a doorkeeper with 2^bitsLog2 bits per generation
// whose memory of a sighting lasts about window of event time.
func NewDoorkeeper(bitsLog2 uint, window time.Duration) *Doorkeeper {
	n := uint64(1) << bitsLog2
	if n < 64 {
		n = 64
	}
	return &Doorkeeper{
		cur: make([]uint64, n/64), old: make([]uint64, n/64),
		mask: n - 1, half: max(int64(window/2), 1),
	}
}

// Admit reports whether key has been seen before (in this or the previous
// generation) and records this sighting. A false result is counted as
// deferred.
func (d *Doorkeeper) Admit(key []byte, now time.Time) bool {
	return d.admit(RouteHash(doorSeed, key), now)
}

// AdmitString is Admit for a string key.
func (d *Doorkeeper) AdmitString(key string, now time.Time) bool {
	return d.admit(RouteHash(doorSeed, key), now)
}

func (d *Doorkeeper) admit(h uint64, now time.Time) bool {
	t := now.UnixNano()
	if t-d.rotated >= d.half {
		d.cur, d.old = d.old, d.cur
		clear(d.cur)
		d.rotated = t
	}
	a, b := h&d.mask, (h>>32|h<<32)&d.mask
	seen := d.has(d.cur, a, b) || d.has(d.old, a, b)
	d.cur[a/64] |= 1 << (a % 64)
	d.cur[b/64] |= 1 << (b % 64)
	if !seen {
		d.deferred++
	}
	return seen
}

func (d *Doorkeeper) has(bits []uint64, a, b uint64) bool {
	return bits[a/64]&(1<<(a%64)) != 0 && bits[b/64]&(1<<(b%64)) != 0
}

// Deferred is how many sightings were not admitted.
func (d *Doorkeeper) Deferred() int64 { return d.deferred }

// doorSeed is the doorkeepers' hash seed: fixed, so that the bits of any
// shard's doorkeeper mean the same in any other (snapshots merge them).
const doorSeed = 0x5eed_d00c_4ee9_e7a1

// MarshalState writes the two generations sparsely (most words are zero)
// and the time of the last rotation; the deferred counter is per run.
func (d *Doorkeeper) MarshalState(e *codec.Enc) {
	e.Uvarint(uint64(len(d.cur)))
	e.Varint(d.rotated)
	for _, bits := range [][]uint64{d.cur, d.old} {
		n := 0
		for _, w := range bits {
			if w != 0 {
				n++
			}
		}
		e.Uvarint(uint64(n))
		last := 0
		for i, w := range bits {
			if w != 0 {
				e.Uvarint(uint64(i - last))
				e.Uint64(w)
				last = i
			}
		}
	}
}

// UnmarshalState reads what MarshalState wrote into d, which must have
// the same size (the same parameters); otherwise the saved bits are
// dropped, which only makes the doorkeeper forget first sightings.
func (d *Doorkeeper) UnmarshalState(dec *codec.Dec) error {
	type word struct {
		i int
		w uint64
	}
	words := dec.Uvarint()
	rotated := dec.Varint()
	var gens [2][]word
	for g := range gens {
		n := dec.Len(9)
		idx := uint64(0)
		for i := 0; i < n && dec.Err() == nil; i++ {
			delta := dec.Uvarint()
			w := dec.Uint64()
			if (i > 0 && delta == 0) || delta >= words || idx+delta >= words {
				dec.Fail("doorkeeper word index out of range")
				break
			}
			idx += delta
			gens[g] = append(gens[g], word{int(idx), w})
		}
	}
	if err := dec.Err(); err != nil {
		return err
	}
	if words != uint64(len(d.cur)) {
		return nil
	}
	d.rotated = max(d.rotated, rotated)
	for g, dst := range [][]uint64{d.cur, d.old} {
		for _, w := range gens[g] {
			dst[w.i] |= w.w
		}
	}
	return nil
}
