package source

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// Defaults for Options.
const (
	DefaultMaxLine   = 1 << 20
	DefaultChunkSize = 1 << 20
)

// maxCutTail bounds the bytes a cut line keeps from its end (see CutTail).
const maxCutTail = 512

// CutTail is how many bytes of its end a line longer than maxLine keeps:
// such a line is delivered as its first maxLine-CutTail(maxLine) bytes
// followed by its last CutTail(maxLine) bytes, so the fields that close a
// record (sshd's "from ADDR port N ssh2", an access log's status and user
// agent) survive an attacker's padding in the middle of the line.
func CutTail(maxLine int) int { return min(maxLine/4, maxCutTail) }

// cutLine returns line (longer than maxLine) cut to maxLine bytes, head
// and tail, in fresh memory.
func cutLine(line []byte, maxLine int) []byte {
	k := CutTail(maxLine)
	out := make([]byte, maxLine)
	copy(out, line[:maxLine-k])
	copy(out[maxLine-k:], line[len(line)-k:])
	return out
}

// Options configure a Reader. Zero values mean the defaults.
type Options struct {
	MaxLine   int // longest line kept, bytes; longer lines are cut to MaxLine (head and tail, see CutTail) and counted (default 1 MiB)
	ChunkSize int // target bytes per chunk (default 1 MiB)
	// Start resumes reading at an uncompressed byte offset (a Line.Off
	// saved by an earlier run) and StartLine numbers the lines before it,
	// so line numbers go on from there. A plain file is seeked; a
	// compressed one is decompressed from its start and the first Start
	// bytes dropped. Standard input cannot start past 0.
	Start, StartLine int64
	// HoldPartial leaves a last line without terminator undelivered — the
	// writer of a live log may be in the middle of it — so that its bytes
	// stay unconsumed and a later run reads it whole. Compressed inputs,
	// which are complete, deliver it anyway.
	HoldPartial bool
	// From, when set, is read instead of opening the input: a pipe whose
	// first bytes were consumed by sniffing (OpenRaw's replay), so that
	// nothing of it is lost. The Reader does not close it.
	From io.Reader
}

