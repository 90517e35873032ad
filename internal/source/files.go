package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// Files is a finite Source over resolved inputs (Expand's result: files,
// globs, directories, "-"), read one after the other to their end with the
// batch Reader: gzip and xz are recognised by their magic bytes, long lines
// are cut, binary lines counted. An input that cannot be opened or fails
// midway is recorded (Errs) and reading goes on with the next; the source
// ends with io.EOF after the last. Positions name the file (path and
// identity) and carry the offset and line after each batch.
type Files struct {
	name   string
	ins    []Input
	stdin  io.Reader
	o      Options
	i      int
	rd     *Reader
	cur    Position
	closed chan struct{}
	once   sync.Once
	mu     sync.Mutex
	errs   []error
	err    error
	stats  struct{ records, bytes, truncated atomic.Int64 }
}

var (
	_ Source = (*Files)(nil)
	_ Stater = (*Files)(nil)
)

// NewFiles reads ins in order (stdin is read for "-").
func NewFiles(name string, ins []Input, stdin io.Reader, o Options) *Files {
	return &Files{name: name, ins: ins, stdin: stdin, o: o, closed: make(chan struct{})}
}

// Name returns the source's name.
func (f *Files) Name() string { return f.name }

// Errs returns the problems met so far, one per input that could not be
// read completely.
func (f *Files) Errs() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.errs...)
}

// Stats returns the counters.
func (f *Files) Stats() SourceStats {
	return SourceStats{Records: f.stats.records.Load(), Bytes: f.stats.bytes.Load(), Truncated: f.stats.truncated.Load()}
}

// Close ends reading.
func (f *Files) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

func (f *Files) fail(err error) {
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
}

// Next returns the next chunk of lines of the current input.
func (f *Files) Next(ctx context.Context) (Batch, error) {
	for {
		if f.err != nil {
			return Batch{}, f.err
		}
		select {
		case <-f.closed:
			if f.rd != nil {
				f.rd.Close()
				f.rd = nil
			}
			f.err = fmt.Errorf("cannot read %s: %w", f.name, ErrSourceClosed)
			return Batch{}, f.err
		default:
		}
		if err := ctx.Err(); err != nil {
			return Batch{}, err
		}
		if f.rd == nil {
			if f.i >= len(f.ins) {
				f.err = io.EOF
				return Batch{}, f.err
			}
			in := f.ins[f.i]
			f.i++
			rd, err := Open(in, f.stdin, f.o)
			if err != nil {
				f.fail(err)
				continue
			}
			f.rd = rd
			f.cur = Position{Source: f.name, Path: in.Path}
			if in.Path != "" {
				if fi, err := os.Stat(in.Path); err == nil {
					f.cur.ID = fileID(fi)
				}
			}
		}
		ch, err := f.rd.Next()
		if ch != nil && len(ch.Lines) > 0 {
			b := Batch{Records: make([]Record, len(ch.Lines)), Pos: f.cur}
			name := f.ins[f.i-1].Name
			var nb int64
			for i, ln := range ch.Lines {
				b.Records[i] = Record{B: ln.B, N: ln.N, File: name}
				nb += int64(len(ln.B))
			}
			last := ch.Lines[len(ch.Lines)-1]
			b.Pos.Offset, b.Pos.Line = last.Off, last.N
			f.stats.records.Add(int64(len(ch.Lines)))
			f.stats.bytes.Add(nb)
			if err != nil && !errors.Is(err, io.EOF) {
				f.fail(err)
				f.finish()
			}
			return b, nil
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				f.fail(err)
			}
			f.finish()
		}
	}
}

// finish closes the current input and counts what it cut.
func (f *Files) finish() {
	f.stats.truncated.Add(f.rd.Stats().Truncated)
	f.rd.Close()
	f.rd = nil
}
