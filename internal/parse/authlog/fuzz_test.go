package authlog

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
// the invariants (non-zero time, Raw/Msg alias the line, kind matches the
// action, no trailing CR, unmapped addresses) and parsing is deterministic.
func FuzzParse(f *testing.F) {
	seedLines(f)
	o := parse.Options{Location: time.UTC, Now: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}
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
		if err := New(o).Parse(line, &ev2); err != nil {
			t.Fatalf("%q: second parse failed: %v", line, err)
		}
		if !bytes.Equal(ev.Msg, ev2.Msg) || !bytes.Equal(ev.Raw, ev2.Raw) {
			t.Fatalf("%q: non-deterministic Msg/Raw", line)
		}
		ev.Raw, ev.Msg, ev2.Raw, ev2.Msg = nil, nil, nil, nil
		if !reflect.DeepEqual(ev, ev2) {
			t.Fatalf("%q: non-deterministic:\n%+v\n%+v", line, ev, ev2)
		}
	})
}
