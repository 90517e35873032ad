// Package journald is a source.Source over the systemd journal: it runs
// `journalctl -o json -f` and turns each entry into the syslog line that
// `journalctl -o short-iso-precise` would print ("2026-11-22T10:11:48.123456+00:00
// host sshd[123]: message"), which winnow's line parsers read. Positions
// are journal cursors: Resume starts after the last one committed, so a
// restart neither loses nor repeats entries.
package journald

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"winnow/internal/source"
)

// Options configure a Source.
type Options struct {
	Name string // default "journald"
	// Command replaces journalctl (tests): argv, to which nothing is
	// appended. Default: journalctl -o json -f --no-pager, with -n 0 (only
	// new entries) or --after-cursor from Resume, and -u for each unit.
	Command []string
	Units   []string
	MaxLine int // longest entry kept, bytes of JSON (default 1 MiB)
}

// Source reads the journal.
type Source struct {
	o                                    Options
	name                                 string
	cursor                               string
	started                              bool
	cmd                                  *exec.Cmd
	out                                  io.ReadCloser
	lines                                chan result
	closed                               chan struct{}
	once                                 sync.Once
	mu                                   sync.Mutex // guards cmd and out against a concurrent Close
	err                                  error
	n                                    int64
	records, bytes, malformed, truncated atomic.Int64
	location                             *time.Location
}

type result struct {
	rec source.Record
	cur string
	err error
}

var (
	_ source.Source  = (*Source)(nil)
	_ source.Resumer = (*Source)(nil)
	_ source.Live    = (*Source)(nil)
	_ source.Stater  = (*Source)(nil)
)

// New returns a journal source; journalctl starts at the first Next.
func New(o Options) *Source {
	if o.Name == "" {
		o.Name = "journald"
	}
	if o.MaxLine <= 0 {
		o.MaxLine = 1 << 20
	}
	return &Source{o: o, name: o.Name, closed: make(chan struct{}), location: time.UTC}
}

// Name returns the source's name.
func (s *Source) Name() string { return s.name }

// Live reports true.
func (s *Source) Live() bool { return true }

// Resume continues after the cursor of the last position.
func (s *Source) Resume(ps []source.Position) error {
	for _, p := range ps {
		if p.Cursor != "" {
			s.cursor = p.Cursor
		}
	}
	return nil
}

// Stats returns the counters.
func (s *Source) Stats() source.SourceStats {
	return source.SourceStats{Records: s.records.Load(), Bytes: s.bytes.Load(), Malformed: s.malformed.Load(), Truncated: s.truncated.Load()}
}

func (s *Source) argv() []string {
	if len(s.o.Command) > 0 {
		return s.o.Command
	}
	a := []string{"journalctl", "-o", "json", "-f", "--no-pager"}
	if s.cursor != "" {
		a = append(a, "--after-cursor="+s.cursor)
	} else {
		a = append(a, "-n", "0")
	}
	for _, u := range s.o.Units {
		a = append(a, "-u", u)
	}
	return a
}

func (s *Source) start() error {
	argv := s.argv()
	s.cmd = exec.Command(argv[0], argv[1:]...)
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("cannot start %s: %w", argv[0], err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closed:
		return fmt.Errorf("cannot read %s: %w", s.name, source.ErrSourceClosed)
	default:
	}
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("cannot start %s: %w", argv[0], err)
	}
	s.out = out
	s.lines = make(chan result, 1024)
	go s.read(bufio.NewReaderSize(out, 64<<10))
	return nil
}

// read turns JSON entries into records until the command ends.
func (s *Source) read(br *bufio.Reader) {
	defer close(s.lines)
	var long bool
	var line []byte
	for {
		p, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(line)+len(p) <= s.o.MaxLine {
				line = append(line, p...)
			} else {
				long = true
			}
			continue
		}
		if len(p) > 0 && !long {
			line = append(line, p...)
		}
		if long {
			s.truncated.Add(1)
		} else if len(bytes.TrimSpace(line)) > 0 {
			rec, cur, ok := s.entry(line)
			if ok {
				select {
				case s.lines <- result{rec: rec, cur: cur}:
				case <-s.closed:
					return
				}
			} else {
				s.malformed.Add(1)
			}
		}
		line, long = line[:0], false
		if err != nil {
			werr := s.cmd.Wait()
			if werr == nil {
				werr = errors.New("journalctl exited")
			}
			select {
			case s.lines <- result{err: fmt.Errorf("cannot read the journal: %w", werr)}:
			case <-s.closed:
			}
			return
		}
	}
}

