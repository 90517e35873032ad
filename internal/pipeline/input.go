package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/syslog"
	"winnow/internal/source"
)

// batchSize is the number of events per batch handed from a reader to the
// merge stage.
const batchSize = 1024

// sniffLines is how many leading lines format detection looks at.
const sniffLines = 32

// Sniffing past junk (see sniffLine): a line is a sample for format
// detection when it is at least minSampleLen bytes of text and was not
// cut. Until sniffLines samples are found, non-binary lines are held
// (at most maxHeldLines lines or maxHeldBytes bytes of samples, and
// maxHeldLong cut lines: more cut lines are dropped and counted as junk)
// and binary ones are dropped and counted; after maxSniffBytes without
// enough samples the format is decided on what was found.
const (
	minSampleLen  = 8
	maxHeldLines  = 4096
	maxHeldBytes  = 8 << 20
	maxHeldLong   = 16
	maxSniffBytes = 64 << 20
)

// nearlyAll is the share of malformed lines (of the lines that are
// records) at which an input counts as failed: it is not in the format
// it was read as.
const nearlyAll = 0.9

// ErrNotLog is wrapped by an input's error when the input is not a log
// winnow reads: binary data, an unknown format, or (nearly) every line
// malformed. For an input found by walking a directory (source.Input.Found)
// it is a note (InputStats.Note), not an error.
var ErrNotLog = errors.New("not a log winnow reads")

// maxSampleText caps the text of a malformed-line sample.
const maxSampleText = 300

// inputRun reads and parses one input.
type inputRun struct {
	in source.Input
	// The sensor that saw this input (Config.Sensor), resolved lazily.
	sensorOf   func(input, format string) *event.Sensor
	sensorVal  *event.Sensor
	sensorDone bool

	reader  *source.Reader
	parser  parse.Parser
	maxRep  int
	samples int
	stats   InputStats

	// Binary inputs (see binary.go): the raw stream and its decoder.
	raw    *source.Raw
	decode parse.Decoder

	// Line inputs whose first lines were junk (binary, cut): the format is
	// decided in read once enough text lines were seen (see sniffLine).
	sniffing  bool
	held      []source.Line // non-binary lines read while sniffing
	heldBytes int
	heldLong  int
	fit       [][]byte // the held lines fit for format detection
	sniffed   int64    // bytes looked at while sniffing
	records   int64    // lines parsed into events (before repeat expansion)
	opts      parse.Options
	maxLine   int
	pick      func(head [][]byte) (parse.Format, error)
	forced    bool // the format was forced (--input-format)

	done atomic.Bool // reading is over (or never started): progress counts it whole

	// Resumable runs: the offset and number of the last line read, and
	// how many leading events of a binary input to skip.
	lastOff, lastLine int64
	skip              int64
}

// fail records why the input is not read: an error, or for an input
// found in a directory that is not a log winnow reads, a note.
func (r *inputRun) fail(err error) {
	if r.in.Found && errors.Is(err, ErrNotLog) {
		r.stats.Note = err.Error()
		if !strings.HasSuffix(r.stats.Note, "skipped") {
			r.stats.Note += "; skipped"
		}
		return
	}
	r.stats.Err = err
}

// stopped reports whether the input was given up (error or note).
// sensor is the input's sensor (Config.Sensor), resolved once its format
// is known.
func (r *inputRun) sensor() *event.Sensor {
	if !r.sensorDone {
		r.sensorDone = true
		if r.sensorOf != nil {
			r.sensorVal = r.sensorOf(r.in.Name, r.stats.Format)
		}
	}
	return r.sensorVal
}

func (r *inputRun) stopped() bool { return r.stats.Err != nil || r.stats.Note != "" }

