package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Stream is a finite Source over an io.Reader: standard input, a pipe, a
// FIFO. Lines are split as Follow splits them ("\n" or "\r\n", cut at
// MaxLine and counted). It ends with io.EOF when the reader does; a read
// error ends it with that error. Positions carry the byte offset and line
// reached (a stream cannot be resumed, but a consumer may report them).
//
// A reader goroutine runs ahead by one buffer so that Next can honour its
// context and Close while a read blocks; Close does not close the reader
// (it may be os.Stdin), so that goroutine ends when the reader next returns.
type Stream struct {
	name   string
	in     chan streamRead
	closed chan struct{}
	once   sync.Once
	sp     splitter
	line   int64
	off    int64
	err    error
	stats  struct{ records, bytes, truncated atomic.Int64 }
}

type streamRead struct {
	b   []byte
	err error
}

var (
	_ Source = (*Stream)(nil)
	_ Stater = (*Stream)(nil)
)

// NewStream reads r under name (StdinName for standard input).
func NewStream(name string, r io.Reader, maxLine int) *Stream {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	s := &Stream{name: name, in: make(chan streamRead, 1), closed: make(chan struct{}), sp: splitter{max: maxLine}}
	go func() {
		for {
			buf := make([]byte, 256<<10)
			n, err := r.Read(buf)
			if n > 0 || err != nil {
				select {
				case s.in <- streamRead{b: buf[:n], err: err}:
				case <-s.closed:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.name }

// Stats returns the counters.
func (s *Stream) Stats() SourceStats {
	return SourceStats{Records: s.stats.records.Load(), Bytes: s.stats.bytes.Load(), Truncated: s.stats.truncated.Load()}
}

// Close stops reading.
func (s *Stream) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// Next returns the next complete lines.
func (s *Stream) Next(ctx context.Context) (Batch, error) {
	for {
		if s.err != nil {
			return Batch{}, s.err
		}
		select {
		case <-s.closed:
			s.err = fmt.Errorf("cannot read %s: %w", s.name, ErrSourceClosed)
			return Batch{}, s.err
		default:
		}
		var rd streamRead
		select {
		case rd = <-s.in:
		case <-ctx.Done():
			return Batch{}, ctx.Err()
		case <-s.closed:
			continue
		}
		before := s.sp.truncated
		recs, consumed := s.sp.feed(rd.b, nil, &s.line, "")
		if rd.err != nil && len(s.sp.pending) > 0 && !s.sp.skipping {
			// the last line has no terminator: deliver it
			s.line++
			last := append([]byte(nil), s.sp.pending...)
			consumed += int64(len(last))
			recs = append(recs, Record{B: last, N: s.line})
			s.sp.reset()
		}
		s.off += consumed
		s.stats.truncated.Add(s.sp.truncated - before)
		if rd.err != nil {
			if errors.Is(rd.err, io.EOF) {
				s.err = io.EOF
			} else {
				s.err = fmt.Errorf("cannot read %s: %w", s.name, rd.err)
			}
		}
		if len(recs) > 0 {
			var nb int64
			for _, r := range recs {
				nb += int64(len(r.B))
			}
			s.stats.records.Add(int64(len(recs)))
			s.stats.bytes.Add(nb)
			return Batch{Records: recs, Pos: Position{Source: s.name, Offset: s.off, Line: s.line}}, nil
		}
	}
}
