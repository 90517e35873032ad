// Package sourcetest is the conformance suite every source.Source runs:
// records arrive whole, in order, exactly once; their bytes stay valid and
// unchanged after later Next calls; positions name the source; Next honours
// its context and Close; a finite source ends with io.EOF.
package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"winnow/internal/source"
)

// Harness is one source under test.
type Harness struct {
	Source source.Source
	// Feed makes lines arrive at a live source (appends them to the file,
	// sends them to the socket). Nil for a finite source, which the
	// factory created holding the lines already.
	Feed func(t *testing.T, lines []string)
	// Want maps a line given to the record expected from it (a source that
	// re-renders what it reads); nil means the record is the line.
	Want func(line string) string
}

// Factory makes a source for one subtest. A finite source holds lines; a
// live source starts empty and gets them through Feed.
type Factory func(t *testing.T, lines []string) Harness

// Lines returns n distinct non-empty test lines of varied length.
func Lines(n int) []string {
	out := make([]string, n)
	for i := range out {
		pad := make([]byte, (i*37)%300)
		for j := range pad {
			pad[j] = 'a' + byte((i+j)%26)
		}
		out[i] = fmt.Sprintf("<38>Nov 22 10:11:%02d host%d sshd[%d]: line %d %s", i%60, i%7, 1000+i, i, pad)
	}
	return out
}

// Run runs the suite.
func Run(t *testing.T, newSource Factory) {
	t.Run("records in order, exactly once, retained", func(t *testing.T) {
		lines := Lines(3000)
		h := newSource(t, lines)
		defer h.Source.Close()
		if h.Feed != nil {
			go h.Feed(t, lines)
		}
		var got []source.Record
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for len(got) < len(lines) {
			b, err := h.Source.Next(ctx)
			if err != nil {
				t.Fatalf("Next after %d of %d records: %v", len(got), len(lines), err)
			}
			if len(b.Records) == 0 {
				t.Fatal("Next returned an empty batch without error")
			}
			if b.Pos.Source != "" && b.Pos.Source != h.Source.Name() {
				t.Fatalf("Pos.Source %q, want %q", b.Pos.Source, h.Source.Name())
			}
			got = append(got, b.Records...) // retained, not copied
		}
		if len(got) != len(lines) {
			t.Fatalf("%d records, want %d", len(got), len(lines))
		}
		for i, r := range got {
			want := lines[i]
			if h.Want != nil {
				want = h.Want(want)
			}
			if string(r.B) != want {
				t.Fatalf("record %d = %q, want %q", i, r.B, want)
			}
		}
		if h.Feed == nil {
			if _, err := h.Source.Next(ctx); !errors.Is(err, io.EOF) {
				t.Fatalf("after the last record: %v, want io.EOF", err)
			}
		}
	})
	t.Run("context", func(t *testing.T) {
		h := newSource(t, nil)
		defer h.Source.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := h.Source.Next(ctx)
			done <- err
		}()
		select {
		case err := <-done:
			if h.Feed != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Next on an idle live source = %v, want the context's error", err)
			}
			if h.Feed == nil && !errors.Is(err, io.EOF) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Next on an empty source = %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Next ignored its context")
		}
	})
	t.Run("close", func(t *testing.T) {
		h := newSource(t, nil)
		done := make(chan error, 1)
		go func() {
			var err error
			for err == nil {
				_, err = h.Source.Next(context.Background())
			}
			done <- err
		}()
		time.Sleep(20 * time.Millisecond)
		if err := h.Source.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case err := <-done:
			if h.Feed != nil && !errors.Is(err, source.ErrSourceClosed) {
				t.Fatalf("Next after Close = %v, want ErrSourceClosed", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Close did not unblock Next")
		}
		if _, err := h.Source.Next(context.Background()); err == nil {
			t.Fatal("Next after Close returned no error")
		}
		if err := h.Source.Close(); err != nil {
			t.Fatalf("second Close = %v, want nil", err)
		}
	})
}
