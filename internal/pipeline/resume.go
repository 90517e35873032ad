package pipeline

import (
	"fmt"

	"winnow/internal/detect"
	"winnow/internal/event"
)

// Resume makes a run resumable (analyze --state, later serve): inputs
// start where an earlier run left them, the detectors start from its
// state, and the run hands out consistent checkpoints of both.
type Resume struct {
	// Detect is the detectors' state to start from (nil: none).
	Detect *detect.Snapshot
	// Start is where each input starts, indexed like Config.Inputs
	// (missing or zero: from its beginning).
	Start []Mark
	// Every is how many events go between checkpoints (0: only the final
	// one).
	Every int64
	// Checkpoint receives consistent checkpoints, from the merge goroutine:
	// every event submitted to the detectors before it is in the snapshot
	// and every finding those events caused has been emitted; no later
	// event is. The final one (Checkpoint.Final) comes after the last
	// event and before the detectors are flushed: its snapshot is the
	// state to keep — the findings the flush then emits are about
	// episodes still open in it. An error stops the run.
	Checkpoint func(Checkpoint) error
}

// Mark is where an input stands.
type Mark struct {
	// Offset is the uncompressed byte offset just past the last line taken
	// (text inputs), and Line that line's number.
	Offset, Line int64
	// Events counts the events taken from a binary input (a packet
	// capture is decoded again from its start and its first Events events
	// skipped).
	Events int64
	// Done says the input was read to its end (so far: a file may grow).
	Done bool
	// Read says the input was opened and read in this run; when false its
	// mark is the start it was given.
	Read bool
}

// Checkpoint is a consistent state of the run.
type Checkpoint struct {
	Detect *detect.Snapshot
	Inputs []Mark // indexed like Config.Inputs
	Final  bool
}

// resumer tracks the inputs' marks in the merge.
type resumer struct {
	cfg    *Resume
	runner *detect.Runner
	marks  []Mark
	binary []bool
	since  int64 // events since the last checkpoint
}

func newResumer(cfg *Resume, runner *detect.Runner, runs []*inputRun) *resumer {
	rs := &resumer{cfg: cfg, runner: runner, marks: make([]Mark, len(runs)), binary: make([]bool, len(runs))}
	for i, r := range runs {
		if i < len(cfg.Start) {
			rs.marks[i] = cfg.Start[i]
			rs.marks[i].Done, rs.marks[i].Read = false, false
		}
		rs.binary[i] = r.decode != nil
	}
	return rs
}

// start returns input i's start.
func (cfg *Resume) start(i int) Mark {
	if cfg == nil || i >= len(cfg.Start) {
		return Mark{}
	}
	return cfg.Start[i]
}

// took records a run of events of stream st submitted to the detectors.
func (rs *resumer) took(st *stream, run []event.Event) {
	if st.idx < 0 || len(run) == 0 {
		return
	}
	m := &rs.marks[st.idx]
	m.Read = true
	if rs.binary[st.idx] {
		m.Events += int64(len(run))
	} else if last := &run[len(run)-1].Ref; last.Off > 0 {
		m.Offset, m.Line = last.Off, last.Line
	}
	rs.since += int64(len(run))
}

// ended records that stream st's input was read to its end.
func (rs *resumer) ended(st *stream) {
	if st.idx < 0 || st.run == nil {
		return
	}
	r, m := st.run, &rs.marks[st.idx]
	m.Read = true
	if r.stats.Err != nil || r.stats.Note != "" {
		return // given up: resume after what was taken
	}
	m.Done = true
	if r.decode == nil && r.lastOff > 0 {
		m.Offset, m.Line = r.lastOff, r.lastLine
	}
}

// safe reports whether no input is in the middle of one line's events
// ("message repeated N times" expands into N events of one line).
func safe(cs []*cursor) bool {
	for _, c := range cs {
		if c.pos > 0 && c.pos < len(c.batch) && c.batch[c.pos].Ref.Line == c.batch[c.pos-1].Ref.Line &&
			c.batch[c.pos].Ref.File == c.batch[c.pos-1].Ref.File {
			return false
		}
	}
	return true
}

// maybe checkpoints when enough events went by and the point is safe.
func (rs *resumer) maybe(cs []*cursor) error {
	if rs.cfg.Every <= 0 || rs.since < rs.cfg.Every || !safe(cs) {
		return nil
	}
	return rs.checkpoint(false)
}

func (rs *resumer) checkpoint(final bool) error {
	snap, err := rs.runner.Snapshot()
	if err != nil {
		return err
	}
	rs.since = 0
	if rs.cfg.Checkpoint == nil {
		return nil
	}
	if err := rs.cfg.Checkpoint(Checkpoint{Detect: snap, Inputs: append([]Mark(nil), rs.marks...), Final: final}); err != nil {
		return fmt.Errorf("cannot checkpoint: %w", err)
	}
	return nil
}
