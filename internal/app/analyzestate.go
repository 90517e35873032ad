package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"winnow/internal/event"
	"winnow/internal/pipeline"
	"winnow/internal/source"
	"winnow/internal/state"
	"winnow/internal/state/codec"
)

// StateOptions make analyze continue where its last run stopped (cron
// use): --state DIR keeps the detectors' state, the inputs' positions and
// the incidents already reported in DIR (docs/format/state.md).
type StateOptions struct {
	State string // data directory; "" = no state
	// FreshState sets an existing (or unreadable) state aside and starts
	// over.
	FreshState bool
	// CheckpointEvery is how many events go between the state saves made
	// while reading (0: only at the end). Ignored with --archive, whose
	// files are committed at the end: positions must not run ahead of it.
	CheckpointEvery int64
}

// DefaultCheckpointEvery is the default of StateOptions.CheckpointEvery.
const DefaultCheckpointEvery = 1_000_000

// Retention of what a state keeps about the past.
const (
	// positionRetention: positions of inputs not seen for this long are
	// dropped.
	positionRetention = 30 * 24 * time.Hour
	// maxPositions bounds the positions kept (the oldest go first).
	maxPositions = 10000
	// reportedRetention: reported incidents whose evidence ended this
	// long (in event time) before the watermark, and that no run emitted
	// for this long (wall clock), are forgotten.
	reportedRetention = 7 * 24 * time.Hour
	// maxReported bounds the reported incidents kept.
	maxReported = 1 << 20
)

// stateRun is one analyze run's use of a state directory.
type stateRun struct {
	o      *AnalyzeOptions
	dir    *state.Dir
	old    *state.Snapshot // as loaded (nil: none)
	ids    []source.FileID // per pipeline input (zero: not identified)
	paths  []string
	kept   []state.Position // positions of inputs not read again (unchanged)
	final  *pipeline.Checkpoint
	alerts func() []event.Alert // findings emitted so far in this run
	now    time.Time
}

// openState opens the state directory, loads its snapshot and points the
// pipeline's inputs at their positions. It drops inputs that were read to
// their end and have not changed since.
func (o *AnalyzeOptions) openState(cfg *pipeline.Config, archived bool, alerts func() []event.Alert) (*stateRun, error) {
	dir, err := state.Open(o.State)
	if err != nil {
		return nil, err
	}
	sr := &stateRun{o: o, dir: dir, alerts: alerts, now: time.Now()}
	if o.FreshState {
		if err := dir.Fresh(); err != nil {
			dir.Close()
			return nil, err
		}
	}
	if sr.old, err = dir.Load(); err != nil {
		dir.Close()
		return nil, err
	}
	var prev []state.Position
	if sr.old != nil {
		prev = sr.old.Inputs
	}
	used := make([]bool, len(prev))
	var inputs []source.Input
	var starts []pipeline.Mark
	for _, in := range cfg.Inputs {
		if in.Path == "" { // stdin: no position
			inputs = append(inputs, in)
			starts = append(starts, pipeline.Mark{})
			sr.ids, sr.paths = append(sr.ids, source.FileID{}), append(sr.paths, "")
			continue
		}
		id, head, err := source.Identify(in.Path)
		if err != nil { // the pipeline reports it
			inputs = append(inputs, in)
			starts = append(starts, pipeline.Mark{})
			sr.ids, sr.paths = append(sr.ids, source.FileID{}), append(sr.paths, "")
			continue
		}
		var start pipeline.Mark
		if i := matchPosition(prev, used, id, head); i >= 0 {
			used[i] = true
			p := prev[i]
			if p.Done && id.Size == p.ID.Size && (id.SameFile(p.ID) || id.Compressed) {
				// Read to its end and unchanged (or a compressed file,
				// complete, read before): nothing to read.
				p.Path, p.Seen = in.Path, sr.now.UTC()
				sr.kept = append(sr.kept, p)
				continue
			}
			start = pipeline.Mark{Offset: p.Offset, Line: p.Lines, Events: p.Events}
		}
		inputs = append(inputs, in)
		starts = append(starts, start)
		sr.ids, sr.paths = append(sr.ids, id), append(sr.paths, in.Path)
	}
	cfg.Inputs = inputs
	every := o.CheckpointEvery
	if archived {
		every = 0
	}
	cfg.Resume = &pipeline.Resume{Start: starts, Every: every, Checkpoint: sr.checkpoint}
	if sr.old != nil {
		cfg.Resume.Detect = sr.old.Detect
	}
	return sr, nil
}

