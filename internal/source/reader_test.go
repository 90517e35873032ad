package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/ulikunitz/xz"
)

// refLine is a line as the reference splitter sees it.
type refLine struct {
	b         string
	truncated bool
	binary    bool
}

// refSplit is a deliberately naive byte-at-a-time splitter that the Reader
// is checked against: a line ends at '\n', '\r' or "\r\n"; a last line
// without terminator counts; lines are cut at maxLine.
func refSplit(in []byte, maxLine int) []refLine {
	var out []refLine
	var cur []byte
	emit := func() {
		l := refLine{}
		if len(cur) > maxLine {
			k := min(maxLine/4, 512)
			cur, l.truncated = append(cur[:maxLine-k:maxLine-k], cur[len(cur)-k:]...), true
		}
		for _, c := range cur {
			if isBinaryByte(c) {
				l.binary = true
			}
		}
		l.b = string(cur)
		out = append(out, l)
		cur = nil
	}
	for i := 0; i < len(in); i++ {
		switch c := in[i]; c {
		case '\n':
			emit()
		case '\r':
			emit()
			if i+1 < len(in) && in[i+1] == '\n' {
				i++
			}
		default:
			cur = append(cur, c)
		}
	}
	if len(cur) > 0 {
		emit()
	}
	return out
}

// readAll reads every chunk of r, checking chunk invariants on the way.
func readAll(t testing.TB, r *Reader) ([]Line, error) {
	t.Helper()
	var out []Line
	for {
		c, err := r.Next()
		if c != nil {
			if err != nil {
				t.Fatalf("Next returned a chunk and an error %v", err)
			}
			if len(c.Lines) == 0 {
				t.Fatalf("Next returned an empty chunk")
			}
			for _, l := range c.Lines {
				if cap(l.B) != len(l.B) {
					t.Fatalf("line %d: cap %d != len %d", l.N, cap(l.B), len(l.B))
				}
			}
			out = append(out, c.Lines...)
		}
		if err != nil {
			return out, err
		}
	}
}

func openBytes(t testing.TB, data []byte, o Options) *Reader {
	t.Helper()
	r, err := Open(Input{Name: "-", Size: -1}, bytes.NewReader(data), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

// checkAgainstRef reads data with o and compares with refSplit.
func checkAgainstRef(t testing.TB, data []byte, r *Reader, maxLine int) {
	t.Helper()
	got, err := readAll(t, r)
	if err != io.EOF {
		t.Fatalf("end: got %v, want io.EOF", err)
	}
	want := refSplit(data, maxLine)
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d\ninput %q\ngot  %q\nwant %v", len(got), len(want), data, lineStrings(got), want)
	}
	var trunc, bin int64
	for i := range want {
		if got[i].N != int64(i+1) {
			t.Fatalf("line %d: N = %d", i+1, got[i].N)
		}
		if string(got[i].B) != want[i].b {
			t.Fatalf("line %d: got %q, want %q (input %q)", i+1, got[i].B, want[i].b, data)
		}
		if want[i].truncated {
			trunc++
		}
		if want[i].binary {
			bin++
		}
	}
	st := r.Stats()
	if st.Lines != int64(len(want)) || st.Truncated != trunc || st.Binary != bin {
		t.Fatalf("stats %+v, want lines %d truncated %d binary %d", st, len(want), trunc, bin)
	}
}

func lineStrings(ls []Line) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = string(l.B)
	}
	return out
}

