package source

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzReader checks, for arbitrary input, chunk size and line limit, that
// the delivered lines joined with the input's own terminators reproduce
// the input (modulo the dropped tails of truncated lines), that lines are
// numbered 1, 2, 3, ..., that the counts add up, and that the result equals
// the naive reference splitter's. mode selects plain/gzip input, one-byte
// reads and a Peek first.
func FuzzReader(f *testing.F) {
	f.Add([]byte("a\nb\r\nc\rd"), uint16(1), uint16(0), uint8(0))
	f.Add([]byte("\r\n\r\n\n\r\r"), uint16(2), uint16(1), uint8(1))
	f.Add([]byte("loooooooong\r\nx\r"), uint16(3), uint16(4), uint8(2))
	f.Add([]byte("bin\x00ary\x01\n\x1b\tok\n"), uint16(5), uint16(3), uint8(7))
	f.Add([]byte(""), uint16(0), uint16(0), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, chunk, maxLine uint16, mode uint8) {
		o := Options{ChunkSize: int(chunk), MaxLine: int(maxLine)}
		ml := o.withDefaults().MaxLine
		var src io.Reader = bytes.NewReader(in)
		if mode&1 != 0 {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(in)
			zw.Close()
			src = bytes.NewReader(z.Bytes())
		}
		if mode&2 != 0 {
			src = iotest.OneByteReader(src)
		}
		r, err := Open(Input{Name: "-"}, src, o)
		if err != nil {
			t.Fatal(err)
		}
		var peeked [][]byte
		if mode&4 != 0 {
			peeked, err = r.Peek(int(mode>>3) + 1)
			if err != nil && err != io.EOF {
				t.Fatal(err)
			}
		}
		lines, err := readAll(t, r)
		if err != io.EOF {
			t.Fatalf("end: %v", err)
		}

		// Walk the input along the lines.
		p := 0
		var trunc, bin int64
		var nonEmpty [][]byte
		for i, l := range lines {
			if l.N != int64(i+1) {
				t.Fatalf("line %d has N=%d", i+1, l.N)
			}
			if len(l.B) > ml {
				t.Fatalf("line %d longer than MaxLine %d", l.N, ml)
			}
			// A cut line is its head and its last CutTail bytes.
			headLen := len(l.B)
			if end := indexTerm(in[p:]); (end < 0 && len(in)-p > len(l.B)) || end > len(l.B) {
				headLen = len(l.B) - CutTail(ml)
			}
			if !bytes.HasPrefix(in[p:], l.B[:headLen]) {
				t.Fatalf("line %d = %q does not match input at %d", l.N, l.B, p)
			}
			if bytes.ContainsAny(l.B, "\r\n") {
				t.Fatalf("line %d contains a terminator", l.N)
			}
			if binaryFrom(l.B, 0) < len(l.B) {
				bin++
			}
			if len(l.B) > 0 {
				nonEmpty = append(nonEmpty, l.B)
			}
			p += headLen
			if p < len(in) && in[p] != '\n' && in[p] != '\r' {
				// Not at a terminator: the line was truncated.
				if len(l.B) != ml {
					t.Fatalf("line %d (%d bytes) stops short of a terminator at %d", l.N, len(l.B), p)
				}
				trunc++
				for p < len(in) && in[p] != '\n' && in[p] != '\r' {
					p++
				}
				if k := CutTail(ml); !bytes.Equal(in[p-k:p], l.B[len(l.B)-k:]) {
					t.Fatalf("line %d ends %q, the input line ends %q", l.N, l.B[len(l.B)-k:], in[p-k:p])
				}
			}
			switch {
			case p == len(in):
				if i != len(lines)-1 {
					t.Fatalf("input ends after line %d of %d", l.N, len(lines))
				}
			case in[p] == '\r' && p+1 < len(in) && in[p+1] == '\n':
				p += 2
			default:
				p++
			}
		}
		if p != len(in) {
			t.Fatalf("lines cover %d of %d input bytes", p, len(in))
		}
		st := r.Stats()
		if st.Lines != int64(len(lines)) || st.Truncated != trunc || st.Binary != bin || st.Bytes != int64(len(in)) {
			t.Fatalf("stats %+v, want lines %d truncated %d binary %d bytes %d", st, len(lines), trunc, bin, len(in))
		}
		for i := range peeked {
			if !bytes.Equal(peeked[i], nonEmpty[i]) {
				t.Fatalf("peeked line %d = %q, delivered %q", i, peeked[i], nonEmpty[i])
			}
		}

		want := refSplit(in, ml)
		if len(want) != len(lines) {
			t.Fatalf("%d lines, reference has %d", len(lines), len(want))
		}
		for i := range want {
			if string(lines[i].B) != want[i].b {
				t.Fatalf("line %d = %q, reference %q", i+1, lines[i].B, want[i].b)
			}
		}
	})
}
