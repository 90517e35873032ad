// Package parse defines the Parser contract and per-input format detection.
// Formats live in subpackages (parse/syslog, parse/authlog, ...) and are
// listed in a Formats value built by the caller; nothing here is global.
package parse

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"winnow/internal/event"
)

// ErrMalformed is wrapped by Parse errors for lines that are not in the
// parser's format. The caller counts, samples and skips such lines.
var ErrMalformed = errors.New("malformed line")

// ErrSkip is wrapped by Parse errors for lines that are not records at all
// (journalctl's "-- Boot …" markers, blank lines): the caller skips them
// without counting them as malformed.
var ErrSkip = errors.New("not a record")

// Parser turns one line into one event.
//
// Contract:
//   - A Parser instance belongs to one input (it may keep state such as the
//     year of RFC 3164 timestamps across lines) and one goroutine.
//   - line is the whole record without its terminator. It is immutable and
//     outlives the call (the reader never rewrites its buffers), so Parse
//     may set ev.Raw and ev.Msg to sub-slices of it and may alias strings
//     into it only via an Interner, never via unsafe conversions.
//   - Parse overwrites every field of ev except Ref, which the caller sets.
//   - For "message repeated N times" Parse sets ev.Count = N; the caller
//     expands the event into N events. Otherwise ev.Count = 1.
//   - A line that is not in the format returns an error wrapping
//     ErrMalformed; ev is then undefined.
type Parser interface {
	Parse(line []byte, ev *event.Event) error
}

// Options configure parsers for one input.
type Options struct {
	// Year for timestamps that carry none (RFC 3164). Zero means infer it
	// from ModTime: the input's last line is assumed no later than ModTime,
	// so months after ModTime's month belong to the previous year; a month
	// that goes backwards between lines (December → January) advances it.
	Year int
	// ModTime of the input (zero for stdin: then the current year is used).
	ModTime time.Time
	// Location for timestamps without a zone. Nil means time.Local.
	Location *time.Location
	// Now is the wall clock used only when neither Year nor ModTime is
	// known; tests set it. Zero means time.Now().
	Now time.Time
}

// Format is a named input format with a sniffer and a parser factory.
type Format struct {
	Name    string // e.g. "syslog"; what --input-format accepts
	Summary string
	// Sniff scores how well sample lines (the input's first non-empty
	// lines) fit the format, 0 (not at all) to 1 (every line parses).
	Sniff func(lines [][]byte) float64
	New   func(o Options) Parser

	// Binary formats (packet captures) set Magic and Decode instead of
	// Sniff and New. The pipeline offers every input's first bytes (up to
	// MagicLen, after gzip decompression) to each binary format's Magic
	// before it looks at the input as text, and decodes a match from the
	// raw byte stream. A binary format with Sniff == nil is never picked by
	// Detect.
	Magic  func(head []byte) bool
	Decode Decoder
}

// MagicLen is how many leading bytes Magic is offered (fewer for a
// shorter input).
const MagicLen = 64

// Binary reports whether the format decodes a byte stream (Decode) rather
// than lines.
func (fm *Format) Binary() bool { return fm.Decode != nil }

// Decoder reads a whole binary input and calls emit for each event.
//
// Contract:
//   - name is the input's name as the user gave it; events' Ref.File is set
//     to it and Ref.Line to the record number (1-based packet number for
//     captures), so samples read "capture.pcap:1234".
//   - Events are emitted in event-time order (the decoder reorders what
//     its records allow, e.g. a query is emitted when its response or its
//     timeout is seen); small residual disorder is absorbed by the
//     detectors' lateness.
//   - emit copies *ev before returning, so the decoder may reuse ev; every
//     string and per-kind part (ev.DNS) must be fresh per event and is
//     retained by the consumer.
//   - A record that cannot be decoded is counted in DecodeStats and
//     skipped; it never stops the decoder. Decode returns an error only for
//     an input it cannot read at all (bad header) or that fails midway
//     (read error, truncation), after emitting every event before the
//     failure; an error returned by emit (cancellation) is returned as is.
type Decoder func(r io.Reader, name string, o Options, emit func(ev *event.Event) error) (DecodeStats, error)

// DecodeStats describes what a Decoder did with an input.
type DecodeStats struct {
	Records int64 // records read (packets; lines when Lines is set)
	// Lines says the records are text lines (a line format decoded as a
	// stream, such as audit logs grouped per event), not packets.
	Lines     bool
	Events    int64 // events emitted
	Malformed int64 // records that could not be decoded, truncated ones included
	Skipped   int64 // records that are not the format's business (non-DNS packets)
	// Samples are a few malformed records: Line is the record number and
	// Text says what was wrong.
	Samples []event.Sample
	// Detail holds decoder-specific counters by snake_case name
	// (fragments, tcp_gaps, unanswered, ...).
	Detail map[string]int64
}

// Formats is a set of formats for detection and --input-format lookup.
type Formats struct {
	list []Format
}

// Add appends a format. Earlier formats win ties in Detect.
func (f *Formats) Add(fm Format) { f.list = append(f.list, fm) }

// Get returns the format named name.
func (f *Formats) Get(name string) (Format, bool) {
	for _, fm := range f.list {
		if fm.Name == name {
			return fm, true
		}
	}
	return Format{}, false
}

// Names lists the format names, sorted.
func (f *Formats) Names() []string {
	out := make([]string, 0, len(f.list))
	for _, fm := range f.list {
		out = append(out, fm.Name)
	}
	sort.Strings(out)
	return out
}

// MinSniffScore is the lowest score Detect accepts.
const MinSniffScore = 0.5

// ErrUnknownFormat is returned by Detect when no format fits the sample.
var ErrUnknownFormat = errors.New("unknown input format")

// Detect picks the best-scoring format for sample lines.
func (f *Formats) Detect(lines [][]byte) (Format, error) {
	best, bestScore := -1, 0.0
	for i, fm := range f.list {
		if fm.Sniff == nil {
			continue
		}
		if s := fm.Sniff(lines); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best < 0 || bestScore < MinSniffScore {
		return Format{}, fmt.Errorf("%w (best score %.2f; try --input-format, one of %v)", ErrUnknownFormat, bestScore, f.Names())
	}
	return f.list[best], nil
}

// DetectBinary returns the first binary format whose Magic matches head
// (an input's first bytes, at most MagicLen).
func (f *Formats) DetectBinary(head []byte) (Format, bool) {
	for _, fm := range f.list {
		if fm.Magic != nil && fm.Decode != nil && fm.Magic(head) {
			return fm, true
		}
	}
	return Format{}, false
}

// HasBinary reports whether any format decodes binary input.
func (f *Formats) HasBinary() bool {
	for _, fm := range f.list {
		if fm.Decode != nil {
			return true
		}
	}
	return false
}
