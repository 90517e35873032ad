// Package stablehash is a fast 64-bit hash that is the same in every
// process, run and machine (unlike hash/maphash, whose seeds are per
// process). State that holds hashes — HyperLogLog sketches, sets of
// hashed paths, Bloom bits — and the routing of entities to shards and
// partitions use it, so that a snapshot restored in another process still
// means the same. It is not cryptographic; a seed the attacker does not
// know keeps placements unpredictable.
package stablehash

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Sum64 hashes s under seed.
func Sum64[S ~string | ~[]byte](seed uint64, s S) uint64 {
	// A read-only view of the bytes, without a copy.
	var b []byte
	switch v := any(s).(type) {
	case string:
		b = unsafe.Slice(unsafe.StringData(v), len(v))
	case []byte:
		b = v
	default:
		b = []byte(s) // a named string or byte type
	}
	return sum(seed, b)
}

func sum(seed uint64, b []byte) uint64 {
	const (
		p1 = 0x9E3779B185EBCA87
		p2 = 0xC2B2AE3D27D4EB4F
		p3 = 0x165667B19E3779F9
	)
	h := seed ^ p3 ^ uint64(len(b))*p1
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		h ^= bits.RotateLeft64(w*p2, 31) * p1
		h = bits.RotateLeft64(h, 27)*p1 + p3
		b = b[8:]
	}
	var w uint64
	for j, c := range b {
		w |= uint64(c) << (8 * j)
	}
	h ^= bits.RotateLeft64(w*p2, 31) * p1
	// Final avalanche (MurmurHash3's fmix64).
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// String is Sum64 with seed 0, for hashes kept in state.
func String(s string) uint64 { return Sum64(0, s) }

// Bytes is Sum64 with seed 0.
func Bytes(b []byte) uint64 { return sum(0, b) }