// openInput opens the input and picks its format. Failures are recorded in
// the stats (the run goes on with the other inputs).
func (p *Pipeline) openInput(in source.Input, start Mark) *inputRun {
	r := &inputRun{in: in, maxRep: p.cfg.MaxRepeat, samples: p.cfg.MalformedSamples, forced: p.cfg.InputFormat != "", sensorOf: p.cfg.Sensor}
	r.stats.Name = in.Name
	binary, stdin, from := p.sniffBinary(r, in)
	if binary {
		r.skip = start.Events
		return r
	}
	r.lastOff, r.lastLine = start.Offset, start.Line
	rd, err := source.Open(in, stdin, source.Options{MaxLine: p.cfg.MaxLine,
		Start: start.Offset, StartLine: start.Line, HoldPartial: p.cfg.Resume != nil, From: from})
	if err != nil {
		r.stats.Err = err
		return r
	}
	r.reader = rd
	head, err := rd.Peek(sniffLines)
	if err != nil && !errors.Is(err, io.EOF) {
		r.stats.Err = err
		return r
	}
	if len(head) == 0 {
		r.stats.Format = "empty"
		return r
	}
	r.opts = p.cfg.Parse
	r.opts.ModTime = in.ModTime
	if what, ok := source.BinaryMagic(head[0]); ok {
		r.fail(fmt.Errorf("%s: %w: binary data (%s); skipped", in.Name, ErrNotLog, what))
		return r
	}
	maxLine := p.cfg.MaxLine
	if maxLine <= 0 {
		maxLine = source.DefaultMaxLine
	}
	clean := true
	for _, ln := range head {
		if len(ln) >= maxLine || source.LooksBinary(ln) {
			clean = false
			break
		}
	}
	if !clean {
		// Junk first: sniff past it while reading (an attacker must not
		// hide a file behind a binary prefix).
		r.sniffing = true
		r.pick = p.pickFormat
		r.maxLine = maxLine
		return r
	}
	fm, err := p.pickFormat(head)
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", in.Name, err))
		return r
	}
	r.use(fm, head)
	return r
}

// use sets the input's format; head is the sample it was chosen on.
func (r *inputRun) use(fm parse.Format, head [][]byte) {
	r.stats.Format = fm.Name
	r.inferYear(head)
	r.parser = fm.New(r.opts)
}

// inferYear sets the year of RFC 3164 timestamps (which have none) from
// the input's first and last lines and its mtime, so that no event is
// dated after the file was last written (syslog.InferYear), and warns when
// that meant rolling back from the mtime's year. Only for uncompressed
// regular files (the last line is read from the end) and when --year was
// not given.
func (r *inputRun) inferYear(head [][]byte) {
	if r.opts.Year != 0 || r.opts.ModTime.IsZero() || r.in.Path == "" || r.in.Size <= 0 {
		return
	}
	tail := lastLines(r.in.Path, r.in.Size)
	for _, first := range head {
		for i := len(tail) - 1; i >= 0; i-- {
			year, rolled, ok := syslog.InferYear(first, tail[i], r.opts.ModTime, r.opts.Location)
			if !ok {
				continue
			}
			r.opts.Year = year
			if rolled {
				r.stats.Warnings = append(r.stats.Warnings, fmt.Sprintf(
					"%s: its RFC 3164 timestamps have no year; took %d for the first line so that the last (%s) is not after the file's modification time (%s); use --year to set it",
					r.in.Name, year, firstField(tail[i], 15), r.opts.ModTime.Format("2006-01-02 15:04")))
			}
			return
		}
	}
}

// lastLines returns the non-empty lines in the last 16 KiB of an
// uncompressed file (none for gzip or xz), last line last.
func lastLines(path string, size int64) [][]byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var magic [6]byte
	if n, _ := f.ReadAt(magic[:], 0); n >= 2 && (magic[0] == 0x1f && magic[1] == 0x8b || bytes.HasPrefix(magic[:n], []byte("\xfd7zXZ"))) {
		return nil
	}
	off := max(size-16<<10, 0)
	buf := make([]byte, size-off)
	n, _ := f.ReadAt(buf, off)
	buf = buf[:n]
	if off > 0 { // drop the partial first line
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	return bytes.FieldsFunc(buf, func(r rune) bool { return r == '\n' || r == '\r' })
}

