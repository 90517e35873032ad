package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/source"
)

// A live run reads source.Sources that may never end (followed files, the
// syslog receiver, journald) and reports findings while their episodes are
// still open. Unlike Run it does not merge inputs by event time (an idle
// input would hold the others back forever): batches go to the detectors
// in arrival order and the Runner's lateness absorbs the small disorder
// between inputs. Time comes from the events; each input keeps its own
// watermark (the newest event time it delivered), and while every input is
// quiet a wall-clock heartbeat moves event time on by the time that passed,
// so open episodes still close and their findings still come out.

// LiveInput is one input of a live run.
type LiveInput struct {
	Source source.Source
	// Format forces the format by name; "" sniffs it from the first
	// records (until a format is recognised, records count as malformed).
	Format string
	// Sensor, when set, is put on every event of the input (Event.Sensor).
	Sensor *event.Sensor
}

// LiveConfig configures a live run.
type LiveConfig struct {
	Inputs    []LiveInput
	Formats   *parse.Formats
	Parse     parse.Options
	Detectors []detect.Enabled
	Workers   int // detector shards (default 1)
	// Lateness is how far event time may run backwards between inputs
	// and still land in open windows (default 1m).
	Lateness time.Duration
	// Heartbeat is the wall-clock period at which a quiet run advances
	// event time (default 1s).
	Heartbeat time.Duration
	// MaxRepeat caps "message repeated N times" (default 1000).
	MaxRepeat int
	// Sink, when set, receives every parsed event batch after the
	// detectors (the archive); the batch is borrowed for the call.
	Sink func([]event.Event) error
	// Now is the wall clock (tests); nil means time.Now.
	Now func() time.Time
	// Restore is detector state saved by an earlier run (Checkpoint),
	// loaded before the first event; nil starts cold.
	Restore *detect.Snapshot
}

// LiveInputStats are one input's counters during a live run.
type LiveInputStats struct {
	Name      string
	Format    string
	Records   int64
	Events    int64
	Malformed int64
	Skipped   int64
	// Watermark is the newest event time the input delivered; LastArrival
	// the wall-clock time of its last batch.
	Watermark   time.Time
	LastArrival time.Time
	Samples     []event.Sample
	Err         error // why the input stopped (nil while it runs)
	Done        bool  // a finite input that reached its end
}

// Live is a live run. Its methods other than Run may be called from any
// goroutine while Run executes.
type Live struct {
	cfg    LiveConfig
	inputs []*liveInput
	runner atomic.Pointer[detect.Runner]

	mu        sync.Mutex
	positions map[posKey]source.Position
	ckpt      chan checkpoint
	running   atomic.Bool
}

type posKey struct{ source, file string }

type checkpoint struct {
	fn     func([]source.Position, *detect.Snapshot) error
	state  bool             // take the detectors' state for fn
	reload []detect.Enabled // non-nil: a Reload, not a checkpoint
	done   chan error
}

type liveInput struct {
	in      LiveInput
	free    chan []event.Event // event batches back from the detectors, for reuse
	parser  parse.Parser
	format  string
	maxRep  int
	samples int

	mu    sync.Mutex
	stats LiveInputStats
}

// liveBatch is one parsed batch on its way to the detectors.
type liveBatch struct {
	in  *liveInput
	evs []event.Event
	pos source.Position
	max time.Time // newest event time in evs
}

