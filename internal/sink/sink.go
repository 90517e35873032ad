// Package sink is the output seam of the pipeline: findings stream into a
// Sink as they are emitted (not collected until the end of input), and a
// Fanout delivers each one to several sinks at once.
//
// The package knows only event. Implementations live beside what they
// reuse: JSON Lines in sink/jsonl (the ECS encoder of internal/alert), the
// webhook in sink/webhook, syslog and CEF in sink/syslogout, the terminal
// report in internal/report. A decisions stream (blocking) is one more Sink
// that receives the same findings.
//
// # Contract of a Sink
//
//   - Lifecycle: a Sink is created ready (its constructor dials or opens
//     what it needs, or does so lazily), receives any number of Write
//     calls, Flush calls at any time, and exactly one Close. Write after
//     Close returns an error wrapping ErrClosed; a second Close returns
//     nil.
//   - Goroutines: Write, Flush and Close are never called concurrently on
//     one Sink; the caller serialises them (Fanout does). A Sink may run
//     goroutines of its own (a webhook's sender) and must stop them in
//     Close.
//   - Ownership: the Finding is borrowed for the Write call. A Sink that
//     keeps it past the call (a queue) copies the struct; the maps and
//     slices inside the Alert are shared with the other sinks and are
//     read-only for everyone.
//   - Timeliness: Write delivers the finding (or queues it for delivery)
//     before it returns; a Sink never holds findings back for the end of
//     input. Flush(ctx) returns once everything written so far has been
//     handed to the destination (written to the file, POSTed, sent), or
//     ctx is done. Close(ctx) flushes, then releases the sink's resources.
//   - Errors: Write returns an error only for a finding that was not and
//     will not be delivered because the destination failed (a write error
//     on a file, a dead connection that could not be re-established). A
//     sink with a bounded queue (webhook) does not fail Write when the
//     queue is full: it drops the finding and counts it (see Stats). Errors
//     say "cannot <verb> <noun>: %w" and name the sink. A failing sink does
//     not stop the others in a Fanout.
//   - Updates: a live run reports an incident when its evidence is
//     complete and again while it grows. Every report of one incident
//     carries the same Finding.Incident; Open is true while the episode
//     is still open (a later report supersedes this one) and false on the
//     last report. Sinks that show a final picture (the terminal report)
//     keep the latest report per incident; streams (JSON Lines, webhook,
//     syslog) send every report.
package sink

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"winnow/internal/event"
)

// ErrClosed is wrapped by Write's error after Close.
var ErrClosed = errors.New("sink is closed")

// Finding is one report of a finding on its way out.
type Finding struct {
	Alert event.Alert
	// Incident identifies the incident (rule, entity and episode start);
	// every report of one incident carries the same value. Empty when the
	// producer does not track incidents.
	Incident string
	// Update counts the earlier reports of this incident: 0 is the first.
	Update int
	// Open is true while the incident's episode is still open: a later
	// report with the same Incident supersedes this one.
	Open bool
	// Risk is the entity's combined risk (0–1) when the finding is
	// reported, and Rank its rank among the entities (1 = most urgent); 0
	// when not known (a live stream does not rank).
	Risk float64
	Rank int
}

// Sink receives findings as they are emitted. See the package doc for the
// contract.
type Sink interface {
	// Name identifies the sink in errors and metrics ("jsonl:/var/log/winnow.jsonl").
	Name() string
	Write(f *Finding) error
	Flush(ctx context.Context) error
	Close(ctx context.Context) error
}

// Stats are a sink's counters, for metrics.
type Stats struct {
	Written int64 // findings delivered
	Dropped int64 // findings dropped (queue full, retries exhausted)
	Errors  int64 // failed deliveries (each retry counts)
	Queued  int   // findings waiting for delivery now
}

// Stater is a Sink that reports counters (optional capability). Stats may
// be called from any goroutine at any time, also after Close.
type Stater interface {
	Stats() Stats
}

// Counters are the atomic counters behind Stats, for implementations.
type Counters struct {
	written, dropped, errors, queued atomic.Int64
}

// Wrote counts a delivered finding.
func (c *Counters) Wrote() { c.written.Add(1) }

// Drop counts a dropped finding.
func (c *Counters) Drop() { c.dropped.Add(1) }

// Fail counts a failed delivery attempt.
func (c *Counters) Fail() { c.errors.Add(1) }

// Queue adds d to the queue depth.
func (c *Counters) Queue(d int) { c.queued.Add(int64(d)) }

// Stats returns a snapshot.
func (c *Counters) Stats() Stats {
	return Stats{Written: c.written.Load(), Dropped: c.dropped.Load(), Errors: c.errors.Load(), Queued: int(c.queued.Load())}
}

// Fanout delivers each finding to every sink in order. It is itself a
// Sink, and unlike a plain Sink it is safe for concurrent use: it
// serialises the calls it forwards, so detector shards may Write to it
// from their own goroutines.
type Fanout struct {
	mu     sync.Mutex
	sinks  []Sink
	errs   []int64 // failed Writes per sink
	closed bool
}

var _ Sink = (*Fanout)(nil)

// NewFanout returns a Fanout over sinks (which it owns: Close closes them).
func NewFanout(sinks ...Sink) *Fanout {
	return &Fanout{sinks: sinks, errs: make([]int64, len(sinks))}
}

// Name lists the sinks.
func (f *Fanout) Name() string {
	s := "fanout("
	for i, k := range f.sinks {
		if i > 0 {
			s += ","
		}
		s += k.Name()
	}
	return s + ")"
}

// Sinks returns the sinks (not to be called concurrently with Close).
func (f *Fanout) Sinks() []Sink { return f.sinks }

// Write delivers fd to every sink. One sink's failure does not keep the
// finding from the others; the errors are joined.
func (f *Fanout) Write(fd *Finding) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fmt.Errorf("cannot write finding: %w", ErrClosed)
	}
	var errs []error
	for i, s := range f.sinks {
		if err := s.Write(fd); err != nil {
			f.errs[i]++
			errs = append(errs, fmt.Errorf("cannot write finding to %s: %w", s.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// WriteErrors returns the failed Writes per sink, in the order of Sinks.
func (f *Fanout) WriteErrors() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int64(nil), f.errs...)
}

// Flush flushes every sink.
func (f *Fanout) Flush(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	var errs []error
	for _, s := range f.sinks {
		if err := s.Flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cannot flush %s: %w", s.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Close closes every sink (each is flushed first by its own Close).
func (f *Fanout) Close(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	var errs []error
	for _, s := range f.sinks {
		if err := s.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cannot close %s: %w", s.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Func adapts a function to a Sink (tests, small consumers). Flush and
// Close do nothing but mark it closed.
type Func struct {
	ID     string
	F      func(f *Finding) error
	closed bool
}

var _ Sink = (*Func)(nil)

// Name returns ID.
func (s *Func) Name() string { return s.ID }

// Write calls F.
func (s *Func) Write(f *Finding) error {
	if s.closed {
		return fmt.Errorf("cannot write finding to %s: %w", s.ID, ErrClosed)
	}
	return s.F(f)
}

// Flush does nothing.
func (s *Func) Flush(context.Context) error { return nil }

// Close marks the sink closed.
func (s *Func) Close(context.Context) error { s.closed = true; return nil }