func (o Options) withDefaults() Options {
	if o.MaxLine <= 0 {
		o.MaxLine = DefaultMaxLine
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	return o
}

// Line is one record.
type Line struct {
	B []byte // the line without its terminator (\n, \r\n or lone \r); immutable, never rewritten
	N int64  // 1-based line number in the input
	// Off is the uncompressed byte offset just past the line's
	// terminator: where a later run resumes after it (Options.Start).
	Off int64
}

// Chunk is a batch of consecutive lines. Its memory is freshly allocated per chunk and
// never reused or rewritten, so Line.B may be retained (it pins the chunk).
//
// Every Line.B has its capacity capped at its length, so appending to it
// copies instead of writing into the chunk.
type Chunk struct {
	Lines []Line
}

// Stats after or during reading.
type Stats struct {
	Lines     int64 // lines delivered
	Truncated int64 // lines longer than MaxLine (cut to MaxLine)
	Binary    int64 // lines containing NUL or other control bytes typical of binary data
	Bytes     int64 // uncompressed bytes read
}

// Reader reads lines from one input. Not safe for concurrent use, except BytesRead.
//
// Memory: a Reader holds at most one chunk buffer being filled (about
// ChunkSize bytes; up to 2*MaxLine while a long line is assembled) plus
// the chunks that Peek has read ahead. A line longer than MaxLine is cut:
// its head is kept, the rest is read into a reused buffer and dropped
// except for its last CutTail bytes, so a huge line (or a file without
// any newline) does not grow memory.
type Reader struct {
	in   Input
	o    Options
	file *os.File     // nil for stdin
	cnt  *countReader // counts bytes taken from the file (or stdin)
	gz   *gzip.Reader // nil for plain input
	xz   bool         // src decompresses xz
	src  io.Reader    // decompressed bytes

	lineNo   int64  // lines produced so far (delivered or queued)
	off      int64  // uncompressed offset of pending's first byte (of the next byte when none)
	pending  []byte // start of a line not yet terminated, in the previous buffer
	skipping bool   // dropping the middle of a line cut at MaxLine
	cutHead  []byte // while skipping: the cut line's head (fresh memory, cap MaxLine)
	cutEnd   []byte // while skipping: the last CutTail bytes seen of the cut line
	afterCR  bool   // the last byte seen was a '\r' ending a line: skip a '\n' next
	rerr     error  // the source's error (io.EOF at the end), once seen
	err      error  // what Next returns once the queue is empty; nil while reading

	queue   []queued // chunks read ahead by Peek, in order
	scratch []Line   // reused while splitting a buffer; copied into each chunk
	stats   Stats
	closed  bool
}

// queued is a produced chunk with the counts that go into Stats when it is
// delivered.
type queued struct {
	c         *Chunk
	truncated int64
	binary    int64
}

// countReader counts bytes read from r, readable from any goroutine.
type countReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Open opens in (stdin is the given io.Reader when in.Name == "-"). Gzip and
// xz are detected by magic bytes (not by extension). Errors name the input.
//
// The gzip header is read here, so a corrupt or truncated header is an
// Open error. Open never closes stdin, and neither does Close.
func Open(in Input, stdin io.Reader, o Options) (*Reader, error) {
	r := &Reader{in: in, o: o.withDefaults()}
	var raw io.Reader
	switch {
	case o.From != nil:
		raw = o.From
	case in.Name == StdinName:
		if stdin == nil {
			return nil, fmt.Errorf("cannot open %s: no standard input", in.Name)
		}
		raw = stdin
	default:
		path := in.Path
		if path == "" {
			path = in.Name
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot open %s: %w", in.Name, pathErr(err))
		}
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			f.Close()
			return nil, fmt.Errorf("cannot open %s: is a directory", in.Name)
		}
		r.file = f
		raw = f
	}
	r.cnt = &countReader{r: raw}
	// The bufio.Reader lets us look at the magic bytes without losing
	// them; large reads bypass its buffer, and gzip uses it as its
	// io.ByteReader (so there is no second buffer below flate).
	br := bufio.NewReaderSize(r.cnt, 64<<10)
	magic, err := br.Peek(2)
	if x, _ := br.Peek(len(xzMagic)); bytes.Equal(x, xzMagic) {
		zr, err := openXZ(br)
		if err != nil {
			r.closeFile()
			return nil, fmt.Errorf("%s: %w", in.Name, err)
		}
		r.xz = true
		r.src = zr
		return r, nil
	}
	switch {
	case err == nil && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			r.closeFile()
			what := "corrupt gzip header"
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				what = "truncated gzip header"
			}
			return nil, fmt.Errorf("%s: %s: %w", in.Name, what, err)
		}
		zr.Multistream(false)
		r.gz = zr
		r.src = &gzStream{br: br, z: zr}
	case err != nil && !errors.Is(err, io.EOF):
		r.closeFile()
		return nil, fmt.Errorf("cannot read %s: %w", in.Name, pathErr(err))
	default:
		r.src = br
	}
	if o.Start > 0 {
		if err := r.start(br, o.Start, o.StartLine); err != nil {
			r.closeFile()
			return nil, err
		}
	}
	return r, nil
}

// start skips to offset (see Options.Start).
func (r *Reader) start(br *bufio.Reader, offset, line int64) error {
	var prev [1]byte
	switch {
	case r.file == nil:
		return fmt.Errorf("cannot resume %s at byte %d: standard input cannot be resumed", r.in.Name, offset)
	case r.gz == nil && !r.xz:
		if _, err := r.file.ReadAt(prev[:], offset-1); err != nil {
			return fmt.Errorf("cannot resume %s at byte %d: %w", r.in.Name, offset, pathErr(err))
		}
		if _, err := r.file.Seek(offset, io.SeekStart); err != nil {
			return fmt.Errorf("cannot resume %s at byte %d: %w", r.in.Name, offset, pathErr(err))
		}
		br.Reset(r.cnt)
		r.cnt.n.Store(offset)
	default:
		buf := make([]byte, 64<<10)
		for left := offset; left > 0; {
			m, err := r.src.Read(buf[:min(left, int64(len(buf)))])
			if m > 0 {
				prev[0] = buf[m-1]
				left -= int64(m)
			}
			if err != nil && (left > 0 || err != io.EOF) {
				return fmt.Errorf("cannot resume %s at byte %d: %w", r.in.Name, offset, pathErr(noEOF(err)))
			}
		}
	}
	r.off, r.lineNo = offset, line
	r.afterCR = prev[0] == '\r' // the saved line ended in "\r": a "\n" may follow
	return nil
}

func (r *Reader) closeFile() error {
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file = nil
	return err
}