// Entry fields winnow uses. MESSAGE may be an array of bytes when it is
// not valid UTF-8.
type entry struct {
	Cursor   string          `json:"__CURSOR"`
	Realtime string          `json:"__REALTIME_TIMESTAMP"`
	Host     string          `json:"_HOSTNAME"`
	Ident    string          `json:"SYSLOG_IDENTIFIER"`
	Comm     string          `json:"_COMM"`
	PID      string          `json:"_PID"`
	SyslogPI string          `json:"SYSLOG_PID"`
	Message  json.RawMessage `json:"MESSAGE"`
}

// Line renders one journal JSON entry as a short-iso-precise syslog line;
// ok is false for an entry that is not valid JSON or has no time.
func Line(js []byte, loc *time.Location) (line []byte, cursor string, ok bool) {
	var e entry
	if json.Unmarshal(js, &e) != nil {
		return nil, "", false
	}
	us, err := strconv.ParseInt(e.Realtime, 10, 64)
	if err != nil {
		return nil, "", false
	}
	var msg []byte
	var str string
	if json.Unmarshal(e.Message, &str) == nil {
		msg = []byte(str)
	} else {
		var raw []byte
		var ints []int
		if json.Unmarshal(e.Message, &ints) == nil {
			for _, c := range ints {
				raw = append(raw, byte(c))
			}
		}
		msg = raw
	}
	msg = bytes.ReplaceAll(msg, []byte{'\n'}, []byte{' '})
	host := e.Host
	if host == "" {
		host = "localhost"
	}
	ident := e.Ident
	if ident == "" {
		ident = e.Comm
	}
	pid := e.SyslogPI
	if pid == "" {
		pid = e.PID
	}
	t := time.UnixMicro(us).In(loc)
	b := make([]byte, 0, 64+len(host)+len(ident)+len(msg))
	b = t.AppendFormat(b, "2006-01-02T15:04:05.000000-07:00")
	b = append(b, ' ')
	b = append(b, host...)
	b = append(b, ' ')
	if ident != "" {
		b = append(b, ident...)
		if pid != "" {
			b = append(b, '[')
			b = append(b, pid...)
			b = append(b, ']')
		}
		b = append(b, ':', ' ')
	}
	b = append(b, msg...)
	return b, e.Cursor, true
}

func (s *Source) entry(js []byte) (source.Record, string, bool) {
	line, cur, ok := Line(js, s.location)
	if !ok {
		return source.Record{}, "", false
	}
	return source.Record{B: line[:len(line):len(line)]}, cur, true
}

// Next returns the entries available now (at least one).
func (s *Source) Next(ctx context.Context) (source.Batch, error) {
	if s.err != nil {
		return source.Batch{}, s.err
	}
	select {
	case <-s.closed:
		s.err = fmt.Errorf("cannot read %s: %w", s.name, source.ErrSourceClosed)
		return source.Batch{}, s.err
	default:
	}
	if !s.started {
		s.started = true
		if err := s.start(); err != nil {
			s.err = err
			return source.Batch{}, err
		}
	}
	var b source.Batch
	b.Pos.Source = s.name
	take := func(r result, ok bool) error {
		if !ok {
			return io.ErrUnexpectedEOF
		}
		if r.err != nil {
			return r.err
		}
		s.n++
		r.rec.N = s.n
		b.Records = append(b.Records, r.rec)
		b.Pos.Cursor = r.cur
		s.records.Add(1)
		s.bytes.Add(int64(len(r.rec.B)))
		return nil
	}
	select {
	case r, ok := <-s.lines:
		if err := take(r, ok); err != nil {
			s.err = err
			return source.Batch{}, err
		}
	case <-ctx.Done():
		return source.Batch{}, ctx.Err()
	case <-s.closed:
		s.err = fmt.Errorf("cannot read %s: %w", s.name, source.ErrSourceClosed)
		return source.Batch{}, s.err
	}
	for len(b.Records) < 512 {
		select {
		case r, ok := <-s.lines:
			if err := take(r, ok); err != nil {
				s.err = err // returned by the next call
				return b, nil
			}
			continue
		default:
		}
		break
	}
	return b, nil
}

// Close stops journalctl.
func (s *Source) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		close(s.closed)
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
			if s.out != nil {
				s.out.Close()
			}
		}
	})
	return nil
}
