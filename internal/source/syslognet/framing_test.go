package syslognet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"testing"
)

// frames runs the framer over in and returns the messages and how many
// frames were malformed or truncated.
func frames(in []byte, max int) (msgs []string, malformed, truncated int, err error) {
	f := &framer{br: bufio.NewReaderSize(bytes.NewReader(in), 16), max: max}
	var buf []byte
	for {
		out, start, tr, e := f.next(buf)
		if errors.Is(e, ErrMalformed) {
			malformed++
			continue
		}
		if e != nil {
			return msgs, malformed, truncated, e
		}
		if tr {
			truncated++
		}
		msgs = append(msgs, string(out[start:]))
		buf = out
	}
}

func TestFraming(t *testing.T) {
	f := func(in string, max int, want []string, wantMalformed, wantTrunc int) {
		t.Helper()
		got, mal, tr, err := frames([]byte(in), max)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%q: %v", in, err)
		}
		if len(got) != len(want) || mal != wantMalformed || tr != wantTrunc {
			t.Fatalf("%q: got %q malformed %d truncated %d; want %q %d %d", in, got, mal, tr, want, wantMalformed, wantTrunc)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: message %d = %q, want %q", in, i, got[i], want[i])
			}
		}
	}
	f("<13>hello\n<14>world\n", 100, []string{"<13>hello", "<14>world"}, 0, 0)
	f("9 <13>hello8 <14>worl", 100, []string{"<13>hello", "<14>worl"}, 0, 0)
	f("5 a\nb\nc<1>x\r\n", 100, []string{"a\nb\nc", "<1>x"}, 0, 0) // octets keep newlines
	f("<1>a\x00<1>b\x00", 100, []string{"<1>a", "<1>b"}, 0, 0)     // NUL trailer
	f("\n\n<1>a\n\r\n", 100, []string{"<1>a"}, 0, 0)               // empty frames skipped
	f("<1>last without newline", 100, []string{"<1>last without newline"}, 0, 0)
	f("12x bad\n3 abc", 100, []string{"abc"}, 1, 0)                // bad count: resync at newline
	f("1234567890 x\n3 abc", 100, []string{"abc"}, 1, 0)           // ten digits
	f("<1>abcdefghij\n<1>k\n", 5, []string{"<1>ab", "<1>k"}, 0, 1) // cut
	f("10 abcdefghij3 xyz", 5, []string{"abcde", "xyz"}, 0, 1)     // cut octets
	f("10 abc", 100, nil, 0, 0)                                    // stream ends inside a frame
}

// FuzzFraming: the framer never panics, never returns a message longer
// than max, never invents bytes, and a stream of well-formed octet-counted
// frames round-trips exactly.
func FuzzFraming(f *testing.F) {
	f.Add([]byte("9 <13>hello<14>world\n"), 8)
	f.Add([]byte("12x bad\n3 abc"), 100)
	f.Add([]byte("\x00\x00\n99999999999 x"), 3)
	f.Add([]byte("1 \n"), 1)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max <= 0 || max > 1<<16 {
			max = 64
		}
		msgs, _, _, err := frames(in, max)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("unexpected error %v", err)
		}
		total := 0
		for _, m := range msgs {
			if len(m) > max {
				t.Fatalf("message of %d bytes, max %d", len(m), max)
			}
			total += len(m)
		}
		if total > len(in) {
			t.Fatalf("%d message bytes from %d input bytes", total, len(in))
		}
		// Round trip: re-frame what came out with octet counting.
		var b bytes.Buffer
		for _, m := range msgs {
			b.WriteString(strconv.Itoa(len(m)) + " " + m)
		}
		again, mal, tr, _ := frames(b.Bytes(), max)
		if mal != 0 || tr != 0 || len(again) != len(msgs) {
			t.Fatalf("round trip: %d messages (%d malformed, %d cut) from %d", len(again), mal, tr, len(msgs))
		}
		for i := range msgs {
			if again[i] != msgs[i] {
				t.Fatalf("round trip message %d: %q vs %q", i, again[i], msgs[i])
			}
		}
	})
}
