package source

import (
	"context"
	"errors"
)

// This file is the input seam of the pipeline. Expand, Open and Reader
// (above) read files and stdin to the end; a Source is the general form
// every input takes — files, followed files, the syslog receiver, journald
// and, later, Kafka and NATS — so that one pipeline reads them all.

// Record is one raw record (a log line, a syslog message).
type Record struct {
	// B is the record without its framing (no trailing newline, no
	// octet count). It is immutable and never rewritten by the source, so
	// it may be retained (and aliased by event.Event.Raw) for as long as
	// the consumer likes; it pins the batch's buffer while reachable.
	B []byte
	// N is the record's 1-based number in its input: the line number of a
	// file, a running count for a stream.
	N int64
	// File names where the record came from when a source reads several
	// files (a followed glob): the path, for evidence references. Empty
	// means the source's Name.
	File string
}

// Position is where reading resumes after a batch: enough to restart
// without reading a record twice or skipping one. A source that cannot
// resume (a network stream) leaves it zero.
type Position struct {
	// Source is the Name of the source that made it.
	Source string `json:"source"`
	// Path and ID identify a file: its path when read and its identity
	// (device and inode) so that a rotated file is recognised.
	Path string `json:"path,omitempty"`
	ID   string `json:"id,omitempty"`
	// Offset is the number of bytes of the file consumed through the
	// batch's last record; Line its line number.
	Offset int64 `json:"offset,omitempty"`
	Line   int64 `json:"line,omitempty"`
	// Cursor is an opaque resume token (journald's __CURSOR).
	Cursor string `json:"cursor,omitempty"`
}

// IsZero reports whether p carries no position.
func (p Position) IsZero() bool { return p == Position{Source: p.Source} }

// Batch is a run of consecutive records of one input and the position
// after the last of them.
type Batch struct {
	Records []Record
	Pos     Position
}

// ErrSourceClosed is wrapped by Next's error after Close.
var ErrSourceClosed = errors.New("source is closed")

// Source yields raw records.
//
// Contract:
//   - Lifecycle: a constructor returns a Source ready to read (files open
//     lazily or at once; listeners are bound, so a bad address fails
//     there). Next is called repeatedly; Close once ends it, releases its
//     files and sockets and stops its goroutines. Next after Close returns
//     an error wrapping ErrSourceClosed; a second Close returns nil.
//   - Goroutines: Next belongs to one goroutine (the consumer). Close may be
//     called from another goroutine while Next blocks: Next then returns
//     promptly. Optional capabilities say their own rules.
//   - Next blocks until at least one record is ready and returns it as a
//     Batch (never empty unless the error is non-nil), or until ctx is done
//     (it returns ctx.Err()), or the source is exhausted: a finite source
//     (a file, stdin) returns io.EOF after its last record; a live source
//     (a followed file, a listener) never does. Once Next returned an error
//     other than ctx's, every later call returns it too.
//   - Bytes: each Batch's memory is allocated for it and never reused or
//     rewritten, so records may be retained (see Record.B). A record longer
//     than the source's line limit is cut to it and counted; bad bytes
//     never stop a source.
//   - Positions: Batch.Pos is the position after the batch. The consumer
//     stores it only once everything derived from the batch is durable
//     (detector state snapshotted, events archived, findings flushed), and
//     hands the stored positions to Resumer.Resume on the next start. So a
//     crash re-reads at most what was not yet durable, and nothing twice
//     into durable state.
//   - Errors: a source that cannot go on (a read error, a corrupt gzip
//     stream) returns an error naming the input, after every complete
//     record read before the failure. Transient trouble of a live source
//     (a dropped TCP peer, a rotated file that vanished) is not an error:
//     it is counted (Stater) and reading goes on.
type Source interface {
	// Name identifies the input in reports, positions and metrics.
	Name() string
	Next(ctx context.Context) (Batch, error)
	Close() error
}

// Resumer is a Source that can start from saved positions (optional).
// Resume is called before the first Next with the positions the source
// returned in earlier runs (those with its Name); positions of files that
// are gone or were replaced are ignored.
type Resumer interface {
	Resume(ps []Position) error
}

// Committer is a Source with upstream acknowledgement (optional): Commit
// says everything up to and including the batch that returned p is durable
// (Kafka offsets, NATS acks, journald cursors kept upstream). It may be
// called from any goroutine.
type Committer interface {
	Commit(p Position) error
}

// Live is implemented by sources that never end (optional): their
// consumer advances event time by the wall clock while they are idle.
type Live interface {
	Live() bool
}

// SourceStats are a source's counters (see Stater).
type SourceStats struct {
	Records   int64 // records delivered
	Bytes     int64 // bytes of records delivered
	Truncated int64 // records cut at the line limit
	Dropped   int64 // records lost before delivery (UDP queue full)
	Malformed int64 // frames the source could not split (bad octet count)
	Conns     int64 // open connections now (network sources)
	Rejected  int64 // connections refused (limit reached) or closed idle
	Files     int64 // files followed now
	Rotations int64 // rotations and truncations handled
}

// Stater is a Source that reports counters (optional). Stats may be called
// from any goroutine.
type Stater interface {
	Stats() SourceStats
}

// IsLive reports whether s is a live source.
func IsLive(s Source) bool {
	l, ok := s.(Live)
	return ok && l.Live()
}