// Close releases the file (stdin is left open). It is safe to call twice.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	var err error
	if r.gz != nil {
		err = r.gz.Close()
	}
	if cerr := r.closeFile(); cerr != nil {
		err = cerr
	}
	r.queue, r.pending, r.scratch = nil, nil, nil
	if err != nil {
		return fmt.Errorf("cannot close %s: %w", r.in.Name, pathErr(err))
	}
	return nil
}

// errClosed is returned by Next and Peek after Close.
var errClosed = errors.New("reader is closed")

// BytesRead is the number of bytes consumed from the underlying file so far (compressed
// bytes for gzip), safe to call from another goroutine (progress bars).
//
// It runs up to 64 KiB ahead of the lines delivered (read-ahead buffer).
func (r *Reader) BytesRead() int64 { return r.cnt.n.Load() }

// Stats after or during reading. Lines, Truncated and Binary count
// delivered lines (not those Peek has only looked at); Bytes counts what
// was read from the (decompressed) source.
func (r *Reader) Stats() Stats { return r.stats }

// Next returns the next chunk. At the end it returns (nil, io.EOF). If the input
// fails midway (truncated gzip, read error), it first returns every complete line read,
// then a non-EOF error naming the input and the line number reached
// (e.g. "auth.log.2.gz: truncated gzip stream after line 1234: unexpected EOF").
//
// A returned chunk holds at least one line. The error, once returned, is
// returned by every later call. A line cut short by the failure (no
// terminator yet) is not delivered.
func (r *Reader) Next() (*Chunk, error) {
	if r.closed {
		return nil, fmt.Errorf("%s: %w", r.in.Name, errClosed)
	}
	if len(r.queue) > 0 {
		q := r.queue[0]
		r.queue[0] = queued{}
		r.queue = r.queue[1:]
		r.deliver(q)
		return q.c, nil
	}
	if r.err != nil {
		return nil, r.err
	}
	q, ok := r.fill()
	if !ok {
		return nil, r.err
	}
	r.deliver(q)
	return q.c, nil
}

func (r *Reader) deliver(q queued) {
	r.stats.Lines += int64(len(q.c.Lines))
	r.stats.Truncated += q.truncated
	r.stats.Binary += q.binary
}