func TestSplitTable(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"one LF", "a\n", []string{"a"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"only LF", "\n", []string{""}},
		{"only CR", "\r", []string{""}},
		{"only CRLF", "\r\n", []string{""}},
		{"LF lines", "ab\ncd\nef\n", []string{"ab", "cd", "ef"}},
		{"CRLF lines", "ab\r\ncd\r\nef\r\n", []string{"ab", "cd", "ef"}},
		{"CR lines", "ab\rcd\ref\r", []string{"ab", "cd", "ef"}},
		{"CR no final", "ab\rcd", []string{"ab", "cd"}},
		{"mixed", "a\nb\r\nc\rd\n\re", []string{"a", "b", "c", "d", "", "e"}},
		{"empty lines kept LF", "\n\na\n\n", []string{"", "", "a", ""}},
		{"empty lines kept CR", "\r\ra\r\r", []string{"", "", "a", ""}},
		{"empty lines kept CRLF", "\r\n\r\na\r\n", []string{"", "", "a"}},
		{"LF CR is two", "a\n\rb", []string{"a", "", "b"}},
		{"CR CR LF", "a\r\r\nb", []string{"a", "", "b"}},
		{"CRLF LF", "a\r\n\nb", []string{"a", "", "b"}},
		{"trailing CR after text", "abc\r", []string{"abc"}},
		{"tab and ESC are text", "a\tb\x1b[0m\n", []string{"a\tb\x1b[0m"}},
		{"utf8", "héllo wörld\nüñí\r\n", []string{"héllo wörld", "üñí"}},
	}
	// Every chunk size up to past the input length forces chunk boundaries
	// at every position, including between '\r' and '\n'.
	for _, tc := range tests {
		for cs := 1; cs <= len(tc.in)+2; cs++ {
			t.Run(fmt.Sprintf("%s/chunk%d", tc.name, cs), func(t *testing.T) {
				// A one-byte reader too, as a pipe may deliver.
				for _, oneByte := range []bool{false, true} {
					var src io.Reader = strings.NewReader(tc.in)
					if oneByte {
						src = iotest.OneByteReader(src)
					}
					r, err := Open(Input{Name: "-"}, src, Options{ChunkSize: cs})
					if err != nil {
						t.Fatal(err)
					}
					got, err := readAll(t, r)
					if err != io.EOF {
						t.Fatalf("got error %v, want io.EOF", err)
					}
					gs := lineStrings(got)
					if len(gs) == 0 {
						gs = nil
					}
					if fmt.Sprint(gs) != fmt.Sprint(tc.want) || len(gs) != len(tc.want) {
						t.Fatalf("oneByte=%v: got %q, want %q", oneByte, gs, tc.want)
					}
					for i, l := range got {
						if l.N != int64(i+1) {
							t.Fatalf("line %d has N=%d", i+1, l.N)
						}
					}
					if r.Stats().Lines != int64(len(tc.want)) {
						t.Fatalf("Stats.Lines = %d", r.Stats().Lines)
					}
					if r.Stats().Bytes != int64(len(tc.in)) {
						t.Fatalf("Stats.Bytes = %d, want %d", r.Stats().Bytes, len(tc.in))
					}
					// EOF is sticky.
					if c, err := r.Next(); c != nil || err != io.EOF {
						t.Fatalf("Next after EOF: %v, %v", c, err)
					}
				}
			})
		}
	}
}

func TestChunkSizesAgainstReference(t *testing.T) {
	// A random mix of terminators, empty lines, long lines and binary bytes.
	var b bytes.Buffer
	seed := uint32(1)
	rnd := func(n uint32) uint32 {
		seed = seed*1664525 + 1013904223
		return (seed >> 8) % n
	}
	pieces := []string{"\n", "\r", "\r\n", "\n\r", "x", "hello world", "\x00", "\x07bell", strings.Repeat("L", 300), "é"}
	for b.Len() < 20000 {
		b.WriteString(pieces[rnd(uint32(len(pieces)))])
	}
	data := b.Bytes()
	for _, cs := range []int{1, 2, 3, 7, 64, 100, 1000, 4096, 1 << 20} {
		for _, ml := range []int{1, 5, 100, 299, 300, 301, 1 << 16} {
			t.Run(fmt.Sprintf("chunk%d/max%d", cs, ml), func(t *testing.T) {
				r := openBytes(t, data, Options{ChunkSize: cs, MaxLine: ml})
				checkAgainstRef(t, data, r, ml)
			})
		}
	}
}

