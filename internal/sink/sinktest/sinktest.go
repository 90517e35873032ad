// Package sinktest is the conformance suite every sink.Sink runs: order and
// timeliness of delivery, ownership of the Finding, Flush and Close
// semantics, ErrClosed, and the Stater counters.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/sink"
)

// Factory makes a fresh sink for one subtest and a function that returns,
// after a Flush, the Incident of every finding the destination received, in
// order (each finding the suite writes has a distinct Incident).
type Factory func(t *testing.T) (s sink.Sink, delivered func() []string)

// Finding returns a realistic finding with the given incident id.
func Finding(id string) *sink.Finding {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return &sink.Finding{
		Alert: event.Alert{
			Rule:        "auth.brute_force",
			Description: "made 42 failed logins for 3 accounts \"root\" ] \\ | = \n forged line",
			Entity:      event.Entity{Type: event.EntityIP, Value: "203.0.113.7"},
			Start:       t0, End: t0.Add(3 * time.Minute),
			Severity: event.SeverityHigh, Score: 0.9,
			Techniques: []string{"T1110.001"},
			SourceIP:   netip.MustParseAddr("203.0.113.7"),
			User:       "root",
			Evidence:   map[string]any{"failures": 42},
			Samples:    []event.Sample{{File: "auth.log", Line: 7, Text: "Failed password for root"}},
		},
		Incident: id,
		Update:   1,
		Open:     true,
	}
}

// Run runs the suite.
func Run(t *testing.T, newSink Factory) {
	ctx := context.Background()
	t.Run("delivers in order", func(t *testing.T) {
		s, got := newSink(t)
		var want []string
		for i := range 5 {
			id := fmt.Sprintf("inc-%d", i)
			want = append(want, id)
			if err := s.Write(Finding(id)); err != nil {
				t.Fatalf("Write: %v", err)
			}
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if g := got(); !equal(g, want) {
			t.Fatalf("delivered %v, want %v", g, want)
		}
		if st, ok := s.(sink.Stater); ok {
			if n := st.Stats().Written; n != 5 {
				t.Errorf("Stats().Written = %d, want 5", n)
			}
		}
		if err := s.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
	t.Run("finding is borrowed", func(t *testing.T) {
		s, got := newSink(t)
		f := Finding("first")
		if err := s.Write(f); err != nil {
			t.Fatalf("Write: %v", err)
		}
		f.Incident = "overwritten" // the caller reuses its struct
		if err := s.Write(Finding("second")); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if g := got(); !equal(g, []string{"first", "second"}) {
			t.Fatalf("delivered %v, want [first second]", g)
		}
	})
	t.Run("close", func(t *testing.T) {
		s, got := newSink(t)
		if err := s.Write(Finding("before")); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if g := got(); !equal(g, []string{"before"}) {
			t.Fatalf("Close did not flush: delivered %v", g)
		}
		if err := s.Write(Finding("after")); !errors.Is(err, sink.ErrClosed) {
			t.Fatalf("Write after Close = %v, want ErrClosed", err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatalf("second Close = %v, want nil", err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush after Close = %v, want nil", err)
		}
	})
	t.Run("empty", func(t *testing.T) {
		s, got := newSink(t)
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if g := got(); len(g) != 0 {
			t.Fatalf("delivered %v from nothing", g)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
