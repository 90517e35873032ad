package pipeline

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync/atomic"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/source"
)

// Binary inputs (packet captures) take a separate path: the input is
// opened as a byte stream, its first bytes (after gzip decompression) are
// offered to the binary formats' Magic before anything looks at it as
// text, and a match is decoded by the format's Decoder straight into the
// same batches and merge as line inputs. Inputs that match no magic go on
// to the line path unchanged (a file is simply reopened; stdin is replayed
// from what was read).

// rawInput is an input opened as a byte stream.
type rawInput struct {
	file  *os.File
	cnt   atomic.Int64 // bytes taken from the file or stdin (progress)
	src   io.Reader    // decompressed bytes, head included
	gzErr error        // the gzip layer's failure, if any
}

// countingReader counts bytes into a rawInput.
type countingReader struct {
	r   io.Reader
	raw *rawInput
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.raw.cnt.Add(int64(n))
	return n, err
}

// gzipErrReader records a failure of the gzip stream (truncation,
// corruption) so that it is reported as an input error and not mistaken
// for a capture that merely ends inside a record.
type gzipErrReader struct {
	z   *gzip.Reader
	raw *rawInput
}

func (g *gzipErrReader) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		g.raw.gzErr = err
	}
	return n, err
}

// openRaw opens in as bytes and returns its first bytes (up to
// parse.MagicLen, decompressed). For stdin it also returns replay, a
// reader that yields stdin from its very first byte again, for the line
// path to use when the input is not binary.
func openRaw(in source.Input, stdin io.Reader) (raw *rawInput, head []byte, replay io.Reader, err error) {
	raw = &rawInput{}
	var base io.Reader
	var rec *bytes.Buffer
	if in.Name == source.StdinName {
		if stdin == nil {
			return nil, nil, nil, fmt.Errorf("cannot open %s: no standard input", in.Name)
		}
		// Everything taken from stdin while sniffing is recorded so the
		// line path can read it again.
		rec = &bytes.Buffer{}
		base = io.TeeReader(&countingReader{r: stdin, raw: raw}, rec)
	} else {
		path := in.Path
		if path == "" {
			path = in.Name
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("cannot open %s: %w", in.Name, err)
		}
		raw.file = f
		base = &countingReader{r: f, raw: raw}
	}
	br := bufio.NewReaderSize(base, 256<<10)
	magic, perr := br.Peek(2)
	raw.src = br
	if perr == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		z, zerr := gzip.NewReader(br)
		if zerr != nil {
			// Not ours to judge: the line path reports gzip problems.
			raw.close()
			return nil, nil, replayOf(rec, stdin), nil
		}
		raw.src = bufio.NewReaderSize(&gzipErrReader{z: z, raw: raw}, 256<<10)
	}
	pk := raw.src.(*bufio.Reader)
	head, _ = pk.Peek(parse.MagicLen)
	if in.Name == source.StdinName {
		replay = replayOf(rec, stdin)
	}
	return raw, head, replay, nil
}

// replayOf is stdin from its first byte: what was recorded, then the rest.
func replayOf(rec *bytes.Buffer, stdin io.Reader) io.Reader {
	if rec == nil {
		return stdin
	}
	return io.MultiReader(bytes.NewReader(rec.Bytes()), stdin)
}

func (raw *rawInput) close() {
	if raw.file != nil {
		raw.file.Close()
		raw.file = nil
	}
}

// sniffBinary decides whether in is a binary input. It returns the run
// ready to decode (r.decode set) when it is; otherwise stdin is what the
// line path must read for "-" (the replay of what sniffing consumed).
func (p *Pipeline) sniffBinary(r *inputRun, in source.Input) (binary bool, stdin io.Reader) {
	stdin = p.cfg.Stdin
	if !p.cfg.Formats.HasBinary() {
		return false, stdin
	}
	var forced parse.Format
	if p.cfg.InputFormat != "" {
		fm, _ := p.cfg.Formats.Get(p.cfg.InputFormat)
		if !fm.Binary() {
			return false, stdin
		}
		forced = fm
	}
	raw, head, replay, err := openRaw(in, p.cfg.Stdin)
	if err != nil {
		r.stats.Err = err
		return true, nil
	}
	if replay != nil {
		stdin = replay
	}
	if raw == nil {
		return false, stdin
	}
	fm, ok := forced, forced.Decode != nil
	if !ok {
		fm, ok = p.cfg.Formats.DetectBinary(head)
	}
	if !ok {
		raw.close()
		return false, stdin
	}
	r.raw = raw
	r.decode = fm.Decode
	r.stats.Format = fm.Name
	return true, stdin
}

// readBinary decodes a binary input into batches on st.out.
func (r *inputRun) readBinary(ctx context.Context, st *stream, o parse.Options) {
	defer close(st.out)
	defer r.done.Store(true)
	defer r.raw.close()
	batch := st.get()
	errStop := errors.New("stopped")
	emit := func(ev *event.Event) error {
		if r.skip > 0 { // taken by an earlier run (Resume)
			r.skip--
			return nil
		}
		ev.Sensor = r.sensor()
		batch = append(batch, *ev)
		if len(batch) >= batchSize {
			if !send(ctx, st.out, batch) {
				return errStop
			}
			batch = st.get()
		}
		return nil
	}
	ds, err := r.decode(r.raw.src, r.in.Name, o, emit)
	if ds.Lines {
		r.stats.Lines = ds.Records // a text stream decoded as a whole (audit logs)
	} else {
		r.stats.Records = ds.Records
	}
	r.stats.Events = ds.Events
	r.stats.Malformed = ds.Malformed
	r.stats.Skipped = ds.Skipped
	r.stats.Detail = ds.Detail
	for _, s := range ds.Samples {
		if len(r.stats.Samples) < r.samples {
			r.stats.Samples = append(r.stats.Samples, s)
		}
	}
	switch {
	case errors.Is(err, errStop):
		return
	case r.raw.gzErr != nil:
		r.stats.Err = fmt.Errorf("%s: corrupt or truncated gzip stream after record %d: %w", r.in.Name, ds.Records, r.raw.gzErr)
	case err != nil:
		r.stats.Err = fmt.Errorf("%s: %w", r.in.Name, err)
	}
	if len(batch) > 0 {
		send(ctx, st.out, batch)
	}
}

// DetailNames returns the keys of a Detail map, sorted (for reports).
func DetailNames(d map[string]int64) []string {
	out := make([]string, 0, len(d))
	for k := range d {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
