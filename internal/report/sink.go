package report

import (
	"context"
	"fmt"
	"io"

	"winnow/internal/correlate"
	"winnow/internal/event"
	"winnow/internal/sink"
)

// Sink is the terminal report as a sink.Sink: it keeps the latest report
// of every incident and, at Close, correlates them and writes the ranked
// report (Text). It is a final picture, so nothing is written before
// Close; Flush does nothing.
type Sink struct {
	w      io.Writer
	o      TextOptions
	latest map[string]int // incident → index in alerts
	alerts []event.Alert
	closed bool
}

var _ sink.Sink = (*Sink)(nil)

// NewSink writes the report to w at Close.
func NewSink(w io.Writer, o TextOptions) *Sink {
	return &Sink{w: w, o: o, latest: map[string]int{}}
}

// Name returns "text".
func (s *Sink) Name() string { return "text" }

// Write keeps the finding, replacing an earlier report of its incident.
func (s *Sink) Write(f *sink.Finding) error {
	if s.closed {
		return fmt.Errorf("cannot write finding to text report: %w", sink.ErrClosed)
	}
	if f.Incident != "" {
		if i, ok := s.latest[f.Incident]; ok {
			s.alerts[i] = f.Alert
			return nil
		}
		s.latest[f.Incident] = len(s.alerts)
	}
	s.alerts = append(s.alerts, f.Alert)
	return nil
}

// Flush does nothing: the report is written at Close.
func (s *Sink) Flush(context.Context) error { return nil }

// Close writes the report.
func (s *Sink) Close(context.Context) error {
	if s.closed {
		return nil
	}
	s.closed = true
	if err := Text(s.w, correlate.Build(s.alerts, correlate.Config{}).Snapshot(), s.o); err != nil {
		return fmt.Errorf("cannot write text report: %w", err)
	}
	return nil
}
