package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/source"
)

// batchSize is the number of events per batch handed from a reader to the
// merge stage.
const batchSize = 1024

// sniffLines is how many leading lines format detection looks at.
const sniffLines = 32

// maxSampleText caps the text of a malformed-line sample.
const maxSampleText = 300

// inputRun reads and parses one input.
type inputRun struct {
	in      source.Input
	reader  *source.Reader
	parser  parse.Parser
	maxRep  int
	samples int
	stats   InputStats

	// Binary inputs (see binary.go): the raw stream and its decoder.
	raw    *rawInput
	decode parse.Decoder
}

// openInput opens the input and picks its format. Failures are recorded in
// the stats (the run goes on with the other inputs).
func (p *Pipeline) openInput(in source.Input) *inputRun {
	r := &inputRun{in: in, maxRep: p.cfg.MaxRepeat, samples: p.cfg.MalformedSamples}
	r.stats.Name = in.Name
	binary, stdin := p.sniffBinary(r, in)
	if binary {
		return r
	}
	rd, err := source.Open(in, stdin, source.Options{MaxLine: p.cfg.MaxLine})
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
	if source.LooksBinary(bytes.Join(head, []byte{'\n'})) {
		r.stats.Err = fmt.Errorf("%s: binary data, not a text log; skipped", in.Name)
		return r
	}
	fm, err := p.pickFormat(head)
	if err != nil {
		r.stats.Err = fmt.Errorf("%s: %w", in.Name, err)
		return r
	}
	r.stats.Format = fm.Name
	o := p.cfg.Parse
	o.ModTime = in.ModTime
	r.parser = fm.New(o)
	return r
}

func (p *Pipeline) pickFormat(head [][]byte) (parse.Format, error) {
	if p.cfg.InputFormat != "" {
		fm, _ := p.cfg.Formats.Get(p.cfg.InputFormat)
		if fm.Binary() {
			return fm, fmt.Errorf("%w: not a %s input (its magic bytes do not match)", parse.ErrUnknownFormat, fm.Name)
		}
		return fm, nil
	}
	return p.cfg.Formats.Detect(head)
}

// stream carries one input's parsed batches, in file order, to the merge.
type stream struct {
	out  chan []event.Event
	free chan []event.Event
}

func newStream() *stream {
	return &stream{out: make(chan []event.Event, 4), free: make(chan []event.Event, 6)}
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
	if r.parser == nil { // empty input
		return
	}
	batch := st.get()
	for {
		ch, err := r.reader.Next()
		if ch != nil {
			for i := range ch.Lines {
				batch = r.parseLine(&ch.Lines[i], batch)
				if len(batch) >= batchSize {
					if !send(ctx, st.out, batch) {
						return
					}
					batch = st.get()
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
	rs := r.reader.Stats()
	r.stats.Lines, r.stats.Truncated, r.stats.Binary = rs.Lines, rs.Truncated, rs.Binary
	if len(batch) > 0 {
		send(ctx, st.out, batch)
	}
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
	ev.Ref = event.Ref{File: r.in.Name, Line: ln.N}
	r.stats.Events++
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
