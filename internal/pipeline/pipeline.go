// Package pipeline wires the stages: sources are read and parsed one
// goroutine per input, merged by event time, and routed by entity key into
// the detector Runner's shards; findings go to the caller's Emit. The same
// code serves batch analysis, and later the daemon and replay.
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

// Config configures one run.
type Config struct {
	// Sensor, when set, names the sensor that saw an input (by the
	// input's name and its format): every event of the input carries it
	// (Event.Sensor). Called once per input.
	Sensor func(input, format string) *event.Sensor

	Inputs      []source.Input
	Stdin       io.Reader // read for the input named "-"
	Formats     *parse.Formats
	InputFormat string        // force a format by name; "" sniffs each input
	Parse       parse.Options // Year and Location; ModTime is set per input
	Detectors   []detect.Enabled
	Workers     int // detector shards (default 1)
	MaxLine     int // bytes kept of a long line (default source's)
	// MaxRepeat caps the expansion of "message repeated N times" (default
	// 1000); the excess is counted in InputStats.RepeatCapped.
	MaxRepeat int
	// MalformedSamples is how many malformed lines per input are kept for
	// the report (default 5).
	MalformedSamples int
	// Sources are inputs that yield events directly (the archive for
	// replay); they are merged by event time with the file inputs.
	Sources []EventSource
	// Sink, when set, receives every event in merge order after it went to
	// the detectors (the archive writer); the batch is borrowed for the
	// call. An error stops the run.
	Sink func([]event.Event) error
	// Resume, when set, makes the run resumable: see Resume.
	Resume *Resume
}

// InputStats describes what happened to one input.
type InputStats struct {
	Name         string
	Format       string
	Lines        int64 // lines read (text inputs)
	Records      int64 // records read by a binary decoder (packets)
	Events       int64 // events produced (after repeat expansion)
	Malformed    int64 // lines not in the input's format (skipped)
	Skipped      int64 // lines that are not records (journal markers)
	Truncated    int64 // lines longer than MaxLine, cut
	Binary       int64 // lines with binary bytes
	Junk         int64 // binary lines skipped (not counted as malformed)
	RepeatCapped int64 // repeats not expanded because of MaxRepeat
	Samples      []event.Sample
	// Detail holds a binary decoder's own counters (packet captures:
	// fragments, tcp_gaps, unanswered, ...); nil for line inputs.
	Detail map[string]int64
	Err    error // why the input was not (fully) read; nil if it was
	// Warnings are things the user should know about how the input was
	// read (a guessed year, ...), one sentence each.
	Warnings []string
	// Note says why an input found in a directory (source.Input.Found)
	// was skipped without being an error: it is not a log winnow reads
	// (see ErrNotLog). "" when it was read.
	Note string
}

// Result summarises a run.
type Result struct {
	Inputs     []InputStats
	Detectors  map[string]detect.Stats
	Lines      int64
	Records    int64 // packets read from captures (not lines)
	Events     int64
	Malformed  int64
	First      time.Time // earliest event time seen
	Last       time.Time // latest event time seen
	Elapsed    time.Duration
	InputError bool // some input failed to open, sniff or read completely
}

// Pipeline is one configured run. Progress may be called from any
// goroutine while Run executes.
type Pipeline struct {
	cfg   Config
	total int64
	runs  []*inputRun
	ready atomic.Bool
}

// New validates the configuration.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Formats == nil {
		return nil, errors.New("pipeline: no formats configured")
	}
	if cfg.InputFormat != "" {
		if _, ok := cfg.Formats.Get(cfg.InputFormat); !ok {
			return nil, fmt.Errorf("unknown input format %q (known: %v)", cfg.InputFormat, cfg.Formats.Names())
		}
	}
	if cfg.MaxRepeat <= 0 {
		cfg.MaxRepeat = 1000
	}
	if cfg.MalformedSamples <= 0 {
		cfg.MalformedSamples = 5
	}
	p := &Pipeline{cfg: cfg}
	for _, in := range cfg.Inputs {
		if in.Size > 0 {
			p.total += in.Size
		}
	}
	return p, nil
}