func TestTruncation(t *testing.T) {
	huge := strings.Repeat("A", 10<<20) // a 10 MB line
	tests := []struct {
		name    string
		in      string
		maxLine int
		chunk   int
		want    []string
		trunc   int64
	}{
		{"exactly max", "abcd\nx\n", 4, 0, []string{"abcd", "x"}, 0},
		{"one over", "abcde\nx\n", 4, 0, []string{"abce", "x"}, 1},
		{"over CR", "abcde\rx\r", 4, 0, []string{"abce", "x"}, 1},
		{"over CRLF", "abcdefgh\r\nx\r\n", 4, 0, []string{"abch", "x"}, 1},
		{"over at end", "x\nabcdefgh", 4, 0, []string{"x", "abch"}, 1},
		{"over small chunks", "abcdefghij\r\nx\ny", 4, 3, []string{"abcj", "x", "y"}, 1},
		{"CRLF split after cut", "abcdef\r\nx", 4, 7, []string{"abcf", "x"}, 1},
		{"several", "aaaaaaa\nb\ncccccccccc\n\ndddd", 4, 5, []string{"aaaa", "b", "cccc", "", "dddd"}, 2},
		{"huge line default max", "first\n" + huge + "\nafter\r\nlast", 0, 0, []string{"first", huge[:DefaultMaxLine], "after", "last"}, 1},
		{"huge line small chunk", "first\n" + huge + "\r\nafter\n", 1000, 4096, []string{"first", huge[:1000], "after"}, 1},
		{"huge line no newline", huge, 100, 0, []string{huge[:100]}, 1},
		{"tail kept across buffers", "x\nhead" + huge[:5000] + "from 192.0.2.7 port 22 ssh2\ny", 1000, 4096,
			[]string{"x", "head" + huge[:1000-250-4] + huge[:250-27] + "from 192.0.2.7 port 22 ssh2", "y"}, 1},
		{"tail kept in one buffer", "head" + huge[:5000] + "from 192.0.2.7 port 22 ssh2\n", 1000, 0,
			[]string{"head" + huge[:1000-250-4] + huge[:250-27] + "from 192.0.2.7 port 22 ssh2"}, 1},
		{"tail kept at EOF", "head" + huge[:5000] + "from 192.0.2.7 port 22 ssh2", 1000, 1024,
			[]string{"head" + huge[:1000-250-4] + huge[:250-27] + "from 192.0.2.7 port 22 ssh2"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := openBytes(t, []byte(tc.in), Options{MaxLine: tc.maxLine, ChunkSize: tc.chunk})
			got, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("err = %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d lines, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if string(got[i].B) != tc.want[i] {
					t.Errorf("line %d: got %.40q (len %d), want %.40q (len %d)", i+1, got[i].B, len(got[i].B), tc.want[i], len(tc.want[i]))
				}
				if got[i].N != int64(i+1) {
					t.Errorf("line %d: N = %d", i+1, got[i].N)
				}
			}
			if st := r.Stats(); st.Truncated != tc.trunc {
				t.Errorf("Truncated = %d, want %d", st.Truncated, tc.trunc)
			}
		})
	}
}

// endless yields 'A' forever-ish without a newline, then "\nend\n".
type endless struct{ left int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	tail := []byte("\nend\n")
	if e.left <= int64(len(tail)) {
		n := copy(p, tail[int64(len(tail))-e.left:])
		e.left -= int64(n)
		return n, nil
	}
	n := int64(len(p))
	if n > e.left-int64(len(tail)) {
		n = e.left - int64(len(tail))
	}
	for i := range p[:n] {
		p[i] = 'A'
	}
	e.left -= n
	return int(n), nil
}

func TestHugeLineBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1 GB")
	}
	const total = 1 << 30
	r, err := Open(Input{Name: "-"}, &endless{left: total}, Options{ChunkSize: 1 << 20, MaxLine: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	before := totalAlloc()
	got, err := readAll(t, r)
	allocs := totalAlloc() - before
	if err != io.EOF {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].B) != 1<<16 || string(got[1].B) != "end" || got[1].N != 2 {
		t.Fatalf("got %d lines", len(got))
	}
	if st := r.Stats(); st.Truncated != 1 || st.Bytes != total {
		t.Fatalf("stats %+v", st)
	}
	// Reading 1 GB must not allocate anywhere near 1 GB: a few chunk
	// buffers at most.
	if allocs > 16<<20 {
		t.Fatalf("allocated %d bytes for a 1 GB line", allocs)
	}
}

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) Input {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Name: p, Path: p, Size: fi.Size(), ModTime: fi.ModTime()}
}

