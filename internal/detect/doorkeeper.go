package detect

import (
	"time"
)

// Doorkeeper decides whether a new key deserves per-entity state while a
// Table is under pressure: it admits a key only on its second sighting
// within a window of event time. A flood of keys that each appear once (10
// million spoofed sources with one failed login each) then never enters
// the Table, so it neither evicts the entities that keep acting nor costs
// an allocation per key. This is the "doorkeeper" of TinyLFU admission.
//
// It is two bitsets of Bits bits (hashed with HashBytes, a fixed function
// so that runs are repeatable; k = 2 probes), the
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
	return d.admit(HashBytes(key), now)
}

// AdmitString is Admit for a string key.
func (d *Doorkeeper) AdmitString(key string, now time.Time) bool {
	return d.admit(HashString(key), now)
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
