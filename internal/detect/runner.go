package detect

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"winnow/internal/event"
)

// Enabled is one detector to run: its spec and the parameter values.
type Enabled struct {
	Spec   *Spec
	Params Params
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	Workers    int // shards, one goroutine each (default 1)
	BatchSize  int // events per message to a shard (default 512)
	QueueDepth int // messages buffered per shard (default 8)
	// Tick is how far the watermark must advance (in event time) before
	// the Runner tells every shard to Advance (default 1m).
	Tick time.Duration
	// Lateness is how far behind the newest event the watermark trails, so
	// slightly out-of-order events still fall inside open windows (default 1m).
	Lateness time.Duration
	// Live makes the shards call Probe on every detector that implements
	// Prober after each batch, so findings are reported while their
	// episodes are still open (serve, analyze --follow).
	Live bool
	// Seed is the routing seed (see RouteHash); 0 means DefaultSeed. A
	// restored snapshot brings its own (Restore).
	Seed uint64
}

// DefaultSeed is the routing seed when none is configured: fixed, so that
// two runs over the same input shard (and report) alike.
const DefaultSeed = 0x77696e6e6f77 // "winnow"

// Runner shards events by entity key across worker goroutines, each with
// its own instances of every enabled detector.
//
// Contract: Submit and Close are called from one goroutine (the producer),
// with events in event-time order (small disorder within Lateness is
// tolerated). Emit is called concurrently from the shard goroutines and must
// be safe for that. After Close returns, no more Emit calls happen and Stats
// is final.
type Runner struct {
	cfg      RunnerConfig
	enabled  []Enabled
	emit     Emit
	seed     uint64
	shards   []*shard
	pending  [][]routed // per shard, being filled by Submit
	free     chan []routed
	route    routeTable
	wm       time.Time // last watermark sent
	maxSeen  time.Time
	wg       sync.WaitGroup
	ctx      context.Context
	closed   bool
	routeBuf []uint8
}

// routed is an event bound for one shard with the keys it is routed by.
type routed struct {
	ev   event.Event
	keys uint8 // bit k set: the shard owns the event's value for Key k
}

type message struct {
	batch   []routed
	advance time.Time     // non-zero: call Advance after the batch
	flush   bool          // end of input: Flush every detector and stop
	sync    chan struct{} // non-nil: signal once everything before is processed
	// snap, when set, asks for the shard's detector state after the batch
	// (and the advance); restore hands it state before any event.
	snap    chan<- shardSnap
	restore *shardRestore
	reconf  *shardReconf
}

// shardReconf replaces a shard's detectors (Runner.Reconfigure).
type shardReconf struct {
	enabled []Enabled
	dets    []instance // the new set; entries with reuse >= 0 are filled by the shard
	reuse   []int      // index of the old instance kept in its place, or -1
}

// routeTable says, per key, which kinds/actions any detector on that key
// wants, so events nobody needs are never routed.
type routeTable struct {
	keys    []Key
	kinds   [KeyCount][256]bool
	actions [KeyCount][event.ActionCount]bool
	anyAct  [KeyCount][256]bool // some detector on this key and kind takes every action
}

type shard struct {
	idx     int
	enabled []Enabled // the detectors of dets, in order (the shard's copy)
	in      chan message
	dets    []instance
	mu      sync.Mutex // guards stats, which Stats reads from other goroutines
	stats   []Stats
	busy    atomic.Int64 // nanoseconds spent in detectors
}

type instance struct {
	d       Detector
	key     Key
	kinds   [256]bool
	actions [event.ActionCount]bool
	anyAct  bool
}