// Progress returns bytes consumed so far and the total size of the inputs
// (0 when unknown, e.g. stdin only).
func (p *Pipeline) Progress() (done, total int64) {
	if !p.ready.Load() {
		return 0, p.total
	}
	for _, r := range p.runs {
		var n int64
		if r.reader != nil {
			n += r.reader.BytesRead()
		}
		if r.raw != nil {
			n += r.raw.BytesRead()
		}
		if r.in.Size > 0 {
			// Never more than the file's size (it may grow while read),
			// and all of it once the input is over (skipped, failed,
			// done), so the bar ends at 100 %.
			n = min(n, r.in.Size)
			if r.done.Load() {
				n = r.in.Size
			}
		}
		done += n
	}
	return min(done, p.total), p.total
}

// Run reads every input to the end (or until ctx is cancelled), runs the
// detectors and calls emit for each finding; emit must be safe for
// concurrent use. Input problems are reported in Result, not as an error;
// the error is for cancellation and detector setup.
func (p *Pipeline) Run(ctx context.Context, emit detect.Emit) (*Result, error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	runner, err := detect.NewRunner(ctx, detect.RunnerConfig{Workers: p.cfg.Workers}, p.cfg.Detectors, emit)
	if err != nil {
		return nil, err
	}
	if rc := p.cfg.Resume; rc != nil && rc.Detect != nil {
		if err := runner.Restore(rc.Detect); err != nil {
			cancel()
			_ = runner.Close()
			return nil, fmt.Errorf("cannot restore the detectors' state: %w", err)
		}
	}
	p.runs = make([]*inputRun, len(p.cfg.Inputs))
	for i, in := range p.cfg.Inputs {
		p.runs[i] = p.openInput(in, p.cfg.Resume.start(i))
	}
	p.ready.Store(true)

	var wg sync.WaitGroup
	var streams []*stream
	for i, r := range p.runs {
		if r.stopped() {
			r.done.Store(true)
			continue
		}
		st := newStream()
		st.idx, st.run = i, r
		streams = append(streams, st)
		wg.Add(1)
		go func(r *inputRun) {
			defer wg.Done()
			if r.decode != nil {
				o := p.cfg.Parse
				o.ModTime = r.in.ModTime
				r.readBinary(ctx, st, o)
				return
			}
			r.read(ctx, st)
		}(r)
	}
	srcStats := make([]InputStats, len(p.cfg.Sources))
	for i, src := range p.cfg.Sources {
		st := newStream()
		streams = append(streams, st)
		wg.Add(1)
		go func(i int, src EventSource) {
			defer wg.Done()
			srcStats[i] = readSource(ctx, src, st)
		}(i, src)
	}
	res := &Result{}
	var rs *resumer
	if p.cfg.Resume != nil {
		rs = newResumer(p.cfg.Resume, runner, p.runs)
	}
	mergeErr := merge(ctx, streams, runner, res, p.cfg.Sink, rs)
	if mergeErr == nil && rs != nil {
		mergeErr = rs.checkpoint(true)
	}
	if mergeErr != nil {
		cancel()
	}
	closeErr := runner.Close()
	wg.Wait()
	for _, r := range p.runs {
		if r.reader != nil {
			_ = r.reader.Close()
		}
		res.add(r.stats)
	}
	for _, s := range srcStats {
		res.add(s)
	}
	res.Detectors = runner.Stats()
	res.Elapsed = time.Since(start)
	if mergeErr != nil {
		return res, mergeErr
	}
	if closeErr != nil {
		return res, closeErr
	}
	return res, ctx.Err()
}

func (res *Result) add(s InputStats) {
	res.Inputs = append(res.Inputs, s)
	res.Lines += s.Lines
	res.Records += s.Records
	res.Events += s.Events
	res.Malformed += s.Malformed
	if s.Err != nil {
		res.InputError = true
	}
}
