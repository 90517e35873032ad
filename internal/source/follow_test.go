package source_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/source"
	"winnow/internal/source/sourcetest"
)

func appendLines(t *testing.T, path string, lines []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Error(err)
		}
	}
}

func newFollow(t *testing.T, o source.FollowOptions) *source.Follow {
	t.Helper()
	if o.Poll == 0 {
		o.Poll = 5 * time.Millisecond
	}
	f, err := source.NewFollow(o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFollowConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T, _ []string) sourcetest.Harness {
		path := filepath.Join(t.TempDir(), "auth.log")
		appendLines(t, path, []string{"old line, before the start: not read"})
		f := newFollow(t, source.FollowOptions{Patterns: []string{path}})
		return sourcetest.Harness{Source: f, Feed: func(t *testing.T, lines []string) {
			for f.Stats().Files == 0 { // the first Next opens the file at its end
				time.Sleep(time.Millisecond)
			}
			// in pieces, some lines split across writes
			for i := 0; i < len(lines); i += 100 {
				appendLines(t, path, lines[i:min(i+100, len(lines))])
			}
		}}
	})
}

// reader collects records from a source in the background.
type reader struct {
	recs chan source.Record
	last chan source.Position
}

func collect(ctx context.Context, s source.Source) *reader {
	r := &reader{recs: make(chan source.Record, 1<<16), last: make(chan source.Position, 1<<16)}
	go func() {
		for {
			b, err := s.Next(ctx)
			if err != nil {
				return
			}
			for _, rc := range b.Records {
				r.recs <- rc
			}
			r.last <- b.Pos
		}
	}()
	return r
}

// want reads exactly the lines given, in order, and nothing else within
// a short while after them.
func (r *reader) want(t *testing.T, lines ...string) {
	t.Helper()
	for i, l := range lines {
		select {
		case rc := <-r.recs:
			if string(rc.B) != l {
				t.Fatalf("record %d = %q, want %q", i, rc.B, l)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("timed out waiting for %q", l)
		}
	}
}

func (r *reader) none(t *testing.T) {
	t.Helper()
	select {
	case rc := <-r.recs:
		t.Fatalf("unexpected record %q from %s", rc.B, rc.File)
	case <-time.After(100 * time.Millisecond):
	}
}

func seq(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s %d", prefix, i)
	}
	return out
}

// Rotation by rename and create, by copytruncate and along .1 → .2, under
// an exact path and under a glob: no line lost, none repeated.
func TestFollowRotation(t *testing.T) {
	for _, glob := range []bool{false, true} {
		t.Run(fmt.Sprintf("glob=%v", glob), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "auth.log")
			appendLines(t, path, []string{"before start"})
			pat := path
			if glob {
				pat = path + "*"
			}
			f := newFollow(t, source.FollowOptions{Patterns: []string{pat}, Grace: 50 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			defer f.Close()
			r := collect(ctx, f)
			for f.Stats().Files == 0 { // let it open the file at its end
				time.Sleep(time.Millisecond)
			}
			appendLines(t, path, seq("a", 50))
			r.want(t, seq("a", 50)...)

			// rename + create: lines written to the old file after the
			// rename (before the writer reopens) are still read.
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			appendLines(t, path+".1", seq("late", 3))
			appendLines(t, path, seq("b", 50))
			r.want(t, append(seq("late", 3), seq("b", 50)...)...)

			// .1 → .2 and a second rotation
			if err := os.Rename(path+".1", path+".2"); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			appendLines(t, path, seq("c", 20))
			r.want(t, seq("c", 20)...)

			// copytruncate: copy, then truncate in place
			old, _ := os.ReadFile(path)
			_ = os.WriteFile(path+".0", old, 0o644)
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			time.Sleep(30 * time.Millisecond) // a poll sees the truncation
			appendLines(t, path, seq("d", 5))
			if glob {
				// the copy is a new file matching the glob: read whole
				r.want(t, append(seq("c", 20), seq("d", 5)...)...)
			} else {
				r.want(t, seq("d", 5)...)
			}
			// a new file matching the pattern
			if glob {
				appendLines(t, path+"-new", seq("e", 3))
				r.want(t, seq("e", 3)...)
			}
			r.none(t)
		})
	}
}

// A restart resumes from the last position: nothing read twice, nothing
// lost, even when the file was rotated while winnow was down.
func TestFollowResume(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	appendLines(t, path, seq("a", 10))
	f := newFollow(t, source.FollowOptions{Patterns: []string{path}, FromStart: true})
	ctx := context.Background()
	var pos source.Position
	for n := 0; n < 10; {
		b, err := f.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(b.Records)
		pos = b.Pos
	}
	f.Close()
	if pos.Line != 10 || pos.ID == "" || pos.Offset != int64(len(strings.Join(seq("a", 10), "\n"))+1) {
		t.Fatalf("position %+v", pos)
	}
	// while down: more lines, then a rotation and a new file
	appendLines(t, path, seq("b", 3))
	_ = os.Rename(path, path+".1")
	appendLines(t, path, seq("c", 2))

	f2 := newFollow(t, source.FollowOptions{Patterns: []string{path, path + ".1"}})
	if err := f2.Resume([]source.Position{pos}); err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	ctx2, cancel := context.WithCancel(ctx)
	defer cancel()
	r := collect(ctx2, f2)
	r.want(t, append(seq("b", 3), seq("c", 2)...)...)
	r.none(t)
}

// A line longer than MaxLine is cut and counted; memory stays bounded by
// it even when the line never ends.
func TestFollowLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	appendLines(t, path, nil)
	f := newFollow(t, source.FollowOptions{Patterns: []string{path}, MaxLine: 100, FromStart: true})
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := collect(ctx, f)
	fh, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	chunk := strings.Repeat("x", 1<<16)
	for range 64 { // 4 MiB without a newline
		fh.WriteString(chunk)
	}
	fh.WriteString("\nshort\n")
	fh.Close()
	r.want(t, strings.Repeat("x", 100), "short")
	if st := f.Stats(); st.Truncated != 1 {
		t.Fatalf("truncated %d", st.Truncated)
	}
}
