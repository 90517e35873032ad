package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// Raw is an input opened as one byte stream (decompressed when it is
// gzip), for binary decoders such as packet captures: its first bytes
// (Head) are offered to the binary formats' magic before anything reads
// the input as text, and a matching decoder then reads Stream. This is how
// a pcap goes through the source layer like any other input.
//
// A Raw belongs to one goroutine, except BytesRead, which any goroutine
// may call (progress).
type Raw struct {
	file  *os.File
	cnt   atomic.Int64 // bytes taken from the file or stdin
	src   *bufio.Reader
	head  []byte
	gzErr error
}

// Streamer is a source whose bytes a decoder reads as one stream
// (optional capability): Stream returns the (decompressed) bytes from the
// start, and the source's records are not read.
type Streamer interface {
	Stream() io.Reader
}

var _ Streamer = (*Raw)(nil)

// rawCounter counts bytes into a Raw.
type rawCounter struct {
	r   io.Reader
	raw *Raw
}

func (c *rawCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.raw.cnt.Add(int64(n))
	return n, err
}

// gzipErrReader records a failure of the gzip stream (truncation,
// corruption) so that it is reported as an input error and not mistaken
// for a capture that merely ends inside a record.
type gzipErrReader struct {
	z   *gzip.Reader
	raw *Raw
}

func (g *gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		g.raw.gzErr = err
	}
	return n, err
}

// HeadLen is how many leading (decompressed) bytes Head holds at most.
const HeadLen = 64

// OpenRaw opens in as bytes and reads its first bytes (HeadLen at most,
// decompressed). For stdin and for pipes and devices (which cannot be
// reopened) it also returns replay, a reader that yields the input from
// its very first byte again, for a line reader to use when the
// input turns out not to be binary (nil for files: reopen them). raw is nil
// without an error when a gzip header is corrupt: the line reader reports
// that.
func OpenRaw(in Input, stdin io.Reader) (raw *Raw, replay io.Reader, err error) {
	raw = &Raw{}
	var base io.Reader
	var rec *bytes.Buffer
	if in.Name == StdinName {
		if stdin == nil {
			return nil, nil, fmt.Errorf("cannot open %s: no standard input", in.Name)
		}
		// Everything taken from stdin while sniffing is recorded so the
		// line reader can read it again.
		rec = &bytes.Buffer{}
		base = io.TeeReader(&rawCounter{r: stdin, raw: raw}, rec)
	} else {
		path := in.Path
		if path == "" {
			path = in.Name
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot open %s: %w", in.Name, err)
		}
		raw.file = f
		base = &rawCounter{r: f, raw: raw}
		if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
			// A pipe or device cannot be reopened: record what sniffing
			// takes so that the line reader can read it again.
			rec = &bytes.Buffer{}
			base = io.TeeReader(base, rec)
		}
	}
	br := bufio.NewReaderSize(base, 256<<10)
	magic, perr := br.Peek(2)
	raw.src = br
	if perr == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		z, zerr := gzip.NewReader(br)
		if zerr != nil {
			if rec == nil {
				raw.Close()
				return nil, nil, nil
			}
			return nil, replayOf(rec, stdinOr(in, stdin, raw)), nil
		}
		raw.src = bufio.NewReaderSize(&gzipErrReader{z: z, raw: raw}, 256<<10)
	}
	raw.head, _ = raw.src.Peek(HeadLen)
	if rec != nil {
		replay = replayOf(rec, stdinOr(in, stdin, raw))
	}
	return raw, replay, nil
}

// replayOf is stdin from its first byte: what was recorded, then the rest.
func replayOf(rec *bytes.Buffer, stdin io.Reader) io.Reader {
	if rec == nil {
		return stdin
	}
	return io.MultiReader(bytes.NewReader(rec.Bytes()), stdin)
}

// Head returns the first bytes (decompressed); valid until Stream is read.
func (r *Raw) Head() []byte { return r.head }

// Stream returns the bytes from the first one (Head included).
func (r *Raw) Stream() io.Reader { return r.src }

// BytesRead is the number of bytes taken from the file or stdin so far
// (compressed bytes for gzip); safe from any goroutine.
func (r *Raw) BytesRead() int64 { return r.cnt.Load() }

// DecompressErr is the gzip layer's failure (truncation, corruption), if
// any: a decoder that stopped early stopped because of it.
func (r *Raw) DecompressErr() error { return r.gzErr }

// Close releases the file (stdin is left open). Safe to call twice.
func (r *Raw) Close() error {
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file = nil
	return err
}

// stdinOr is what a replay continues with after the recorded bytes: stdin,
// or the rest of the pipe raw opened (whose file then stays open for the
// line reader; it is closed when the process ends or the pipe is drained).
func stdinOr(in Input, stdin io.Reader, raw *Raw) io.Reader {
	if in.Name == StdinName {
		return stdin
	}
	return raw.file
}
