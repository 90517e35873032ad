package access

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
)

func seedLines(f *testing.F) {
	ins, _ := filepath.Glob(filepath.Join("testdata", "*", "input"))
	for _, in := range ins {
		b, _ := os.ReadFile(in)
		for _, l := range bytes.Split(b, []byte("\n")) {
			f.Add(l)
		}
	}
}

// FuzzParse: no panics; errors wrap the sentinels; a parsed event satisfies
// the invariants (UTC time, Raw aliases the line, HTTP part consistent,
// outcome matches status, unmapped addresses) and parsing is deterministic
// and independent of the parser's earlier lines (the time cache).
func FuzzParse(f *testing.F) {
	seedLines(f)
	o := parse.Options{Location: time.UTC}
	warm := New(o)
	f.Fuzz(func(t *testing.T, line []byte) {
		var ev event.Event
		err := New(o).Parse(line, &ev)
		if err != nil {
			if !errors.Is(err, parse.ErrMalformed) && !errors.Is(err, parse.ErrSkip) {
				t.Fatalf("%q: error %v wraps neither sentinel", line, err)
			}
			return
		}
		checkInvariants(t, line, &ev)
		var ev2 event.Event
		if err := warm.Parse(line, &ev2); err != nil {
			t.Fatalf("%q: second parse failed: %v", line, err)
		}
		if !bytes.Equal(ev.Raw, ev2.Raw) {
			t.Fatalf("%q: non-deterministic Raw", line)
		}
		h1, h2 := *ev.HTTP, *ev2.HTTP
		ev.Raw, ev2.Raw, ev.HTTP, ev2.HTTP = nil, nil, nil, nil
		if !reflect.DeepEqual(ev, ev2) || h1 != h2 {
			t.Fatalf("%q: non-deterministic event:\n%+v %+v\n%+v %+v", line, ev, h1, ev2, h2)
		}
	})
}

// FuzzErrorParse: the error-log parser never panics and its events are
// syslog-kind with Raw and Msg inside the line.
func FuzzErrorParse(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		var ev event.Event
		err := NewError(parse.Options{Location: time.UTC}).Parse(line, &ev)
		if err != nil {
			if !errors.Is(err, parse.ErrMalformed) && !errors.Is(err, parse.ErrSkip) {
				t.Fatalf("%q: error %v wraps neither sentinel", line, err)
			}
			return
		}
		checkInvariants(t, line, &ev)
	})
}