// matchPosition finds the position of the file whose content starts like
// head: the same file (device and inode) first, else the same content
// elsewhere (renamed, or a compressed copy). A position whose offset lies
// beyond a plain file's size is not the file's (it was truncated and
// rewritten with the same first bytes).
func matchPosition(prev []state.Position, used []bool, id source.FileID, head []byte) int {
	best := -1
	for i, p := range prev {
		if used[i] || !p.ID.SameContent(head) || p.ID.Compressed != id.Compressed {
			continue
		}
		if !id.Compressed && p.Offset > id.Size {
			continue
		}
		if id.SameFile(p.ID) {
			return i
		}
		if best < 0 {
			best = i
		}
	}
	return best
}

// checkpoint saves a consistent state while reading; the final one is
// kept for commit (after the report).
func (sr *stateRun) checkpoint(cp pipeline.Checkpoint) error {
	if cp.Final {
		sr.final = &cp
		return nil
	}
	s := sr.snapshot(cp)
	pending := sr.oldPending()
	for _, a := range sr.alerts() {
		b, err := state.EncodeFinding(&a)
		if err != nil {
			return err
		}
		pending = append(pending, b)
	}
	s.Pending = pending
	if sr.old != nil {
		s.Reported = sr.old.Reported
	}
	return sr.dir.Save(s)
}

func (sr *stateRun) oldPending() [][]byte {
	if sr.old == nil {
		return nil
	}
	return append([][]byte(nil), sr.old.Pending...)
}

// snapshot builds the state of a checkpoint: the detectors' and the
// positions, the inputs not read in this run keeping theirs.
func (sr *stateRun) snapshot(cp pipeline.Checkpoint) *state.Snapshot {
	s := &state.Snapshot{Version: sr.o.Version, Detect: cp.Detect}
	if sr.old != nil {
		s.Saves = sr.old.Saves
	}
	now := sr.now.UTC()
	var fresh []state.Position
	for i, m := range cp.Inputs {
		if i >= len(sr.ids) || sr.paths[i] == "" || (!m.Read && m.Offset == 0 && m.Events == 0) {
			continue
		}
		fresh = append(fresh, state.Position{Path: sr.paths[i], ID: sr.ids[i], Offset: m.Offset, Lines: m.Line,
			Events: m.Events, Done: m.Done, Seen: now})
	}
	fresh = append(fresh, sr.kept...)
	s.Inputs = fresh
	if sr.old != nil {
		for _, p := range sr.old.Inputs {
			if now.Sub(p.Seen) > positionRetention || replaced(fresh, p) {
				continue
			}
			s.Inputs = append(s.Inputs, p)
		}
	}
	if len(s.Inputs) > maxPositions {
		sort.SliceStable(s.Inputs, func(i, j int) bool { return s.Inputs[i].Seen.After(s.Inputs[j].Seen) })
		s.Inputs = s.Inputs[:maxPositions]
	}
	return s
}

// replaced reports whether p is the older position of a file in fresh.
func replaced(fresh []state.Position, p state.Position) bool {
	for _, f := range fresh {
		if f.ID.Fingerprint == p.ID.Fingerprint && f.ID.FPLen == p.ID.FPLen && f.ID.Compressed == p.ID.Compressed ||
			f.ID.SameFile(p.ID) && f.ID.Compressed == p.ID.Compressed {
			return true
		}
	}
	return false
}

