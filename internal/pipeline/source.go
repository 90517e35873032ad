package pipeline

import (
	"context"

	"winnow/internal/event"
)

// EventSource is an input that yields typed events rather than lines (the
// archive, for replay).
//
// Contract: Read calls emit with batches in event-time order (small
// disorder is absorbed like a file's) from one goroutine; the batch is
// borrowed for the call. Read returns when the source is exhausted, emit
// returned an error (which Read returns), or ctx is done. Stats is called
// after Read returned.
type EventSource interface {
	Name() string
	Read(ctx context.Context, emit func([]event.Event) error) error
	// Stats returns what the source wants reported: its format name, the
	// records it read, and problems (skipped parts) as samples and Err.
	Stats() InputStats
}

// readSource runs src into the stream st and returns its statistics.
func readSource(ctx context.Context, src EventSource, st *stream) InputStats {
	defer close(st.out)
	err := src.Read(ctx, func(evs []event.Event) error {
		for len(evs) > 0 {
			b := st.get()
			n := min(len(evs), cap(b))
			b = append(b, evs[:n]...)
			evs = evs[n:]
			if !send(ctx, st.out, b) {
				return ctx.Err()
			}
		}
		return nil
	})
	s := src.Stats()
	if s.Name == "" {
		s.Name = src.Name()
	}
	if err != nil && s.Err == nil && ctx.Err() == nil {
		s.Err = err
	}
	return s
}