// NewRunner builds the shards and starts their goroutines. emit receives
// every finding.
func NewRunner(ctx context.Context, cfg RunnerConfig, enabled []Enabled, emit Emit) (*Runner, error) {
	cfg = cfg.withDefaults()
	r := &Runner{cfg: cfg, enabled: enabled, emit: emit, seed: cfg.Seed, ctx: ctx}
	r.route = buildRoutes(enabled)
	r.free = make(chan []routed, cfg.Workers*(cfg.QueueDepth+2))
	for i := 0; i < cfg.Workers; i++ {
		sh := &shard{idx: i, in: make(chan message, cfg.QueueDepth)}
		for _, en := range enabled {
			d, err := en.Spec.New(en.Params)
			if err != nil {
				return nil, fmt.Errorf("cannot start detector %s: %w", en.Spec.Name, err)
			}
			sh.dets = append(sh.dets, newInstance(d, en.Spec))
		}
		sh.stats = make([]Stats, len(enabled))
		sh.enabled = enabled
		r.shards = append(r.shards, sh)
		r.pending = append(r.pending, nil)
	}
	r.routeBuf = make([]uint8, cfg.Workers)
	if cfg.Live { // a first Probe, before any event, lets detectors start tracking
		for _, sh := range r.shards {
			for i := range sh.dets {
				if p, ok := sh.dets[i].d.(Prober); ok {
					p.Probe(emit)
				}
			}
		}
	}
	for _, sh := range r.shards {
		r.wg.Add(1)
		go r.work(sh)
	}
	return r, nil
}