// report returns the findings to report: those still pending from an
// earlier run and this run's, less those reported before unchanged. It
// records them as reported (in the state saved by commit).
func (sr *stateRun) report(alerts []event.Alert) ([]event.Alert, []state.Reported, error) {
	var all []event.Alert
	if sr.old != nil {
		for _, b := range sr.old.Pending {
			a, err := state.DecodeFinding(b)
			if err != nil {
				return nil, nil, fmt.Errorf("cannot load state %s: %w", sr.dir.Path(), err)
			}
			all = append(all, a)
		}
	}
	all = append(all, alerts...)
	// One report per incident: a finding reported again in the same run
	// (a campaign's periodic report, then its last one) counts at its
	// latest.
	latest := make(map[uint64]int, len(all))
	for i := range all {
		id := state.IncidentID(&all[i])
		if j, ok := latest[id]; !ok || !all[i].End.Before(all[j].End) {
			latest[id] = i
		}
	}
	kept := all[:0]
	for i := range all {
		if latest[state.IncidentID(&all[i])] == i {
			kept = append(kept, all[i])
		}
	}
	all = kept
	seen := map[uint64]int{}
	var reported []state.Reported
	if sr.old != nil {
		reported = append(reported, sr.old.Reported...)
	}
	for i, r := range reported {
		seen[r.ID] = i
	}
	var out []event.Alert
	for i := range all {
		a := &all[i]
		id := state.IncidentID(a)
		dg, err := state.Digest(a)
		if err != nil {
			return nil, nil, err
		}
		now := sr.now.UTC()
		if j, ok := seen[id]; ok {
			reported[j].Seen = now
			if reported[j].Digest == dg {
				continue // reported before, unchanged
			}
			reported[j].Digest, reported[j].Count, reported[j].End = dg, reported[j].Count+1, a.End.UTC()
		} else {
			seen[id] = len(reported)
			reported = append(reported, state.Reported{ID: id, Digest: dg, Count: 1, End: a.End.UTC(), Seen: now})
		}
		out = append(out, *a)
	}
	return out, reported, nil
}

// commit saves the final state: the detectors' as they were before the
// end-of-input flush (the episodes it reported are still open in it), the
// positions reached, the incidents reported (pruned), nothing pending.
func (sr *stateRun) commit(reported []state.Reported) error {
	if sr.final == nil {
		return errors.New("BUG: no final checkpoint")
	}
	s := sr.snapshot(*sr.final)
	var wm time.Time
	if s.Detect != nil {
		wm = s.Detect.Watermark
	}
	kept := reported[:0]
	for _, r := range reported {
		if !wm.IsZero() && wm.Sub(r.End) > reportedRetention && sr.now.Sub(r.Seen) > reportedRetention {
			continue
		}
		kept = append(kept, r)
	}
	if len(kept) > maxReported {
		sort.SliceStable(kept, func(i, j int) bool { return kept[i].End.After(kept[j].End) })
		kept = kept[:maxReported]
	}
	s.Reported = kept
	return sr.dir.Save(s)
}

func (sr *stateRun) close() { sr.dir.Close() }

// stateNote says on w what the state held when the run began.
func (sr *stateRun) note(w io.Writer, quiet bool) {
	if quiet || sr.old == nil {
		return
	}
	fmt.Fprintf(w, "winnow: state %s: resumed (saved %s, %d inputs, %d incidents reported before)\n",
		sr.dir.Path(), sr.old.Written.Local().Format(time.DateTime), len(sr.old.Inputs), len(sr.old.Reported))
}

// collectAlerts returns an emit that keeps findings and a function that
// copies those kept so far (both safe for concurrent use).
func collectAlerts(enrich func(*event.Alert)) (emit func(event.Alert), all func() []event.Alert, take func() []event.Alert) {
	var mu sync.Mutex
	var alerts []event.Alert
	emit = func(a event.Alert) {
		if enrich != nil {
			enrich(&a)
		}
		mu.Lock()
		alerts = append(alerts, a)
		mu.Unlock()
	}
	all = func() []event.Alert {
		mu.Lock()
		defer mu.Unlock()
		return append([]event.Alert(nil), alerts...)
	}
	take = func() []event.Alert {
		mu.Lock()
		defer mu.Unlock()
		return alerts
	}
	return emit, all, take
}

// stateError makes a state problem a usage error that names the way out.
func stateError(err error) error {
	if errors.Is(err, state.ErrBusy) || state.IsFormatError(err) || errors.Is(err, os.ErrPermission) {
		return UsageError{err}
	}
	return err
}

// stateAdvice adds the way out to an error restoring the detectors'
// state (written by a winnow whose state differs, or damaged).
func stateAdvice(err error) error {
	if errors.Is(err, codec.ErrLayout) || errors.Is(err, codec.ErrCorrupt) {
		return UsageError{fmt.Errorf("%w (run with --fresh-state to set the state aside and start over: learned baselines and positions are then lost)", err)}
	}
	return err
}