// Peek returns up to n of the first non-empty lines without consuming them (for format
// sniffing); they are delivered again by Next.
//
// "First" means from the current position: after some Next calls, Peek
// looks at the lines that follow. The slices alias chunk memory (immutable,
// like Line.B). Peek reads ahead at most max(4*ChunkSize, 4 MiB) bytes, so
// an input that starts with very many empty lines may yield fewer than n.
// It returns (lines, nil) when it found any line; otherwise (nil, io.EOF)
// for an input that ended cleanly, or (nil, err) for one that failed, the
// same error Next will return after the (empty) lines read before it.
func (r *Reader) Peek(n int) ([][]byte, error) {
	if r.closed {
		return nil, fmt.Errorf("%s: %w", r.in.Name, errClosed)
	}
	if n <= 0 {
		return nil, nil
	}
	limit := max(4*r.o.ChunkSize, 4<<20)
	out := make([][]byte, 0, min(n, 64))
	read := 0
	for i := 0; len(out) < n; i++ {
		if i == len(r.queue) {
			if r.err != nil || read >= limit {
				break
			}
			q, ok := r.fill()
			if !ok {
				break
			}
			r.queue = append(r.queue, q)
		}
		for _, ln := range r.queue[i].c.Lines {
			read += len(ln.B) + 1
			if len(ln.B) > 0 {
				out = append(out, ln.B)
				if len(out) == n {
					break
				}
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	return nil, r.err
}

// fill produces the next chunk. When the source is done it sets r.err
// (io.EOF or the failure) and returns false; the lines before the end have
// been returned by earlier calls.
func (r *Reader) fill() (queued, bool) {
	var (
		q     queued
		lines = r.scratch[:0]
		buf   []byte
	)
	for {
		if r.rerr != nil {
			r.err = r.finalErr()
			r.pending = nil
			return q, false
		}
		size := max(r.o.ChunkSize, 2*len(r.pending))
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		n := copy(buf, r.pending)
		r.pending = nil
		n = r.read(buf, n)
		data := buf[:n]
		base := r.off // offset of data[0]
		r.off = base + int64(n)
		pos := 0
		if r.afterCR && n > 0 {
			r.afterCR = false
			if data[0] == '\n' {
				pos = 1
			}
		}
		if r.skipping {
			t := indexTerm(data[pos:])
			switch {
			case t >= 0:
				r.keepEnd(data[pos : pos+t])
				end := r.endTerm(data, pos+t)
				r.emitCut(&lines, &q, base+int64(end))
				pos = end
			case r.rerr == nil:
				r.keepEnd(data[pos:])
				continue // nothing in buf is referenced: reuse it
			default:
				r.keepEnd(data[pos:])
				if r.rerr == io.EOF && !r.holdPartial() { // the last line, without terminator
					r.emitCut(&lines, &q, base+int64(n))
				}
				r.skipping, r.cutHead, r.cutEnd = false, nil, nil
				pos = n
			}
		}
		pos = r.split(data, pos, base, &lines, &q)
		tail := data[pos:]
		switch {
		case r.rerr == io.EOF:
			if len(tail) > 0 && !r.holdPartial() { // a last line without terminator
				r.emit(tail, &lines, &q, base+int64(n))
			}
		case r.rerr != nil:
			// A line cut by the failure is not a complete line: drop it.
		case len(tail) > r.o.MaxLine:
			// No terminator within MaxLine+1 bytes: keep the head, drop the
			// rest up to the next terminator but for its last bytes.
			k := CutTail(r.o.MaxLine)
			r.cutHead = append(make([]byte, 0, r.o.MaxLine), tail[:r.o.MaxLine-k]...)
			r.cutEnd = make([]byte, 0, k)
			r.keepEnd(tail)
			r.skipping = true
		default:
			r.pending = tail
			r.off = base + int64(pos)
		}
		if len(lines) > 0 {
			q.c = &Chunk{Lines: make([]Line, len(lines))}
			copy(q.c.Lines, lines)
			clear(lines) // do not pin this chunk's buffer from the scratch
			r.scratch = lines[:0]
			return q, true
		}
		if len(r.pending) > 0 {
			buf = nil // pending aliases buf: the next round copies it into a new one
		}
	}
}

// read fills buf[n:] from the source until it is full or the source
// returns an error (kept in r.rerr), and returns the new length.
func (r *Reader) read(buf []byte, n int) int {
	for empty := 0; n < len(buf); {
		m, err := r.src.Read(buf[n:])
		n += m
		r.stats.Bytes += int64(m)
		if err != nil {
			r.rerr = err
			break
		}
		if m == 0 {
			if empty++; empty >= 100 {
				r.rerr = io.ErrNoProgress
				break
			}
		}
	}
	return n
}

// finalErr is the error Next returns once the source is done.
func (r *Reader) finalErr() error {
	if r.rerr == io.EOF {
		return io.EOF
	}
	what := "read error"
	if r.xz {
		what = "corrupt xz stream"
		if errors.Is(r.rerr, io.ErrUnexpectedEOF) {
			what = "truncated xz stream"
		}
	}
	if r.gz != nil {
		var corrupt flate.CorruptInputError
		switch {
		case errors.Is(r.rerr, io.ErrUnexpectedEOF):
			what = "truncated gzip stream"
		case errors.Is(r.rerr, gzip.ErrChecksum):
			what = "corrupt gzip stream (checksum mismatch)"
		case errors.Is(r.rerr, gzip.ErrHeader):
			what = "corrupt gzip header"
		case errors.Is(r.rerr, errTrailing):
			what = "trailing garbage"
		case errors.As(r.rerr, &corrupt):
			what = "corrupt gzip stream"
		}
	}
	return fmt.Errorf("%s: %s after line %d: %w", r.in.Name, what, r.lineNo, pathErr(r.rerr))
}

// indexTerm is the index of the first '\n' or '\r' in b, or -1.
func indexTerm(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.IndexByte(b, '\r')
	}
	if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
		return j
	}
	return i
}

// endTerm consumes the terminator at data[t] and returns the position after
// it. A '\r' at the end of data may be the first half of "\r\n": afterCR
// makes the next buffer drop a leading '\n'.
func (r *Reader) endTerm(data []byte, t int) int {
	if data[t] == '\r' {
		if t+1 < len(data) {
			if data[t+1] == '\n' {
				t++
			}
		} else if r.rerr == nil {
			r.afterCR = true
		}
	}
	return t + 1
}

// split appends the lines terminated within data[pos:] and returns the
// start of the unterminated rest. Each byte is looked at once per kind of
// search ('\n', '\r', binary bytes): the next position of each is kept and
// searched again only once passed, so a file without '\r' costs one
// vectorised IndexByte pass over the whole buffer for '\r' and no more.
func (r *Reader) split(data []byte, pos int, base int64, lines *[]Line, q *queued) int {
	n := len(data)
	nextLF := indexFrom(data, pos, '\n')
	nextCR := indexFrom(data, pos, '\r')
	nextBin := binaryFrom(data, pos)
	maxLine := r.o.MaxLine
	ls := *lines
	for {
		t := min(nextLF, nextCR)
		if t == n {
			break
		}
		b := data[pos:t:t]
		if len(b) > maxLine {
			b = cutLine(b, maxLine)
			q.truncated++
			if binaryFrom(b, 0) < len(b) {
				q.binary++
			}
		} else if nextBin < t {
			q.binary++
		}
		r.lineNo++
		pos = r.endTerm(data, t)
		ls = append(ls, Line{B: b, N: r.lineNo, Off: base + int64(pos)})
		if nextLF < pos {
			nextLF = indexFrom(data, pos, '\n')
		}
		if nextCR < pos {
			nextCR = indexFrom(data, pos, '\r')
		}
		if nextBin < pos {
			nextBin = binaryFrom(data, pos)
		}
	}
	*lines = ls
	return pos
}

// keepEnd records b, the next bytes of a line being cut, keeping only the
// last CutTail bytes seen.
func (r *Reader) keepEnd(b []byte) {
	k := cap(r.cutEnd)
	if len(b) >= k {
		r.cutEnd = append(r.cutEnd[:0], b[len(b)-k:]...)
		return
	}
	if drop := len(r.cutEnd) + len(b) - k; drop > 0 {
		r.cutEnd = r.cutEnd[:copy(r.cutEnd, r.cutEnd[drop:])]
	}
	r.cutEnd = append(r.cutEnd, b...)
}

// emitCut appends the line being cut (head and end) and ends skipping.
func (r *Reader) emitCut(lines *[]Line, q *queued, off int64) {
	b := append(r.cutHead, r.cutEnd...)
	r.skipping, r.cutHead, r.cutEnd = false, nil, nil
	q.truncated++
	b = b[:len(b):len(b)]
	if binaryFrom(b, 0) < len(b) {
		q.binary++
	}
	r.lineNo++
	*lines = append(*lines, Line{B: b, N: r.lineNo, Off: off})
}

// holdPartial says a last line without terminator stays undelivered.
func (r *Reader) holdPartial() bool { return r.o.HoldPartial && r.gz == nil && !r.xz }

// emit appends b (no terminator in it) as a line, cut at MaxLine.
func (r *Reader) emit(b []byte, lines *[]Line, q *queued, off int64) {
	if len(b) > r.o.MaxLine {
		b = cutLine(b, r.o.MaxLine)
		q.truncated++
	}
	b = b[:len(b):len(b)]
	if binaryFrom(b, 0) < len(b) {
		q.binary++
	}
	r.lineNo++
	*lines = append(*lines, Line{B: b, N: r.lineNo, Off: off})
}

// indexFrom is the index of the first c in b[pos:] (as an index into b), or
// len(b).
func indexFrom(b []byte, pos int, c byte) int {
	if i := bytes.IndexByte(b[pos:], c); i >= 0 {
		return pos + i
	}
	return len(b)
}

// errTrailing is the error for bytes after a gzip member that do not start
// another member.
var errTrailing = errors.New("data after the last gzip member is not gzip")

// gzStream reads concatenated gzip members one by one, so that data after
// the last member (which compress/gzip would report as a corrupt or, when
// short, truncated header) is reported as trailing garbage instead.
type gzStream struct {
	br *bufio.Reader
	z  *gzip.Reader
}

func (g *gzStream) Read(p []byte) (int, error) {
	for {
		n, err := g.z.Read(p)
		if err != io.EOF {
			return n, err
		}
		magic, perr := g.br.Peek(2)
		switch {
		case len(magic) == 0 && perr == io.EOF:
			return n, io.EOF
		case len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b:
			if err := g.z.Reset(g.br); err != nil {
				return n, noEOF(err)
			}
			g.z.Multistream(false)
		case perr != nil && perr != io.EOF:
			return n, perr
		default:
			return n, errTrailing
		}
		if n > 0 {
			return n, nil
		}
	}
}

// noEOF turns io.EOF inside a gzip member into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