// firstField returns at most n leading bytes of b as printable text.
func firstField(b []byte, n int) string {
	return sanitize(b[:min(n, len(b))])
}

func (p *Pipeline) pickFormat(head [][]byte) (parse.Format, error) {
	if p.cfg.InputFormat != "" {
		fm, _ := p.cfg.Formats.Get(p.cfg.InputFormat)
		if fm.Binary() {
			return fm, fmt.Errorf("%w: %w: not a %s input (its magic bytes do not match)", ErrNotLog, parse.ErrUnknownFormat, fm.Name)
		}
		return fm, nil
	}
	fm, err := p.cfg.Formats.Detect(head)
	if err != nil {
		return fm, fmt.Errorf("%w: %w", ErrNotLog, err)
	}
	return fm, nil
}

// stream carries one input's parsed batches, in file order, to the merge.
type stream struct {
	out  chan []event.Event
	free chan []event.Event
	idx  int       // index of the input in Config.Inputs; -1 for an EventSource
	run  *inputRun // nil for an EventSource
}

func newStream() *stream {
	return &stream{out: make(chan []event.Event, 4), free: make(chan []event.Event, 6), idx: -1}
}

func (s *stream) get() []event.Event {
	select {
	case b := <-s.free:
		return b[:0]
	default:
		return make([]event.Event, 0, batchSize)
	}
}

// recycle returns a consumed batch to its stream.
func (s *stream) recycle(b []event.Event) {
	clear(b)
	select {
	case s.free <- b[:0]:
	default:
	}
}

// read parses the whole input into batches on st.out and closes it.
func (r *inputRun) read(ctx context.Context, st *stream) {
	defer close(st.out)
	defer r.done.Store(true)
	if r.parser == nil && !r.sniffing { // empty input
		return
	}
	batch := st.get()
	var flush []event.Event
	defer func() {
		rs := r.reader.Stats()
		r.stats.Lines, r.stats.Truncated, r.stats.Binary = rs.Lines, rs.Truncated, rs.Binary
		r.checkMalformed()
		if len(batch) > 0 && flush == nil {
			send(ctx, st.out, batch)
		}
	}()
	add := func(ln *source.Line) bool {
		batch = r.parseLine(ln, batch)
		if len(batch) >= batchSize {
			if !send(ctx, st.out, batch) {
				flush = batch[:0] // cancelled: do not send again
				return false
			}
			batch = st.get()
		}
		return true
	}
	for {
		ch, err := r.reader.Next()
		if ch != nil {
			if n := len(ch.Lines); n > 0 {
				r.lastOff, r.lastLine = ch.Lines[n-1].Off, ch.Lines[n-1].N
			}
			for i := range ch.Lines {
				if r.sniffing {
					if !r.sniffLine(&ch.Lines[i]) {
						continue
					}
					if !r.decide(add) {
						return
					}
					continue
				}
				if !add(&ch.Lines[i]) {
					return
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.stats.Err = err
			}
			break
		}
	}
	if r.sniffing && !r.decide(add) {
		return
	}
}

// sniffLine takes one line while the format is not known yet: a binary
// line is dropped and counted, any other is held (and kept as a sample
// when fit). It reports whether enough was seen to decide.
func (r *inputRun) sniffLine(ln *source.Line) bool {
	r.sniffed += int64(len(ln.B)) + 1
	switch {
	case len(ln.B) == 0:
		r.stats.Skipped++
	case source.LooksBinary(ln.B):
		r.stats.Junk++
	case len(ln.B) >= r.maxLine: // cut: held, but not a sample
		if r.heldLong >= maxHeldLong {
			r.stats.Junk++
			break
		}
		r.heldLong++
		r.held = append(r.held, *ln)
	default:
		r.held = append(r.held, *ln)
		r.heldBytes += len(ln.B)
		if len(ln.B) >= minSampleLen {
			r.fit = append(r.fit, ln.B)
		}
	}
	return len(r.fit) >= sniffLines || len(r.held) >= maxHeldLines ||
		r.heldBytes >= maxHeldBytes || r.sniffed >= maxSniffBytes
}

// decide picks the format from what sniffing held and parses the held
// lines through add. It returns false when the input is given up.
func (r *inputRun) decide(add func(*source.Line) bool) bool {
	r.sniffing = false
	held, samples := r.held, r.fit
	r.held, r.fit = nil, nil
	if len(samples) == 0 {
		if r.stats.Junk > 0 {
			r.fail(fmt.Errorf("%s: %w: binary data (%d binary lines and no text line in the first %d bytes); skipped", r.in.Name, ErrNotLog, r.stats.Junk, r.sniffed))
			return false
		}
		for _, ln := range held {
			samples = append(samples, ln.B)
		}
	}
	fm, err := r.pick(samples)
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", r.in.Name, err))
		return false
	}
	r.use(fm, samples)
	for i := range held {
		if !add(&held[i]) {
			return false
		}
	}
	return true
}

