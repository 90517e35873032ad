// Package jsonl is the JSON Lines sink: one ECS document per finding
// report (internal/alert's encoder), written to a file or any io.Writer as
// soon as the finding is emitted.
package jsonl

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"winnow/internal/alert"
	"winnow/internal/sink"
)

// Sink writes one JSON document per line.
type Sink struct {
	name   string
	w      *bufio.Writer
	enc    *json.Encoder
	file   *os.File // nil when writing to a caller's io.Writer
	sync   bool
	min    int
	closed bool
	cnt    sink.Counters
}

var (
	_ sink.Sink   = (*Sink)(nil)
	_ sink.Stater = (*Sink)(nil)
)

// Options configure a Sink.
type Options struct {
	// MinSeverity leaves out findings below it (0 = all).
	MinSeverity int
	// Sync makes Flush fsync the file (a file sink only).
	Sync bool
}

// New writes to w, which the caller keeps owning (Close does not close it).
func New(name string, w io.Writer, o Options) *Sink {
	s := &Sink{name: name, w: bufio.NewWriterSize(w, 64<<10), min: o.MinSeverity}
	s.enc = json.NewEncoder(s.w)
	s.enc.SetEscapeHTML(false)
	return s
}

// Open appends to the file at path, creating it (mode 0640) if needed.
func Open(path string, o Options) (*Sink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("cannot open JSON sink: %w", err)
	}
	s := New("jsonl:"+path, f, o)
	s.file, s.sync = f, o.Sync
	return s, nil
}

// Name returns "jsonl:<path>" or the name given to New.
func (s *Sink) Name() string { return s.name }

// Doc maps a finding report to its ECS document.
func Doc(f *sink.Finding) alert.Doc {
	d := alert.FindingDoc(&f.Alert, f.Incident, f.Rank)
	d.Winnow.Incident.Risk = f.Risk
	d.Winnow.Incident.Update, d.Winnow.Incident.Open = f.Update, f.Open
	return d
}

// Write encodes the finding and writes the line through to the file.
func (s *Sink) Write(f *sink.Finding) error {
	if s.closed {
		return fmt.Errorf("cannot write finding to %s: %w", s.name, sink.ErrClosed)
	}
	if f.Alert.Severity < s.min {
		return nil
	}
	if err := s.enc.Encode(Doc(f)); err != nil {
		s.cnt.Fail()
		return fmt.Errorf("cannot write finding to %s: %w", s.name, err)
	}
	if err := s.w.Flush(); err != nil {
		s.cnt.Fail()
		return fmt.Errorf("cannot write finding to %s: %w", s.name, err)
	}
	s.cnt.Wrote()
	return nil
}

// Flush writes buffered bytes and, with Options.Sync, fsyncs the file.
func (s *Sink) Flush(context.Context) error {
	if s.closed {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("cannot flush %s: %w", s.name, err)
	}
	if s.file != nil && s.sync {
		if err := s.file.Sync(); err != nil {
			return fmt.Errorf("cannot sync %s: %w", s.name, err)
		}
	}
	return nil
}

// Close flushes and closes the file it opened.
func (s *Sink) Close(ctx context.Context) error {
	if s.closed {
		return nil
	}
	err := s.Flush(ctx)
	s.closed = true
	if s.file != nil {
		if cerr := s.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("cannot close %s: %w", s.name, cerr)
		}
	}
	return err
}

// Stats returns the counters.
func (s *Sink) Stats() sink.Stats { return s.cnt.Stats() }
