package detect

import (
	"encoding/binary"
	"math/bits"
)

// Keys are hashed with a fixed function rather than a per-run random seed
// (hash/maphash) so that which shard owns an entity and which keys a
// Doorkeeper confuses are the same on every run: two runs over the same
// input report the same counts (shed, deferred) and the same findings.
// The function is not secret, so an attacker can aim keys at one shard
// or at Doorkeeper collisions; the cost is load imbalance or an early
// admission, never a missed event.

const (
	hashK1 = 0x9e3779b97f4a7c15
	hashK2 = 0xbf58476d1ce4e5b9
	hashK3 = 0x94d049bb133111eb
)

// mix64 is SplitMix64's finaliser: every input bit affects every output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= hashK2
	x ^= x >> 27
	x *= hashK3
	return x ^ x>>31
}

// HashBytes hashes b deterministically (the same value on every run and
// machine).
func HashBytes(b []byte) uint64 {
	h := uint64(len(b)) * hashK1
	for len(b) >= 8 {
		h = mix64(h ^ binary.LittleEndian.Uint64(b))
		h = bits.RotateLeft64(h, 27)*5 + 0x52dce729
		b = b[8:]
	}
	var tail uint64
	for i, c := range b {
		tail |= uint64(c) << (8 * i)
	}
	return mix64(h ^ tail ^ uint64(len(b))<<59)
}

// HashString is HashBytes for a string; it does not allocate.
func HashString(s string) uint64 {
	h := uint64(len(s)) * hashK1
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = mix64(h ^ w)
		h = bits.RotateLeft64(h, 27)*5 + 0x52dce729
		s = s[8:]
	}
	var tail uint64
	for i := 0; i < len(s); i++ {
		tail |= uint64(s[i]) << (8 * i)
	}
	return mix64(h ^ tail ^ uint64(len(s))<<59)
}
