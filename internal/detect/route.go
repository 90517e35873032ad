package detect

import (
	"math/bits"
	"net/netip"

	"winnow/internal/event"
)

// RouteHash is the hash the Runner shards entities by: of an entity's
// route (RouteAddr for addresses, the value itself for names) under a
// seed. It is stable — the same in every process and every version that
// reads the same snapshot format — so that a snapshot's entries can be
// routed to the shards (or, scaled out, the partitions) that own them. It
// is not a cryptographic hash; the seed (RunnerConfig.Seed) keeps its
// placement from being predictable to someone who does not know it.
func RouteHash[S ~string | ~[]byte](seed uint64, s S) uint64 {
	const (
		p1 = 0x9E3779B185EBCA87
		p2 = 0xC2B2AE3D27D4EB4F
		p3 = 0x165667B19E3779F9
	)
	h := seed ^ p3 ^ uint64(len(s))*p1
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		h ^= bits.RotateLeft64(w*p2, 31) * p1
		h = bits.RotateLeft64(h, 27)*p1 + p3
	}
	var w uint64
	for j := 0; i < len(s); i, j = i+1, j+8 {
		w |= uint64(s[i]) << j
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

// RouteOf returns the route of ev's value for key k — the bytes RouteHash
// is taken of to pick ev's shard — and whether ev has one.
func RouteOf(k Key, ev *event.Event) (string, bool) {
	if k == KeySourceIP {
		if !ev.SrcIP.IsValid() {
			return ev.SrcHost, ev.SrcHost != "" // a source named by host name
		}
		return RouteAddr(ev.SrcIP), true
	}
	if k == KeyDestIP {
		if !ev.DstIP.IsValid() {
			return "", false
		}
		return RouteAddr(ev.DstIP), true
	}
	return KeyValue(k, ev)
}

// routeAddrHash is RouteHash of RouteAddr(a) without allocating.
func routeAddrHash(seed uint64, a netip.Addr) uint64 {
	b := a.As16()
	return RouteHash(seed, b[:])
}