// NewLive validates the configuration.
func NewLive(cfg LiveConfig) (*Live, error) {
	if cfg.Formats == nil {
		return nil, errors.New("pipeline: no formats configured")
	}
	if len(cfg.Inputs) == 0 {
		return nil, errors.New("pipeline: no inputs")
	}
	if cfg.Lateness <= 0 {
		cfg.Lateness = time.Minute
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = time.Second
	}
	if cfg.MaxRepeat <= 0 {
		cfg.MaxRepeat = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Live{cfg: cfg, positions: map[posKey]source.Position{}, ckpt: make(chan checkpoint)}
	for _, in := range cfg.Inputs {
		li := &liveInput{in: in, maxRep: cfg.MaxRepeat, samples: 5, free: make(chan []event.Event, 8)}
		li.stats.Name = in.Source.Name()
		if in.Format != "" {
			fm, ok := cfg.Formats.Get(in.Format)
			if !ok || fm.Binary() {
				return nil, fmt.Errorf("input %s: unknown line format %q (known: %v)", li.stats.Name, in.Format, cfg.Formats.Names())
			}
			li.use(fm, cfg.Parse)
		}
		l.inputs = append(l.inputs, li)
	}
	return l, nil
}

func (li *liveInput) use(fm parse.Format, o parse.Options) {
	li.parser = fm.New(o)
	li.format = fm.Name
	li.mu.Lock()
	li.stats.Format = fm.Name
	li.mu.Unlock()
}

// Inputs returns each input's counters.
func (l *Live) Inputs() []LiveInputStats {
	out := make([]LiveInputStats, len(l.inputs))
	for i, li := range l.inputs {
		li.mu.Lock()
		out[i] = li.stats
		out[i].Samples = append([]event.Sample(nil), li.stats.Samples...)
		li.mu.Unlock()
	}
	return out
}

// Detectors returns the detectors' counters (entities tracked, shed, ...)
// as of their last watermark; nil before Run started.
func (l *Live) Detectors() map[string]detect.Stats {
	r := l.runner.Load()
	if r == nil {
		return nil
	}
	return r.Stats()
}

// Busy returns the time spent in detectors so far.
func (l *Live) Busy() time.Duration {
	if r := l.runner.Load(); r != nil {
		return r.Busy()
	}
	return 0
}

// Checkpoint runs fn on the run's goroutine at a quiet point: every event
// read so far has been processed by the detectors (and every finding they
// caused emitted), and no other batch is taken until fn returns. fn gets
// the position after the last batch of every input and file, and the
// detectors' state at that point; it flushes the sinks, saves the state
// and then stores the positions, so a stored position never runs ahead of
// durable state. Checkpoint blocks until fn ran (or ctx is done, or the
// run ended).
//
// Without withState the detectors are not snapshotted (fn gets nil): a
// barrier and the positions only, for a run that keeps no state.
func (l *Live) Checkpoint(ctx context.Context, withState bool, fn func([]source.Position, *detect.Snapshot) error) error {
	return l.call(ctx, checkpoint{fn: fn, state: withState, done: make(chan error, 1)})
}

// Reload replaces the detectors (new parameters, indicator lists) at a
// quiet point (detect.Runner.Reconfigure): detectors whose parameters did
// not change keep their state; changed ones report their open episodes and
// start over with the new parameters.
func (l *Live) Reload(ctx context.Context, enabled []detect.Enabled) error {
	if enabled == nil {
		enabled = []detect.Enabled{}
	}
	return l.call(ctx, checkpoint{reload: enabled, done: make(chan error, 1)})
}

func (l *Live) call(ctx context.Context, c checkpoint) error {
	select {
	case l.ckpt <- c:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run reads the inputs until ctx is done (or every input ended), feeding
// the detectors, whose findings go to emit (concurrently, from the
// shards). At the end the detectors are flushed: open episodes report.
func (l *Live) Run(ctx context.Context, emit detect.Emit) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runner, stopRunner, err := l.newRunner(ctx, l.cfg.Detectors, l.cfg.Restore, emit)
	if err != nil {
		return err
	}
	defer func() { stopRunner() }()
	l.running.Store(true)

	batches := make(chan liveBatch, 4*len(l.inputs))
	var wg sync.WaitGroup
	for _, li := range l.inputs {
		wg.Add(1)
		go func(li *liveInput) {
			defer wg.Done()
			l.read(ctx, li, batches)
		}(li)
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()

	var runErr error
	tick := time.NewTicker(l.cfg.Heartbeat)
	defer tick.Stop()
	var maxSeen time.Time
	lastArrival := l.cfg.Now()
	pushed := true
loop:
	for {
		select {
		case b := <-batches:
			if err := runner.Submit(b.evs); err != nil {
				runErr = err
				break loop
			}
			if l.cfg.Sink != nil && len(b.evs) > 0 {
				if err := l.cfg.Sink(b.evs); err != nil {
					runErr = err
					break loop
				}
			}
			if b.max.After(maxSeen) {
				maxSeen = b.max
			}
			b.in.recycle(b.evs)
			lastArrival = l.cfg.Now()
			if !b.pos.IsZero() {
				l.mu.Lock()
				l.positions[posKey{b.pos.Source, b.pos.ID}] = b.pos
				l.mu.Unlock()
			}
			pushed = false
			if len(batches) == 0 { // idle for now: let the shards judge what came
				if err := runner.Push(); err != nil {
					runErr = err
					break loop
				}
				pushed = true
			}
		case <-tick.C:
			if !pushed {
				if err := runner.Push(); err != nil {
					runErr = err
					break loop
				}
				pushed = true
			}
			now := l.cfg.Now()
			if idle := now.Sub(lastArrival); idle >= l.cfg.Heartbeat && !maxSeen.IsZero() {
				if err := runner.Advance(maxSeen.Add(idle - l.cfg.Lateness)); err != nil {
					runErr = err
					break loop
				}
			}
		case c := <-l.ckpt:
			var err error
			if c.reload != nil {
				err = runner.Reconfigure(c.reload)
			} else {
				var snap *detect.Snapshot
				if c.state {
					snap, err = runner.Snapshot()
				} else {
					err = runner.Sync()
				}
				if err == nil {
					err = c.fn(l.Positions(), snap)
				}
			}
			c.done <- err
		case <-allDone:
			// Finite inputs only: drain what they left, then end.
			for len(batches) > 0 {
				b := <-batches
				if err := runner.Submit(b.evs); err != nil {
					runErr = err
					break
				}
			}
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	cancel()
	for _, li := range l.inputs {
		_ = li.in.Source.Close()
	}
	wg.Wait()
	closeErr := runner.Close() // flushes: open episodes report
	stopRunner = func() {}
	if runErr != nil {
		return runErr
	}
	if closeErr != nil && !errors.Is(closeErr, context.Canceled) {
		return closeErr
	}
	return nil
}

// newRunner starts a Runner (restored from snap when non-nil) and returns
// a function that stops it without flushing its detectors.
func (l *Live) newRunner(ctx context.Context, enabled []detect.Enabled, snap *detect.Snapshot, emit detect.Emit) (*detect.Runner, func(), error) {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r, err := detect.NewRunner(rctx, detect.RunnerConfig{Workers: l.cfg.Workers,
		Lateness: l.cfg.Lateness, Tick: max(l.cfg.Heartbeat, time.Second), Live: true}, enabled, emit)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if snap != nil {
		if err := r.Restore(snap); err != nil {
			cancel()
			_ = r.Close()
			return nil, nil, fmt.Errorf("cannot restore detector state: %w", err)
		}
	}
	l.runner.Store(r)
	stopped := false
	return r, func() {
		if !stopped {
			stopped = true
			cancel()
			_ = r.Close()
		}
	}, nil
}

// Positions returns the position after the last batch taken from every
// input (and file), in no particular order.
func (l *Live) Positions() []source.Position {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]source.Position, 0, len(l.positions))
	for _, p := range l.positions {
		out = append(out, p)
	}
	return out
}

// read parses one input's batches onto out until it ends or ctx is done.
func (l *Live) read(ctx context.Context, li *liveInput, out chan<- liveBatch) {
	for {
		b, err := li.in.Source.Next(ctx)
		if len(b.Records) > 0 {
			lb := li.parse(b, l.cfg)
			select {
			case out <- lb:
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			li.mu.Lock()
			if errors.Is(err, io.EOF) {
				li.stats.Done = true
			} else if ctx.Err() == nil && !errors.Is(err, source.ErrSourceClosed) {
				li.stats.Err = err
			}
			li.mu.Unlock()
			return
		}
	}
}

// parse turns a batch of records into events.
func (li *liveInput) parse(b source.Batch, cfg LiveConfig) liveBatch {
	lb := liveBatch{in: li, pos: b.Pos}
	if li.parser == nil {
		head := make([][]byte, 0, min(len(b.Records), sniffLines))
		for _, r := range b.Records {
			if len(r.B) > 0 && len(head) < sniffLines {
				head = append(head, r.B)
			}
		}
		if fm, err := cfg.Formats.Detect(head); err == nil && !fm.Binary() {
			li.use(fm, cfg.Parse)
		}
	}
	var malformed, skipped int64
	var samples []event.Sample
	var evs []event.Event
	select {
	case evs = <-li.free:
	default:
		evs = make([]event.Event, 0, max(len(b.Records), 256))
	}
	for i := range b.Records {
		r := &b.Records[i]
		if li.parser == nil || len(r.B) == 0 {
			if len(r.B) == 0 {
				skipped++
			} else {
				malformed++
			}
			continue
		}
		evs = append(evs, event.Event{})
		ev := &evs[len(evs)-1]
		if err := li.parser.Parse(r.B, ev); err != nil {
			evs = evs[:len(evs)-1]
			if errors.Is(err, parse.ErrSkip) {
				skipped++
				continue
			}
			malformed++
			if len(samples) < li.samples {
				text := r.B
				if len(text) > maxSampleText {
					text = text[:maxSampleText]
				}
				samples = append(samples, event.Sample{File: li.refName(r), Line: r.N, Text: sanitize(text)})
			}
			continue
		}
		ev.Ref = event.Ref{File: li.refName(r), Line: r.N}
		ev.Sensor = li.in.Sensor
		n := int(ev.Count)
		ev.Count = 1
		if n > li.maxRep {
			n = li.maxRep
		}
		for k := 1; k < n; k++ {
			evs = append(evs, evs[len(evs)-1])
		}
	}
	for i := range evs {
		if evs[i].Time.After(lb.max) {
			lb.max = evs[i].Time
		}
	}
	lb.evs = evs
	li.mu.Lock()
	li.stats.Records += int64(len(b.Records))
	li.stats.Events += int64(len(evs))
	li.stats.Malformed += malformed
	li.stats.Skipped += skipped
	if lb.max.After(li.stats.Watermark) {
		li.stats.Watermark = lb.max
	}
	li.stats.LastArrival = cfg.Now()
	for _, s := range samples {
		if len(li.stats.Samples) >= li.samples {
			copy(li.stats.Samples, li.stats.Samples[1:])
			li.stats.Samples = li.stats.Samples[:len(li.stats.Samples)-1]
		}
		li.stats.Samples = append(li.stats.Samples, s)
	}
	li.mu.Unlock()
	return lb
}

// recycle returns a batch the Runner has copied from (and the Sink has
// seen) for the input's next parse.
func (li *liveInput) recycle(evs []event.Event) {
	if cap(evs) == 0 || cap(evs) > 1<<16 {
		return
	}
	clear(evs) // drop references to record buffers
	select {
	case li.free <- evs[:0]:
	default:
	}
}

func (li *liveInput) refName(r *source.Record) string {
	if r.File != "" {
		return r.File
	}
	return li.stats.Name
}
