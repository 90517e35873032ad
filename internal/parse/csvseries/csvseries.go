// Package csvseries reads numeric time series in the Numenta Anomaly
// Benchmark (NAB) CSV shape: a header naming the columns, then one row per
// point, "timestamp,value" at least. Result files of NAB detectors add
// columns (anomaly_score, label, S(t)_standard, ...); every other numeric
// column is kept by name.
//
// Line endings may be LF, CRLF or CR alone. Fields may be wrapped in double
// quotes. Bad rows never stop a read: they are counted, the first few are
// sampled with their line numbers, and skipped. Only an unreadable input or
// a header without timestamp and value columns is an error.
//
// Timestamps: "2006-01-02 15:04:05" with optional fractional seconds (NAB),
// the same with a 'T', RFC 3339 with a zone, or Unix epoch seconds (or
// milliseconds, when the number is too large to be seconds). Timestamps
// without a zone are read as UTC.
package csvseries

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrNoHeader is returned when the first non-empty line does not name a
// timestamp and a value column.
var ErrNoHeader = errors.New("csvseries: header must name timestamp and value columns")

// MaxLine bounds a line's length; a longer line is counted as bad.
const MaxLine = 1 << 16

// BadRow is a skipped row with its 1-based line number.
type BadRow struct {
	Line int
	Text string
	Err  string
}

// Series is a whole file in memory.
type Series struct {
	Header []string    // column names as written
	Times  []time.Time // one per good row
	Values []float64   // the value column
	// Columns holds the other numeric columns by name (same length as
	// Times); a cell that does not parse is NaN.
	Columns map[string][]float64
	Bad     int      // rows skipped
	BadRows []BadRow // the first MaxBadSamples of them
	// Unordered counts rows whose timestamp is not after the previous
	// row's (kept in file order; NAB files have none).
	Unordered int
}

// MaxBadSamples is how many bad rows a Series keeps as samples.
const MaxBadSamples = 10

// Len is the number of points.
func (s *Series) Len() int { return len(s.Times) }

// Row is one parsed row of a streaming read.
type Row struct {
	Line  int
	Time  time.Time
	Value float64
	Extra []float64 // the other columns in Reader.Extra order; reused by Next
}

// Reader reads rows one by one.
type Reader struct {
	br      *bufio.Reader
	line    int
	ts, val int      // column indexes
	Header  []string // as written (trimmed, unquoted)
	Extra   []string // names of the other columns, in file order
	extraAt []int
	fields  [][]byte
	row     Row
	pending []byte
}

// NewReader reads the header and returns a Reader positioned at the first
// row. It fails with ErrNoHeader when the header lacks timestamp or value
// columns (matched case-insensitively), or with the input's read error.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, 64<<10), ts: -1, val: -1}
	for {
		line, err := rd.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, ErrNoHeader
			}
			return nil, err
		}
		line = bytes.TrimSpace(stripBOM(line))
		if len(line) == 0 {
			continue
		}
		rd.fields = splitFields(line, rd.fields[:0])
		for i, f := range rd.fields {
			name := string(f)
			rd.Header = append(rd.Header, name)
			switch strings.ToLower(name) {
			case "timestamp", "time", "date", "datetime":
				if rd.ts < 0 {
					rd.ts = i
					continue
				}
			case "value":
				if rd.val < 0 {
					rd.val = i
					continue
				}
			}
			rd.Extra = append(rd.Extra, name)
			rd.extraAt = append(rd.extraAt, i)
		}
		if rd.ts < 0 || rd.val < 0 {
			return nil, fmt.Errorf("%w (got %q)", ErrNoHeader, string(line))
		}
		rd.row.Extra = make([]float64, len(rd.extraAt))
		return rd, nil
	}
}

func stripBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }

// errLong marks a line longer than MaxLine.
var errLong = errors.New("line too long")

// readLine returns the next line without its terminator (LF, CRLF or CR).
// The slice is valid until the next call.
func (rd *Reader) readLine() ([]byte, error) {
	rd.pending = rd.pending[:0]
	long := false
	for {
		b, err := rd.br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) && (len(rd.pending) > 0 || long) {
				rd.line++
				if long {
					return nil, errLong
				}
				return rd.pending, nil
			}
			return nil, err
		}
		switch b {
		case '\n':
			rd.line++
			if long {
				return nil, errLong
			}
			return rd.pending, nil
		case '\r':
			if nb, err := rd.br.Peek(1); err == nil && nb[0] == '\n' {
				_, _ = rd.br.ReadByte()
			}
			rd.line++
			if long {
				return nil, errLong
			}
			return rd.pending, nil
		}
		if len(rd.pending) >= MaxLine {
			long = true
			continue
		}
		rd.pending = append(rd.pending, b)
	}
}

