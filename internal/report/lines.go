package report

import (
	"context"
	"fmt"
	"io"
	"strings"

	"winnow/internal/event"
	"winnow/internal/sink"
	"winnow/internal/textsafe"
)

// Lines is the terminal sink of a live run (analyze --follow): one line per
// finding report, written as it happens —
//
//	2026-11-22T10:11:48Z  high      auth.brute_force  ip 203.0.113.7  open #9b5dc623189f7789  203.0.113.7 made 20 …
//
// The state column says "open" for the first report of an incident whose
// episode goes on, "update N" for later ones, "closed" for the last, then
// "#" and the incident id that ties the reports together.
// Attacker-controlled text (entity values, descriptions) is escaped for
// terminals.
type Lines struct {
	w      io.Writer
	p      painter
	min    int
	closed bool
}

var _ sink.Sink = (*Lines)(nil)

// NewLines writes to w; color paints severities; findings below
// minSeverity are left out.
func NewLines(w io.Writer, color bool, minSeverity int) *Lines {
	return &Lines{w: w, p: painter{on: color}, min: minSeverity}
}

// Name returns "lines".
func (s *Lines) Name() string { return "lines" }

// Write prints the report.
func (s *Lines) Write(f *sink.Finding) error {
	if s.closed {
		return fmt.Errorf("cannot write finding to terminal: %w", sink.ErrClosed)
	}
	a := &f.Alert
	if a.Severity < s.min {
		return nil
	}
	st := "closed"
	switch {
	case f.Update > 0 && f.Open:
		st = fmt.Sprintf("update %d", f.Update)
	case f.Open:
		st = "open"
	case f.Update == 0:
		st = "done"
	}
	if f.Incident != "" {
		st += " #" + f.Incident
	}
	sev := fmt.Sprintf("%-8s", event.SeverityName(a.Severity))
	line := fmt.Sprintf("%s  %s  %s  %s %s  %s  %s\n", a.End.UTC().Format("2006-01-02T15:04:05Z"),
		s.p.c(sevColor(a.Severity), sev), a.Rule, a.Entity.Type, textsafe.Terminal(a.Entity.Value), st,
		textsafe.Terminal(strings.TrimSpace(a.Description)))
	if _, err := io.WriteString(s.w, line); err != nil {
		return fmt.Errorf("cannot write finding to terminal: %w", err)
	}
	return nil
}

// Flush does nothing: every Write is written through.
func (s *Lines) Flush(context.Context) error { return nil }

// Close marks the sink closed.
func (s *Lines) Close(context.Context) error { s.closed = true; return nil }
