// Package parse defines the Parser contract and per-input format detection.
// Formats live in subpackages (parse/syslog, parse/authlog, ...) and are
// listed in a Formats value built by the caller; nothing here is global.
package parse

import (
	"errors"
	"fmt"
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
		if s := fm.Sniff(lines); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best < 0 || bestScore < MinSniffScore {
		return Format{}, fmt.Errorf("%w (best score %.2f; try --input-format, one of %v)", ErrUnknownFormat, bestScore, f.Names())
	}
	return f.list[best], nil
}
