package detect

import (
	"net/netip"

	"winnow/internal/event"
	"winnow/internal/stablehash"
)

// RouteHash is the hash the Runner shards entities by: of an entity's
// route (RouteAddr for addresses, the value itself for names) under a
// seed. It is stable — the same in every process and every version that
// reads the same snapshot format — so that a snapshot's entries can be
// routed to the shards (or, scaled out, the partitions) that own them. It
// is not a cryptographic hash; the seed (RunnerConfig.Seed) keeps its
// placement from being predictable to someone who does not know it.
func RouteHash[S ~string | ~[]byte](seed uint64, s S) uint64 { return stablehash.Sum64(seed, s) }

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

// RouteOfValue is the route of an entity named by its KeyValue string
// (addresses as text): detectors whose tables are keyed by KeyValue use
// it to route their snapshot entries.
func RouteOfValue(k Key, v string) string {
	if k == KeySourceIP || k == KeyDestIP {
		if a, err := netip.ParseAddr(v); err == nil {
			return RouteAddr(a)
		}
	}
	return v
}
