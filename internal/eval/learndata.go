package eval

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// This file: reading labelled CSV data for the streaming learners
// (winnow learn hst|vfdt): type sniffing, nominal dictionaries, labels.

// Column is one feature column of a CSV stream.
type Column struct {
	Name    string
	Nominal bool
	Values  []string // nominal: the dictionary, in order of first sight
	index   map[string]int
	src     int // field index in the record
}

// CSVOptions configure a CSV stream.
type CSVOptions struct {
	// Label names the label column: a header name, or a 1-based column
	// number ("42"); negative numbers count from the end ("-1" is the last
	// column). Empty means the last column.
	Label string
	// Header: "auto" (default: the first row is a header when some column
	// is non-numeric there and numeric below), "yes" or "no".
	Header string
	// Ignore lists columns to drop (names or numbers as for Label).
	Ignore []string
	// Normal, if set, makes the label binary: rows whose label equals
	// Normal are class 0 (named Normal), every other row is class 1
	// ("anomaly").
	Normal string
	// Sniff is how many rows decide the column types (default 1000).
	Sniff int
	// MaxValues caps each nominal dictionary (default 4096); values beyond
	// it read as missing.
	MaxValues int
}

// CSVStream reads labelled rows one by one.
type CSVStream struct {
	Columns []Column // shared with streams made by NewCSVStreamLike
	Rows    int64    // data rows returned so far

	o         CSVOptions
	r         *csv.Reader
	buf       [][]string // sniffed rows not yet returned
	labelCol  int
	hadHeader bool
	labels    *labelDict
}

type labelDict struct {
	names []string
	index map[string]int
}

// Classes returns the label dictionary (class index → label).
func (s *CSVStream) Classes() []string { return s.labels.names }

// missing reports whether a field is a missing value.
func missing(s string) bool {
	return s == "" || s == "?" || s == "NA" || s == "NaN" || s == "nan" || s == "null"
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

// crReader turns lone CR line ends into LF (NSL-KDD's small CSVs use CR
// only; encoding/csv handles LF and CRLF).
type crReader struct {
	r      *bufio.Reader
	lastCR bool
}

func (c *crReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		b, err := c.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		switch {
		case b == '\r':
			p[n] = '\n'
			n++
			c.lastCR = true
			continue
		case b == '\n' && c.lastCR:
			c.lastCR = false
			continue
		}
		c.lastCR = false
		p[n] = b
		n++
	}
	return n, nil
}

// NewCSVStream reads the header (if any) and sniffs column types.
func NewCSVStream(r io.Reader, o CSVOptions) (*CSVStream, error) {
	if o.Sniff <= 0 {
		o.Sniff = 1000
	}
	if o.MaxValues <= 0 {
		o.MaxValues = 4096
	}
	if o.Header == "" {
		o.Header = "auto"
	}
	s := &CSVStream{o: o, r: newCSVReader(r), labels: &labelDict{index: map[string]int{}}}
	cr := s.r
	for len(s.buf) < o.Sniff+1 {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read CSV: %w", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(s.buf) == 0 && len(rec) > 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
		}
		s.buf = append(s.buf, rec)
	}
	if len(s.buf) == 0 {
		return nil, errors.New("cannot read CSV: no rows")
	}
	width := len(s.buf[0])
	var header []string
	switch o.Header {
	case "yes":
		header, s.buf = s.buf[0], s.buf[1:]
	case "no":
	case "auto":
		if hasHeader(s.buf) {
			header, s.buf = s.buf[0], s.buf[1:]
		}
	default:
		return nil, fmt.Errorf("header %q: want auto, yes or no", o.Header)
	}
	s.hadHeader = header != nil
	names := make([]string, width)
	for i := range names {
		names[i] = "c" + strconv.Itoa(i+1)
		if i < len(header) && strings.TrimSpace(header[i]) != "" {
			names[i] = strings.TrimSpace(header[i])
		}
	}
	var err error
	if s.labelCol, err = columnIndex(o.Label, names, width-1); err != nil {
		return nil, fmt.Errorf("label column: %w", err)
	}
	drop := map[int]bool{s.labelCol: true}
	for _, ig := range o.Ignore {
		i, err := columnIndex(ig, names, -1)
		if err != nil {
			return nil, fmt.Errorf("ignored column: %w", err)
		}
		drop[i] = true
	}
	for i, n := range names {
		if drop[i] {
			continue
		}
		nominal := false
		for _, rec := range s.buf {
			if i < len(rec) && !missing(strings.TrimSpace(rec[i])) && !isNumber(rec[i]) {
				nominal = true
				break
			}
		}
		s.Columns = append(s.Columns, Column{Name: n, Nominal: nominal, src: i, index: map[string]int{}})
	}
	if len(s.Columns) == 0 {
		return nil, errors.New("no feature columns besides the label")
	}
	if o.Normal != "" {
		s.labels.names = []string{o.Normal, "anomaly"}
	}
	return s, nil
}

func newCSVReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(&crReader{r: bufio.NewReaderSize(r, 1<<16)})
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	return cr
}

// NewCSVStreamLike reads r with like's layout (header, label and feature
// columns, types) and shares its dictionaries, so that a test file's
// nominal values and labels get the training file's indices.
func NewCSVStreamLike(r io.Reader, like *CSVStream) (*CSVStream, error) {
	s := &CSVStream{o: like.o, r: newCSVReader(r), labelCol: like.labelCol, hadHeader: like.hadHeader,
		labels: like.labels, Columns: like.Columns}
	if s.hadHeader {
		if _, err := s.r.Read(); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("cannot read CSV: %w", err)
		}
	}
	return s, nil
}

// hasHeader: some column is non-numeric in the first row and numeric in
// most rows below, or every field of the first row is non-numeric text
// and the rows below differ from it in some numeric column.
func hasHeader(rows [][]string) bool {
	if len(rows) < 2 {
		return false
	}
	first := rows[0]
	for i, f := range first {
		if isNumber(f) || missing(strings.TrimSpace(f)) {
			continue
		}
		num, n := 0, 0
		for _, r := range rows[1:] {
			if i < len(r) && !missing(strings.TrimSpace(r[i])) {
				n++
				if isNumber(r[i]) {
					num++
				}
			}
		}
		if n > 0 && num*10 >= n*9 {
			return true
		}
	}
	return false
}

// columnIndex resolves a column reference: a name, a 1-based number, a
// negative number from the end; "" gives def.
func columnIndex(ref string, names []string, def int) (int, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		if def < 0 {
			return 0, errors.New("empty column reference")
		}
		return def, nil
	}
	for i, n := range names {
		if n == ref {
			return i, nil
		}
	}
	if k, err := strconv.Atoi(ref); err == nil {
		switch {
		case k >= 1 && k <= len(names):
			return k - 1, nil
		case k < 0 && -k <= len(names):
			return len(names) + k, nil
		}
	}
	return 0, fmt.Errorf("no column %q (columns: %s)", ref, strings.Join(names, ","))
}

// Next reads the next row into x (grown to len(Columns)): numeric values
// as numbers (NaN when missing or unparsable), nominal values as their
// dictionary index. It returns the class index, or io.EOF at the end. Rows
// without a label are skipped.
func (s *CSVStream) Next(x []float64) ([]float64, int, error) {
	for {
		var rec []string
		if len(s.buf) > 0 {
			rec, s.buf = s.buf[0], s.buf[1:]
		} else {
			r, err := s.r.Read()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return x, 0, io.EOF
				}
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					continue
				}
				return x, 0, fmt.Errorf("cannot read CSV: %w", err)
			}
			rec = r
		}
		if s.labelCol >= len(rec) {
			continue
		}
		label := strings.TrimSpace(rec[s.labelCol])
		if missing(label) {
			continue
		}
		y := s.class(label)
		x = x[:0]
		for i := range s.Columns {
			c := &s.Columns[i]
			v := math.NaN()
			if c.src < len(rec) {
				f := strings.TrimSpace(rec[c.src])
				if !missing(f) {
					if c.Nominal {
						v = s.nominal(c, f)
					} else if p, err := strconv.ParseFloat(f, 64); err == nil {
						v = p
					}
				}
			}
			x = append(x, v)
		}
		s.Rows++
		return x, y, nil
	}
}

func (s *CSVStream) class(label string) int {
	if s.o.Normal != "" {
		if label == s.o.Normal {
			return 0
		}
		return 1
	}
	if i, ok := s.labels.index[label]; ok {
		return i
	}
	s.labels.index[label] = len(s.labels.names)
	s.labels.names = append(s.labels.names, label)
	return len(s.labels.names) - 1
}

func (s *CSVStream) nominal(c *Column, v string) float64 {
	if i, ok := c.index[v]; ok {
		return float64(i)
	}
	if len(c.Values) >= s.o.MaxValues {
		return math.NaN()
	}
	c.index[v] = len(c.Values)
	c.Values = append(c.Values, v)
	return float64(len(c.Values) - 1)
}