// Next returns the next good row. Bad rows are reported through bad (if
// non-nil) and skipped. At the end it returns io.EOF.
func (rd *Reader) Next(bad func(BadRow)) (*Row, error) {
	for {
		line, err := rd.readLine()
		if err != nil {
			if errors.Is(err, errLong) {
				if bad != nil {
					bad(BadRow{Line: rd.line, Err: err.Error()})
				}
				continue
			}
			return nil, err
		}
		trim := bytes.TrimSpace(line)
		if len(trim) == 0 {
			continue
		}
		if err := rd.parse(trim); err != nil {
			if bad != nil {
				text := string(trim)
				if len(text) > 200 {
					text = text[:200]
				}
				bad(BadRow{Line: rd.line, Text: text, Err: err.Error()})
			}
			continue
		}
		return &rd.row, nil
	}
}

func (rd *Reader) parse(line []byte) error {
	rd.fields = splitFields(line, rd.fields[:0])
	if rd.ts >= len(rd.fields) || rd.val >= len(rd.fields) {
		return fmt.Errorf("want %d columns, got %d", len(rd.Header), len(rd.fields))
	}
	t, err := ParseTime(rd.fields[rd.ts])
	if err != nil {
		return err
	}
	v, err := parseFloat(rd.fields[rd.val])
	if err != nil {
		return fmt.Errorf("bad value %q", rd.fields[rd.val])
	}
	rd.row.Line, rd.row.Time, rd.row.Value = rd.line, t, v
	for i, at := range rd.extraAt {
		x := math.NaN()
		if at < len(rd.fields) {
			if f, err := parseFloat(rd.fields[at]); err == nil {
				x = f
			}
		}
		rd.row.Extra[i] = x
	}
	return nil
}

// parseFloat parses a number; NaN and infinities are rejected (a detector
// cannot learn from them).
func parseFloat(b []byte) (float64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty")
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		// "1,5" style or garbage: not a number.
		return 0, err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("not finite")
	}
	return f, nil
}

// splitFields splits a line on commas, trimming spaces and one pair of
// surrounding double quotes per field. Commas inside quotes are kept.
func splitFields(line []byte, out [][]byte) [][]byte {
	start, inq := 0, false
	for i := 0; i <= len(line); i++ {
		if i < len(line) {
			c := line[i]
			if c == '"' {
				inq = !inq
				continue
			}
			if c != ',' || inq {
				continue
			}
		}
		f := bytes.TrimSpace(line[start:i])
		if len(f) >= 2 && f[0] == '"' && f[len(f)-1] == '"' {
			f = bytes.TrimSpace(f[1 : len(f)-1])
		}
		out = append(out, f)
		start = i + 1
	}
	return out
}

// ParseTime parses the timestamp forms the package accepts.
func ParseTime(b []byte) (time.Time, error) {
	if t, ok := parseNAB(b); ok {
		return t, nil
	}
	s := string(b)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02", "2006/01/02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && f >= 0 {
		if f > 1e11 { // milliseconds
			f /= 1000
		}
		if f < 1e11 {
			sec, frac := math.Modf(f)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q", truncate(s, 40))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// parseNAB parses "YYYY-MM-DD HH:MM:SS[.f…]" (or with 'T') as UTC without
// allocating.
func parseNAB(b []byte) (time.Time, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(p []byte) (int, bool) {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(b[0:4])
	mo, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	h, ok4 := num(b[11:13])
	mi, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	ns := 0
	rest := b[19:]
	if len(rest) > 0 {
		if rest[0] != '.' || len(rest) == 1 {
			return time.Time{}, false
		}
		digits := rest[1:]
		if len(digits) > 9 {
			return time.Time{}, false
		}
		n, ok := num(digits)
		if !ok {
			return time.Time{}, false
		}
		for i := len(digits); i < 9; i++ {
			n *= 10
		}
		ns = n
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)
	if t.Day() != d { // Feb 30 and friends
		return time.Time{}, false
	}
	return t, true
}

// FormatTime renders t in NAB's "2006-01-02 15:04:05" form (UTC).
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

// Read reads a whole series. It fails only on a read error or a missing
// header; bad rows are counted in the result.
func Read(r io.Reader) (*Series, error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	s := &Series{Header: rd.Header, Columns: make(map[string][]float64, len(rd.Extra))}
	extras := make([][]float64, len(rd.Extra))
	bad := func(b BadRow) {
		s.Bad++
		if len(s.BadRows) < MaxBadSamples {
			s.BadRows = append(s.BadRows, b)
		}
	}
	for {
		row, err := rd.Next(bad)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("cannot read series: %w", err)
		}
		if n := len(s.Times); n > 0 && !row.Time.After(s.Times[n-1]) {
			s.Unordered++
		}
		s.Times = append(s.Times, row.Time)
		s.Values = append(s.Values, row.Value)
		for i, x := range row.Extra {
			extras[i] = append(extras[i], x)
		}
	}
	for i, name := range rd.Extra {
		if _, dup := s.Columns[name]; !dup {
			s.Columns[name] = extras[i]
		}
	}
	return s, nil
}
