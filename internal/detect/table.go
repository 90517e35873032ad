package detect

import (
	"time"
)

// Table is a bounded map of per-entity state keyed by string, ordered by
// when each entry was last touched. Detectors use it for every map an
// attacker can grow (one entry per source address, per account, ...).
//
// Capacity: a Table holds at most Max entries. When it is full, inserting a
// new key evicts the least-recently-touched entry (LRU) and counts it in
// Stats().Shed. Evicting rather than refusing is deliberate: a flood of
// throw-away keys cannot blind the detector to an entity that keeps acting,
// because an active entity is touched again and stays at the recent end;
// the cost is that a very slow entity can be pushed out by a flood, which
// the Shed counter reports. Shed, when set, sees the victim first so that a
// detector can still emit an open episode instead of silently losing it.
//
// Expiry is by event time: Expire(now, idle, fn) removes entries last
// touched before now−idle, oldest first, and stops at the first fresh one,
// so its cost is proportional to what it removes (O(1) amortised per
// entry over the entry's life), never a scan of the table. Touches are
// expected in event-time order; an out-of-order touch (within the Runner's
// lateness) keeps the newer last-seen time but still moves the entry to the
// recent end, so expiry can be late by at most that disorder.
//
// Operations: Get/GetBytes O(1); Upsert/UpsertBytes O(1) amortised
// (GetBytes and UpsertBytes of an existing key do not allocate; inserting a
// new key through UpsertBytes allocates its string once). Nodes removed by
// eviction or expiry are recycled for later inserts, so a detector with a
// steady population does not allocate per event.
//
// Memory per entry: about 72 bytes of bookkeeping (key header 16, last-seen
// 8, list links 16, map slot ≈ 32 with Go's load factor) plus
// unsafe.Sizeof(V), plus the key's bytes when the Table allocated them
// (UpsertBytes) — keys passed as strings are retained, not copied, which is
// safe for event strings (immutable).
//
// Pointers returned by Get/Upsert stay valid until the entry is removed
// (Delete, Expire, Drain, or eviction by a later insert). A Table is not safe
// for concurrent use; callbacks must not call methods of the same Table.
type Table[V any] struct {
	m          map[string]*tnode[V]
	head, tail *tnode[V] // head = most recently touched
	free       *tnode[V] // recycled nodes, linked through next
	nfree      int
	max        int
	opt        TableOptions[V]
	shed       int64
	expired    int64
}

// TableOptions are a Table's optional callbacks.
type TableOptions[V any] struct {
	// Shed is called with an entry evicted because the table is full, just
	// before its node is reused for the new key.
	Shed func(key string, v *V)
	// Recycle prepares the value of a removed entry for reuse by a later
	// insert (typically: truncate slices, keep their capacity). If nil the
	// value is zeroed. A created entry's value is therefore either the zero
	// V or what Recycle left.
	Recycle func(v *V)
}

type tnode[V any] struct {
	key        string
	seen       int64 // unix nanoseconds of the newest touch
	prev, next *tnode[V]
	val        V
}

// maxFree bounds how many removed nodes a Table keeps for reuse, so the
// memory of a past flood is returned to the GC once it has expired.
const maxFree = 1024

// NewTable returns a Table holding at most max entries. max < 1 panics:
// detectors validate their max_entities parameter before calling it.
func NewTable[V any](max int, opt TableOptions[V]) *Table[V] {
	if max < 1 {
		panic("detect.NewTable: max must be at least 1")
	}
	return &Table[V]{m: make(map[string]*tnode[V], min(max, 1024)), max: max, opt: opt}
}

// Len is the number of entries.
func (t *Table[V]) Len() int { return len(t.m) }

// Cap is the maximum number of entries.
func (t *Table[V]) Cap() int { return t.max }

// Stats reports the table's counters in the detector Stats shape.
func (t *Table[V]) Stats() Stats {
	return Stats{Entities: len(t.m), Shed: t.shed, Expired: t.expired}
}

// Get returns the entry for key without touching it, or nil.
func (t *Table[V]) Get(key string) *V {
	if n := t.m[key]; n != nil {
		return &n.val
	}
	return nil
}

// GetBytes is Get for a key held in a byte slice; it does not allocate.
func (t *Table[V]) GetBytes(key []byte) *V {
	if n := t.m[string(key)]; n != nil {
		return &n.val
	}
	return nil
}

