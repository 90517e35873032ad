package detect

import (
	"net/netip"

	"winnow/internal/event"
)

// KeyCache returns KeyValue for events of one detector, remembering the
// last source address's string: runs of events from one address (the
// common case in logs) then cost no allocation. Not safe for concurrent
// use (one per detector instance).
type KeyCache struct {
	addr netip.Addr
	str  string
}

// Value is KeyValue(k, ev) with the address string cached.
func (c *KeyCache) Value(k Key, ev *event.Event) (string, bool) {
	if k != KeySourceIP {
		return KeyValue(k, ev)
	}
	if !ev.SrcIP.IsValid() {
		return "", false
	}
	if ev.SrcIP != c.addr || c.str == "" {
		c.addr, c.str = ev.SrcIP, ev.SrcIP.String()
	}
	return c.str, true
}