func numbered(n int, term string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "Dec  1 10:00:%02d host sshd[%d]: line %d%s", i%60, i, i, term)
	}
	return b.String()
}

func TestGzip(t *testing.T) {
	dir := t.TempDir()
	text := numbered(5000, "\n")
	crText := numbered(100, "\r")

	t.Run("normal", func(t *testing.T) {
		in := writeFile(t, dir, "a.log.gz", gz(t, text))
		r, err := Open(in, nil, Options{ChunkSize: 4096})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		checkAgainstRef(t, []byte(text), r, DefaultMaxLine)
		if r.BytesRead() != in.Size {
			t.Errorf("BytesRead = %d, want compressed size %d", r.BytesRead(), in.Size)
		}
		if r.Stats().Bytes != int64(len(text)) {
			t.Errorf("Stats.Bytes = %d, want %d", r.Stats().Bytes, len(text))
		}
	})
	t.Run("detected by magic, not extension", func(t *testing.T) {
		in := writeFile(t, dir, "looks-plain.log", gz(t, crText))
		r, err := Open(in, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		checkAgainstRef(t, []byte(crText), r, DefaultMaxLine)
		in = writeFile(t, dir, "plain.gz", []byte(crText))
		r2, err := Open(in, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r2.Close()
		checkAgainstRef(t, []byte(crText), r2, DefaultMaxLine)
	})
	t.Run("multi-member", func(t *testing.T) {
		// The first member ends mid-line and mid-CRLF: members join into one stream.
		parts := []string{"a\nb\r", "\nc", "d\n", "", "e\r\nf"}
		var data []byte
		for _, p := range parts {
			data = append(data, gz(t, p)...)
		}
		for _, cs := range []int{1, 2, 3, 100} {
			r := openBytes(t, data, Options{ChunkSize: cs})
			checkAgainstRef(t, []byte(strings.Join(parts, "")), r, DefaultMaxLine)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		full := gz(t, text)
		for _, cut := range []int{len(full) / 3, len(full) / 2, len(full) - 4} {
			in := writeFile(t, dir, "auth.log.2.gz", full[:cut])
			r, err := Open(in, nil, Options{ChunkSize: 4096})
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, r)
			defer r.Close()
			if err == nil || err == io.EOF {
				t.Fatalf("cut %d: got %v, want an error", cut, err)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("cut %d: error %v does not wrap io.ErrUnexpectedEOF", cut, err)
			}
			want := refSplit([]byte(text), DefaultMaxLine)
			if len(got) == 0 && cut > len(full)/2 {
				t.Fatalf("cut %d: no lines before the error", cut)
			}
			for i, l := range got {
				if string(l.B) != want[i].b || l.N != int64(i+1) {
					t.Fatalf("cut %d: line %d = %q, want %q", cut, i+1, l.B, want[i].b)
				}
			}
			msg := fmt.Sprintf("%s: truncated gzip stream after line %d: unexpected EOF", in.Name, len(got))
			if err.Error() != msg {
				t.Errorf("cut %d:\n got %q\nwant %q", cut, err, msg)
			}
			if cut == len(full)-4 && len(got) != len(want) {
				// Only the trailer is missing: every line was decompressed.
				t.Errorf("trailer cut: got %d lines, want %d", len(got), len(want))
			}
			// The error is sticky.
			if _, err2 := r.Next(); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("second Next: %v", err2)
			}
		}
	})
	t.Run("corrupt header", func(t *testing.T) {
		bad := gz(t, text)
		bad[2] = 7 // compression method: not deflate
		in := writeFile(t, dir, "bad.gz", bad)
		_, err := Open(in, nil, Options{})
		if err == nil || !strings.Contains(err.Error(), in.Name) || !strings.Contains(err.Error(), "corrupt gzip header") || !errors.Is(err, gzip.ErrHeader) {
			t.Fatalf("got %v", err)
		}
		in = writeFile(t, dir, "short.gz", []byte{0x1f, 0x8b, 8})
		_, err = Open(in, nil, Options{})
		if err == nil || !strings.Contains(err.Error(), "truncated gzip header") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("corrupt data", func(t *testing.T) {
		bad := gz(t, text)
		for i := len(bad) / 2; i < len(bad)/2+64; i++ {
			bad[i] ^= 0x5a
		}
		r := openBytes(t, bad, Options{ChunkSize: 4096})
		got, err := readAll(t, r)
		if err == nil || err == io.EOF || !strings.HasPrefix(err.Error(), "-: corrupt gzip stream") {
			t.Fatalf("got %v", err)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("after line %d:", len(got))) {
			t.Fatalf("error %q does not name line %d", err, len(got))
		}
	})
	t.Run("trailing garbage", func(t *testing.T) {
		for _, garbage := range []string{"x", "garbage", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "more text\n"} {
			data := append(gz(t, "a\nb\n"), garbage...)
			r := openBytes(t, data, Options{})
			got, err := readAll(t, r)
			if len(got) != 2 || err == nil || err.Error() != "-: trailing garbage after line 2: "+errTrailing.Error() {
				t.Fatalf("%q: got %d lines, %v", garbage, len(got), err)
			}
		}
	})
	t.Run("corrupt second member", func(t *testing.T) {
		second := gz(t, "c\n")
		second[2] = 7 // compression method: not deflate
		data := append(gz(t, "a\nb\n"), second...)
		r := openBytes(t, data, Options{})
		got, err := readAll(t, r)
		if len(got) != 2 || !errors.Is(err, gzip.ErrHeader) || !strings.Contains(err.Error(), "corrupt gzip header after line 2") {
			t.Fatalf("got %d lines, %v", len(got), err)
		}
		data = append(gz(t, "a\nb\n"), 0x1f, 0x8b, 8) // cut header
		r = openBytes(t, data, Options{})
		got, err = readAll(t, r)
		if len(got) != 2 || !strings.Contains(err.Error(), "truncated gzip stream after line 2") {
			t.Fatalf("got %d lines, %v", len(got), err)
		}
	})
}

func TestReadErrorMidway(t *testing.T) {
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader("one\ntwo\r\nthree\rfour-partial"), iotest.ErrReader(boom))
	if _, err := Open(Input{Name: "x.log"}, nil, Options{}); err == nil {
		t.Fatal("opening a missing x.log succeeded")
	}
	r, err := Open(Input{Name: "-"}, src, Options{ChunkSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if s := lineStrings(got); fmt.Sprint(s) != "[one two three]" {
		t.Fatalf("lines %q", s)
	}
	if !errors.Is(err, boom) || err.Error() != "-: read error after line 3: boom" {
		t.Fatalf("err %v", err)
	}
}

func TestEmptyFile(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"empty.log", "empty.gz"} {
		in := writeFile(t, dir, name, nil)
		r, err := Open(in, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := r.Peek(5); p != nil || err != io.EOF {
			t.Fatalf("Peek: %q, %v", p, err)
		}
		if c, err := r.Next(); c != nil || err != io.EOF {
			t.Fatalf("Next: %v, %v", c, err)
		}
		if st := r.Stats(); st != (Stats{}) {
			t.Fatalf("stats %+v", st)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal("second Close:", err)
		}
	}
	// An empty gzip stream (valid header, no data) is empty too.
	r := openBytes(t, gz(t, ""), Options{})
	if c, err := r.Next(); c != nil || err != io.EOF {
		t.Fatalf("Next: %v, %v", c, err)
	}
}

func TestPeekThenNext(t *testing.T) {
	text := "\n\r\nfirst\r\n\nsecond\rthird\n" + numbered(200, "\n")
	for _, cs := range []int{1, 3, 16, 1 << 20} {
		for _, n := range []int{0, 1, 2, 3, 50, 1000} {
			t.Run(fmt.Sprintf("chunk%d/peek%d", cs, n), func(t *testing.T) {
				r := openBytes(t, []byte(text), Options{ChunkSize: cs})
				p, err := r.Peek(n)
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"first", "second", "third"}
				for i := 1; len(want) < 203; i++ {
					want = append(want, fmt.Sprintf("Dec  1 10:00:%02d host sshd[%d]: line %d", i%60, i, i))
				}
				if len(p) != min(n, len(want)) {
					t.Fatalf("Peek(%d) gave %d lines", n, len(p))
				}
				for i := range p {
					if string(p[i]) != want[i] {
						t.Fatalf("peek %d: %q, want %q", i, p[i], want[i])
					}
				}
				// Peeking again gives the same and reads nothing new.
				p2, _ := r.Peek(n)
				if fmt.Sprint(p2) != fmt.Sprint(p) {
					t.Fatal("second Peek differs")
				}
				if r.Stats().Lines != 0 {
					t.Fatalf("Peek counted lines as delivered: %d", r.Stats().Lines)
				}
				checkAgainstRef(t, []byte(text), r, DefaultMaxLine)
			})
		}
	}
}

func TestPeekMidwayAndFailure(t *testing.T) {
	r := openBytes(t, []byte("a\nb\nc\nd\n"), Options{ChunkSize: 2})
	c, err := r.Next()
	if err != nil || string(c.Lines[0].B) != "a" {
		t.Fatal(c, err)
	}
	p, err := r.Peek(2)
	if err != nil || fmt.Sprintf("%s", p) != "[b c]" {
		t.Fatalf("%s %v", p, err)
	}
	rest, err := readAll(t, r)
	if err != io.EOF || fmt.Sprint(lineStrings(rest)) != "[b c d]" {
		t.Fatalf("%q %v", lineStrings(rest), err)
	}

	// Failure with no line before it: Peek reports it, Next repeats it.
	boom := errors.New("boom")
	r, _ = Open(Input{Name: "-"}, io.MultiReader(strings.NewReader("\n\n"), iotest.ErrReader(boom)), Options{})
	if p, err := r.Peek(3); p != nil || !errors.Is(err, boom) {
		t.Fatalf("Peek: %q %v", p, err)
	}
	got, err := readAll(t, r)
	if len(got) != 2 || !errors.Is(err, boom) {
		t.Fatalf("Next: %d lines, %v", len(got), err)
	}
	// Failure after lines: Peek returns the lines, Next delivers them then the error.
	r, _ = Open(Input{Name: "-"}, io.MultiReader(strings.NewReader("x\ny"), iotest.ErrReader(boom)), Options{})
	if p, err := r.Peek(3); len(p) != 1 || err != nil {
		t.Fatalf("Peek: %q %v", p, err)
	}
	got, err = readAll(t, r)
	if len(got) != 1 || !errors.Is(err, boom) {
		t.Fatalf("Next: %d lines, %v", len(got), err)
	}
}

func TestChunksAreNotRewritten(t *testing.T) {
	text := numbered(3000, "\r\n")
	r := openBytes(t, []byte(text), Options{ChunkSize: 1000, MaxLine: 50})
	var kept []Line
	var copies []string
	for {
		c, err := r.Next()
		if err != nil {
			break
		}
		kept = append(kept, c.Lines...)
		for _, l := range c.Lines {
			copies = append(copies, string(l.B))
		}
	}
	if len(kept) != 3000 {
		t.Fatalf("%d lines", len(kept))
	}
	for i := range kept {
		if string(kept[i].B) != copies[i] {
			t.Fatalf("line %d was rewritten after delivery: %q, was %q", i+1, kept[i].B, copies[i])
		}
	}
}

func TestBytesReadConcurrent(t *testing.T) {
	dir := t.TempDir()
	text := numbered(20000, "\n")
	in := writeFile(t, dir, "big.log", []byte(text))
	r, err := Open(in, nil, Options{ChunkSize: 1 << 12})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := int64(0)
		for {
			select {
			case <-done:
				return
			default:
			}
			n := r.BytesRead()
			if n < last || n > in.Size {
				t.Errorf("BytesRead went from %d to %d (size %d)", last, n, in.Size)
				return
			}
			last = n
		}
	}()
	got, err := readAll(t, r)
	close(done)
	wg.Wait()
	if err != io.EOF || len(got) != 20000 {
		t.Fatalf("%d lines, %v", len(got), err)
	}
	if r.BytesRead() != in.Size {
		t.Fatalf("BytesRead = %d, want %d", r.BytesRead(), in.Size)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(Input{Name: "-"}, nil, Options{}); err == nil {
		t.Error("stdin without reader: no error")
	}
	missing := filepath.Join(dir, "missing.log")
	_, err := Open(Input{Name: missing, Path: missing}, nil, Options{})
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing: %v", err)
	}
	_, err = Open(Input{Name: dir, Path: dir}, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	r := openBytes(t, []byte("a\n"), Options{})
	r.Close()
	if _, err := r.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after Close: %v", err)
	}
}

func TestBinaryLines(t *testing.T) {
	in := "text\nnul\x00here\nbell\x07\n\x1b[31mcolour\x1b[0m\ttab\x0b\x0c\nlong" + strings.Repeat("x", 100) + "\x01\n"
	r := openBytes(t, []byte(in), Options{})
	checkAgainstRef(t, []byte(in), r, DefaultMaxLine)
	if r.Stats().Binary != 3 {
		t.Fatalf("Binary = %d, want 3", r.Stats().Binary)
	}
	// A binary byte in the kept tail of a cut line is counted.
	r = openBytes(t, []byte(in), Options{MaxLine: 50})
	checkAgainstRef(t, []byte(in), r, 50)
	if r.Stats().Binary != 3 {
		t.Fatalf("Binary = %d, want 3", r.Stats().Binary)
	}
	// One in the dropped middle is not.
	in = "long" + strings.Repeat("x", 60) + "\x01" + strings.Repeat("y", 100) + "\n"
	r = openBytes(t, []byte(in), Options{MaxLine: 50})
	checkAgainstRef(t, []byte(in), r, 50)
	if r.Stats().Binary != 0 {
		t.Fatalf("Binary = %d, want 0", r.Stats().Binary)
	}
}

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

func xzBytes(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestXZ: .xz rotations (Debian's /var/log) are read like .gz ones, by
// magic; a truncated stream is an error after the lines before it; a
// header declaring a huge dictionary is refused before allocating it.
func TestXZ(t *testing.T) {
	text := numbered(5000, "\n")
	data := xzBytes(t, text)
	dir := t.TempDir()
	in := writeFile(t, dir, "syslog.2", data) // no extension: magic decides
	r, err := Open(in, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, r)
	if err != io.EOF {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 5000 || string(got[4999].B) != strings.TrimSuffix(text[strings.LastIndex(text[:len(text)-1], "\n")+1:], "\n") {
		t.Fatalf("read %d lines", len(got))
	}
	r.Close()

	// Truncated.
	in = writeFile(t, dir, "cut.xz", data[:len(data)/2])
	r, err = Open(in, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = readAll(t, r)
	if err == nil || err == io.EOF || !strings.Contains(err.Error(), "xz") {
		t.Fatalf("truncated xz: err = %v", err)
	}
	r.Close()

	// The first block's LZMA2 dictionary, then a patched huge one.
	dict, ok := xzDict(data)
	if !ok || dict > MaxXZDict {
		t.Fatalf("xzDict = %d, %v", dict, ok)
	}
	huge := append([]byte(nil), data...)
	// Block header: size, flags, [sizes], filter id 0x21, props size 1, props.
	i := bytes.Index(huge[12:12+int(huge[12]+1)*4], []byte{0x21, 0x01})
	if i < 0 {
		t.Fatal("no LZMA2 filter flags in the first block header")
	}
	huge[12+i+2] = 39 // 3 GiB
	in = writeFile(t, dir, "bomb.xz", huge)
	if _, err := Open(in, nil, Options{}); err == nil || !strings.Contains(err.Error(), "dictionary") {
		t.Fatalf("huge dictionary: err = %v", err)
	}
}