// Upsert returns the entry for key, creating it if absent, and marks it
// touched at now. key is retained for a new entry.
func (t *Table[V]) Upsert(key string, now time.Time) (v *V, created bool) {
	if n := t.m[key]; n != nil {
		t.touch(n, now.UnixNano())
		return &n.val, false
	}
	return &t.insert(key, now.UnixNano()).val, true
}

// UpsertBytes is Upsert for a key held in a byte slice (for example an
// address formatted into a scratch buffer). Only creating an entry
// allocates (the key's string).
func (t *Table[V]) UpsertBytes(key []byte, now time.Time) (v *V, created bool) {
	if n := t.m[string(key)]; n != nil {
		t.touch(n, now.UnixNano())
		return &n.val, false
	}
	return &t.insert(string(key), now.UnixNano()).val, true
}

// Delete removes key; it reports whether it was present. The value is
// recycled, so pointers to it are invalid afterwards.
func (t *Table[V]) Delete(key string) bool {
	n := t.m[key]
	if n == nil {
		return false
	}
	t.unlink(n)
	delete(t.m, n.key)
	t.release(n)
	return true
}

// Expire removes every entry last touched before now−idle, oldest first,
// calling onEvict (if non-nil) with each before it is recycled. It returns
// how many it removed; they are counted in Stats().Expired.
func (t *Table[V]) Expire(now time.Time, idle time.Duration, onEvict func(key string, v *V)) int {
	cut := now.Add(-idle).UnixNano()
	n := 0
	for t.tail != nil && t.tail.seen < cut {
		nd := t.tail
		t.unlink(nd)
		delete(t.m, nd.key)
		if onEvict != nil {
			onEvict(nd.key, &nd.val)
		}
		t.release(nd)
		n++
	}
	t.expired += int64(n)
	return n
}

// Drain removes every entry, oldest first, calling fn (if non-nil) with
// each. Detectors use it in Flush. Drained entries are not counted as
// expired or shed.
func (t *Table[V]) Drain(fn func(key string, v *V)) {
	for t.tail != nil {
		nd := t.tail
		t.unlink(nd)
		delete(t.m, nd.key)
		if fn != nil {
			fn(nd.key, &nd.val)
		}
		t.release(nd)
	}
}

// Each calls fn for every entry from the least to the most recently
// touched, stopping when fn returns false. fn must not modify the table.
func (t *Table[V]) Each(fn func(key string, v *V) bool) {
	for n := t.tail; n != nil; n = n.prev {
		if !fn(n.key, &n.val) {
			return
		}
	}
}

// LastSeen returns the newest touch time of key (zero if absent).
func (t *Table[V]) LastSeen(key string) time.Time {
	if n := t.m[key]; n != nil {
		return time.Unix(0, n.seen)
	}
	return time.Time{}
}

func (t *Table[V]) touch(n *tnode[V], now int64) {
	if now > n.seen {
		n.seen = now
	}
	if t.head == n {
		return
	}
	t.unlink(n)
	t.pushFront(n)
}

func (t *Table[V]) insert(key string, now int64) *tnode[V] {
	var n *tnode[V]
	if len(t.m) >= t.max {
		n = t.tail // evict the least recently touched
		t.unlink(n)
		delete(t.m, n.key)
		t.shed++
		if t.opt.Shed != nil {
			t.opt.Shed(n.key, &n.val)
		}
		t.recycle(n)
	} else if t.free != nil {
		n = t.free
		t.free = n.next
		t.nfree--
		n.next = nil
	} else {
		n = new(tnode[V])
	}
	n.key, n.seen = key, now
	t.m[key] = n
	t.pushFront(n)
	return n
}

// release returns a removed node to the free list (or to the GC).
func (t *Table[V]) release(n *tnode[V]) {
	if t.nfree >= maxFree {
		return
	}
	t.recycle(n)
	n.next = t.free
	t.free = n
	t.nfree++
}

func (t *Table[V]) recycle(n *tnode[V]) {
	n.key = ""
	n.prev, n.next = nil, nil
	if t.opt.Recycle != nil {
		t.opt.Recycle(&n.val)
	} else {
		var zero V
		n.val = zero
	}
}

func (t *Table[V]) unlink(n *tnode[V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		t.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		t.tail = n.prev
	}
	n.prev, n.next = nil, nil
}

func (t *Table[V]) pushFront(n *tnode[V]) {
	n.prev = nil
	n.next = t.head
	if t.head != nil {
		t.head.prev = n
	}
	t.head = n
	if t.tail == nil {
		t.tail = n
	}
}
