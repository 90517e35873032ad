package dnspcap

import "winnow/internal/event"

// Item states.
const (
	stateDone     uint8 = iota
	stateResponse       // query awaiting its response
	stateUse            // answered query awaiting traffic to its addresses
)

// item is a queued event with what it still waits for.
type item struct {
	ev       event.Event
	state    uint8
	used     bool
	nwatch   uint8
	deadline int64 // unix ns
	key      matchKey
	watch    [4][16]byte
}

// ring is a FIFO of items addressed by sequence number (the n-th item
// ever pushed has sequence n). Items live in a power-of-two circular
// buffer that grows when full; memory is bounded by Config.MaxPending.
type ring struct {
	buf  []item
	head int    // index of the front item
	n    int    // items queued
	base uint64 // sequence number of the front item
}

// push appends a zeroed item and returns its sequence number.
func (r *ring) push() (uint64, *item) {
	if r.n == len(r.buf) {
		r.grow()
	}
	i := (r.head + r.n) & (len(r.buf) - 1)
	r.buf[i] = item{}
	r.n++
	return r.base + uint64(r.n-1), &r.buf[i]
}

func (r *ring) grow() {
	size := 2 * len(r.buf)
	if size == 0 {
		size = 1024
	}
	nb := make([]item, size)
	for i := 0; i < r.n; i++ {
		nb[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = nb, 0
}

// at returns the item with sequence seq, or nil if it has left.
func (r *ring) at(seq uint64) *item {
	if seq < r.base || seq >= r.base+uint64(r.n) {
		return nil
	}
	return &r.buf[(r.head+int(seq-r.base))&(len(r.buf)-1)]
}

func (r *ring) front() *item { return &r.buf[r.head] }

// pop removes the front item (clearing it so its event is not pinned).
func (r *ring) pop() {
	r.buf[r.head] = item{}
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	r.base++
}