func (c RunnerConfig) withDefaults() RunnerConfig {
	if c.Workers <= 0 {
		c.Workers = 1
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 512
	}
	if c.QueueDepth <= 0 {
		c.QueueDepth = 8
	}
	if c.Tick <= 0 {
		c.Tick = time.Minute
	}
	if c.Lateness <= 0 {
		c.Lateness = time.Minute
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	return c
}

func newInstance(d Detector, s *Spec) instance {
	in := instance{d: d, key: s.Key, anyAct: len(s.Actions) == 0}
	for _, k := range s.Kinds {
		in.kinds[k] = true
	}
	for _, a := range s.Actions {
		in.actions[a] = true
	}
	return in
}

func buildRoutes(enabled []Enabled) routeTable {
	var rt routeTable
	seen := [KeyCount]bool{}
	for _, en := range enabled {
		k := en.Spec.Key
		if !seen[k] {
			seen[k] = true
			rt.keys = append(rt.keys, k)
		}
		for _, kind := range en.Spec.Kinds {
			rt.kinds[k][kind] = true
			if len(en.Spec.Actions) == 0 {
				rt.anyAct[k][kind] = true
			}
		}
		for _, a := range en.Spec.Actions {
			rt.actions[k][a] = true
		}
	}
	return rt
}

// wants reports whether some detector on key k takes ev.
func (rt *routeTable) wants(k Key, ev *event.Event) bool {
	if !rt.kinds[k][ev.Kind] {
		return false
	}
	return rt.anyAct[k][ev.Kind] || (int(ev.Action) < event.ActionCount && rt.actions[k][ev.Action])
}

// Submit routes a batch of events to the shards. The events are copied; the
// caller may reuse the slice.
func (r *Runner) Submit(evs []event.Event) error {
	for i := range evs {
		if err := r.submitOne(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) submitOne(ev *event.Event) error {
	masks := r.routeBuf
	clear(masks)
	for _, k := range r.route.keys {
		if !r.route.wants(k, ev) {
			continue
		}
		h, ok := r.keyHash(k, ev)
		if !ok {
			continue
		}
		masks[h%uint64(len(r.shards))] |= 1 << k
	}
	for s, m := range masks {
		if m == 0 {
			continue
		}
		if r.pending[s] == nil {
			r.pending[s] = r.getBatch()
		}
		r.pending[s] = append(r.pending[s], routed{ev: *ev, keys: m})
		if len(r.pending[s]) >= r.cfg.BatchSize {
			if err := r.send(s, message{batch: r.pending[s]}); err != nil {
				return err
			}
			r.pending[s] = nil
		}
	}
	if ev.Time.After(r.maxSeen) {
		r.maxSeen = ev.Time
		if wm := r.maxSeen.Add(-r.cfg.Lateness); wm.Sub(r.wm) >= r.cfg.Tick {
			return r.advance(wm)
		}
	}
	return nil
}

// keyHash hashes the event's route for key k (RouteOf) without
// allocating.
func (r *Runner) keyHash(k Key, ev *event.Event) (uint64, bool) {
	switch k {
	case KeySourceIP:
		if !ev.SrcIP.IsValid() {
			if ev.SrcHost != "" { // a source named by host name
				return RouteHash(r.seed, ev.SrcHost), true
			}
			return 0, false
		}
		return routeAddrHash(r.seed, ev.SrcIP), true
	case KeyUser:
		if ev.User == "" {
			return 0, false
		}
		return RouteHash(r.seed, ev.User), true
	case KeyHost:
		if ev.Host == "" {
			return 0, false
		}
		return RouteHash(r.seed, ev.Host), true
	case KeyDestIP:
		if !ev.DstIP.IsValid() {
			return 0, false
		}
		return routeAddrHash(r.seed, ev.DstIP), true
	case KeySensor:
		return RouteHash(r.seed, SensorName(ev)), true
	case KeySite, KeyDomain:
		v, ok := KeyValue(k, ev)
		if !ok {
			return 0, false
		}
		return RouteHash(r.seed, v), true
	}
	return 0, false
}

// Push sends the events submitted so far to the shards without waiting for
// a full batch (a live producer calls it when its input is idle, so that
// events are judged at once). Called from the producer's goroutine.
func (r *Runner) Push() error {
	for s := range r.shards {
		if len(r.pending[s]) == 0 {
			continue
		}
		if err := r.send(s, message{batch: r.pending[s]}); err != nil {
			return err
		}
		r.pending[s] = nil
	}
	return nil
}

// Sync waits until every shard has processed everything submitted and
// pushed before it (a barrier for checkpoints). Called from the producer's
// goroutine.
func (r *Runner) Sync() error {
	if err := r.Push(); err != nil {
		return err
	}
	dones := make([]chan struct{}, len(r.shards))
	for s := range r.shards {
		dones[s] = make(chan struct{})
		if err := r.send(s, message{sync: dones[s]}); err != nil {
			return err
		}
	}
	for _, d := range dones {
		select {
		case <-d:
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
	}
	return nil
}

// Busy returns the time the shards spent in detectors so far, summed.
// Safe from any goroutine.
func (r *Runner) Busy() time.Duration {
	var n int64
	for _, sh := range r.shards {
		n += sh.busy.Load()
	}
	return time.Duration(n)
}

// Watermark returns the last watermark sent to the shards.
func (r *Runner) Watermark() time.Time { return r.wm }

// Advance moves the watermark to t on every shard (flushing pending events
// first). Producers call it when input is idle; Submit calls it as event
// time moves.
func (r *Runner) Advance(t time.Time) error { return r.advance(t) }

func (r *Runner) advance(wm time.Time) error {
	if !wm.After(r.wm) {
		return nil
	}
	r.wm = wm
	for s := range r.shards {
		if err := r.send(s, message{batch: r.pending[s], advance: wm}); err != nil {
			return err
		}
		r.pending[s] = nil
	}
	return nil
}

func (r *Runner) getBatch() []routed {
	select {
	case b := <-r.free:
		return b[:0]
	default:
		return make([]routed, 0, r.cfg.BatchSize)
	}
}

func (r *Runner) putBatch(b []routed) {
	if b == nil {
		return
	}
	clear(b) // drop references to input buffers
	select {
	case r.free <- b[:0]:
	default:
	}
}

func (r *Runner) send(s int, m message) error {
	select {
	case r.shards[s].in <- m:
		return nil
	case <-r.ctx.Done():
		return r.ctx.Err()
	}
}

// Close sends pending events, flushes every detector and waits for the
// shards to finish. It returns the context's error if it was cancelled.
func (r *Runner) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	for s := range r.shards {
		if e := r.send(s, message{batch: r.pending[s], flush: true}); e != nil && err == nil {
			err = e
		}
		r.pending[s] = nil
	}
	r.wg.Wait()
	if err == nil {
		err = r.ctx.Err() // a send may win the race against a cancelled context
	}
	return err
}

func (r *Runner) work(sh *shard) {
	defer r.wg.Done()
	for {
		var m message
		var ok bool
		select {
		case m, ok = <-sh.in:
			if !ok {
				return
			}
		case <-r.ctx.Done():
			return
		}
		if m.restore != nil {
			m.restore.done <- sh.restore(m.restore)
		}
		if m.reconf != nil {
			sh.reconfigure(m.reconf, r.emit)
		}
		t0 := time.Now()
		sh.process(m.batch, r.emit)
		r.putBatch(m.batch)
		if r.cfg.Live && len(m.batch) > 0 {
			for i := range sh.dets {
				if p, ok := sh.dets[i].d.(Prober); ok {
					p.Probe(r.emit)
				}
			}
		}
		if !m.advance.IsZero() {
			for i := range sh.dets {
				sh.dets[i].d.Advance(m.advance, r.emit)
			}
			if r.cfg.Live {
				sh.snapStats()
			}
		}
		sh.busy.Add(int64(time.Since(t0)))
		if m.sync != nil {
			close(m.sync)
		}
		if m.snap != nil {
			m.snap <- sh.snapshot(sh.enabled)
		}
		if m.flush {
			for i := range sh.dets {
				sh.dets[i].d.Flush(r.emit)
			}
			sh.snapStats()
			return
		}
	}
}

// snapStats copies the detectors' counters for Stats.
func (sh *shard) snapStats() {
	sh.mu.Lock()
	for i := range sh.dets {
		sh.stats[i] = sh.dets[i].d.Stats()
	}
	sh.mu.Unlock()
}

func (sh *shard) process(batch []routed, emit Emit) {
	for i := range batch {
		rt := &batch[i]
		for j := range sh.dets {
			in := &sh.dets[j]
			if rt.keys&(1<<in.key) == 0 || !in.kinds[rt.ev.Kind] {
				continue
			}
			if !in.anyAct && (int(rt.ev.Action) >= event.ActionCount || !in.actions[rt.ev.Action]) {
				continue
			}
			in.d.Observe(&rt.ev, emit)
		}
	}
}

// Stats returns each enabled detector's counters summed over shards, by
// spec name. Final after Close; in a live run (RunnerConfig.Live) it may be
// called from any goroutine and is as of each shard's last watermark.
func (r *Runner) Stats() map[string]Stats {
	out := map[string]Stats{}
	for _, sh := range r.shards {
		sh.mu.Lock()
		for i, en := range sh.enabled {
			if i < len(sh.stats) {
				out[en.Spec.Name] = out[en.Spec.Name].Add(sh.stats[i])
			}
		}
		sh.mu.Unlock()
	}
	return out
}

// Reconfigure replaces the enabled detectors while the run goes on (a
// daemon's reload). A detector whose spec name and parameters are
// unchanged keeps its instances, and so all its state; a detector that is
// new, or whose parameters changed, starts with fresh instances; the
// instances dropped (removed, or replaced by new parameters) are flushed
// first, so their open episodes report as closed. Events submitted before
// the call are observed by the old set. Called from the producer goroutine
// like Submit; on error nothing changed.
func (r *Runner) Reconfigure(enabled []Enabled) error {
	old := r.enabled
	reuse := make([]int, len(enabled))
	for i, en := range enabled {
		reuse[i] = -1
		for j, o := range old {
			if o.Spec.Name == en.Spec.Name && o.Params.Equal(en.Params) {
				reuse[i] = j
			}
		}
	}
	msgs := make([]*shardReconf, len(r.shards))
	for s := range r.shards {
		m := &shardReconf{enabled: enabled, dets: make([]instance, len(enabled)), reuse: reuse}
		for i, en := range enabled {
			if reuse[i] >= 0 {
				continue
			}
			d, err := en.Spec.New(en.Params)
			if err != nil {
				return fmt.Errorf("cannot start detector %s: %w", en.Spec.Name, err)
			}
			m.dets[i] = newInstance(d, en.Spec)
		}
		msgs[s] = m
	}
	if r.cfg.Live {
		for _, m := range msgs {
			for i := range m.dets {
				if p, ok := m.dets[i].d.(Prober); ok && reuse[i] < 0 {
					p.Probe(r.emit) // start tracking, as NewRunner does
				}
			}
		}
	}
	for s, m := range msgs {
		if err := r.send(s, message{batch: r.pending[s], reconf: m}); err != nil {
			return err
		}
		r.pending[s] = nil
	}
	r.enabled = enabled
	r.route = buildRoutes(enabled)
	return nil
}

// reconfigure swaps the shard's detectors (see Runner.Reconfigure).
func (sh *shard) reconfigure(m *shardReconf, emit Emit) {
	kept := make([]bool, len(sh.dets))
	for i, j := range m.reuse {
		if j >= 0 {
			m.dets[i] = sh.dets[j]
			kept[j] = true
		}
	}
	for j := range sh.dets {
		if !kept[j] {
			sh.dets[j].d.Flush(emit)
		}
	}
	sh.dets = m.dets
	sh.mu.Lock()
	sh.enabled = m.enabled
	sh.stats = make([]Stats, len(m.dets))
	sh.mu.Unlock()
	sh.snapStats()
}