// checkMalformed fails an input whose lines were (nearly) all malformed:
// it was not in the format it was read as.
func (r *inputRun) checkMalformed() {
	bad := r.stats.Malformed
	if bad == 0 || r.stopped() || float64(bad) < nearlyAll*float64(bad+r.records) {
		return
	}
	hint := "it is not in a format winnow reads"
	if r.forced {
		hint = "wrong --input-format?"
	}
	r.fail(fmt.Errorf("%s: %w: %d of %d lines are not %s lines (%s)", r.in.Name, ErrNotLog, bad, bad+r.records, r.stats.Format, hint))
}

func send(ctx context.Context, ch chan<- []event.Event, b []event.Event) bool {
	select {
	case ch <- b:
		return true
	case <-ctx.Done():
		return false
	}
}

// parseLine parses one line, appending its event(s) to batch.
func (r *inputRun) parseLine(ln *source.Line, batch []event.Event) []event.Event {
	if len(ln.B) == 0 {
		r.stats.Skipped++
		return batch
	}
	batch = append(batch, event.Event{})
	ev := &batch[len(batch)-1]
	if err := r.parser.Parse(ln.B, ev); err != nil {
		batch = batch[:len(batch)-1]
		r.reject(ln, err)
		return batch
	}
	ev.Ref = event.Ref{File: r.in.Name, Line: ln.N, Off: ln.Off}
	ev.Sensor = r.sensor()
	r.stats.Events++
	r.records++
	n := int(ev.Count)
	if n <= 1 {
		ev.Count = 1
		return batch
	}
	if n > r.maxRep {
		r.stats.RepeatCapped += int64(n - r.maxRep)
		n = r.maxRep
	}
	ev.Count = 1
	for k := 1; k < n; k++ {
		batch = append(batch, batch[len(batch)-1])
		r.stats.Events++
	}
	return batch
}

func (r *inputRun) reject(ln *source.Line, err error) {
	if errors.Is(err, parse.ErrSkip) {
		r.stats.Skipped++
		return
	}
	if source.LooksBinary(ln.B) {
		r.stats.Junk++ // binary junk among the lines: skipped and counted
		return
	}
	r.stats.Malformed++
	if len(r.stats.Samples) < r.samples {
		text := ln.B
		if len(text) > maxSampleText {
			text = text[:maxSampleText]
		}
		r.stats.Samples = append(r.stats.Samples, event.Sample{File: r.in.Name, Line: ln.N, Text: sanitize(text)})
	}
}

// sanitize makes a sample printable: control bytes become '.'.
func sanitize(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}
