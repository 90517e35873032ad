package source

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func readAllLines(t *testing.T, in Input, o Options) []Line {
	t.Helper()
	r, err := Open(in, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []Line
	for {
		c, err := r.Next()
		if c != nil {
			for _, l := range c.Lines {
				l.B = bytes.Clone(l.B)
				out = append(out, l)
			}
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestResumeAtEveryLine: reading from any line's Off (with its number)
// yields exactly the lines a whole read yields after it — for every line
// ending, cut long lines, a last line without terminator, tiny chunks that
// split "\r\n", and gzip.
func TestResumeAtEveryLine(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 300)
	content := []byte("alpha\nbeta\r\ngamma\rdelta\n\n" + string(long) + "\nsecond " + string(long) + "\r\nlast without newline")
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.log")
	os.WriteFile(plain, content, 0o600)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(content)
	zw.Close()
	packed := filepath.Join(dir, "packed.log.gz")
	os.WriteFile(packed, gz.Bytes(), 0o600)
	for _, path := range []string{plain, packed} {
		for _, chunk := range []int{1, 2, 3, 7, 64, 1 << 20} {
			o := Options{MaxLine: 100, ChunkSize: chunk}
			in := Input{Name: filepath.Base(path), Path: path}
			all := readAllLines(t, in, o)
			if len(all) != 8 {
				t.Fatalf("%s chunk %d: %d lines, want 8", path, chunk, len(all))
			}
			if all[len(all)-1].Off != int64(len(content)) {
				t.Fatalf("%s chunk %d: last Off %d, want %d", path, chunk, all[len(all)-1].Off, len(content))
			}
			for i, l := range all {
				o2 := o
				o2.Start, o2.StartLine = l.Off, l.N
				rest := readAllLines(t, in, o2)
				// Off may differ by the "\n" of a "\r\n" split across
				// reads (either is a valid resume point): compare text and
				// numbers.
				if fmt.Sprint(text(rest)) != fmt.Sprint(text(all[i+1:])) {
					t.Fatalf("%s chunk %d: resumed after line %d (off %d):\n got %v\nwant %v", path, chunk, l.N, l.Off, show(rest), show(all[i+1:]))
				}
			}
		}
	}
}

func TestHoldPartial(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "live.log")
	os.WriteFile(p, []byte("one\ntwo\nthr"), 0o600)
	in := Input{Name: "live.log", Path: p}
	got := readAllLines(t, in, Options{HoldPartial: true})
	if len(got) != 2 || got[1].Off != 8 {
		t.Fatalf("held: %v", show(got))
	}
	// The writer finishes the line: the next run reads it whole.
	os.WriteFile(p, []byte("one\ntwo\nthree\nfour\n"), 0o600)
	rest := readAllLines(t, in, Options{HoldPartial: true, Start: 8, StartLine: 2})
	if len(rest) != 2 || string(rest[0].B) != "three" || rest[0].N != 3 || string(rest[1].B) != "four" {
		t.Fatalf("resumed: %v", show(rest))
	}
}

func show(ls []Line) []string {
	var out []string
	for _, l := range ls {
		out = append(out, fmt.Sprintf("%d@%d:%q", l.N, l.Off, l.B))
	}
	return out
}

func text(ls []Line) []string {
	var out []string
	for _, l := range ls {
		out = append(out, fmt.Sprintf("%d:%q", l.N, l.B))
	}
	return out
}
