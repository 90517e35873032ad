// Package export writes time series as CSV or Parquet in a long ("tidy")
// layout, one row per entity, metric, resolution and bucket, which pandas
// (read_csv / read_parquet), Spark, DuckDB and Trino read as is.
package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// Row is one bucket of one series.
type Row struct {
	Metric      string    `parquet:"metric,dict"`
	EntityType  string    `parquet:"entity_type,dict"`
	Entity      string    `parquet:"entity,dict"`
	StepSeconds int64     `parquet:"step_seconds"`
	Timestamp   time.Time `parquet:"timestamp,timestamp(millisecond)"`
	Value       float64   `parquet:"value"`
	// AnomalyScore is the outlier ensemble's score of the bucket when
	// known (NaN otherwise; null in Parquet).
	AnomalyScore *float64 `parquet:"anomaly_score,optional"`
}

// Header is the CSV header.
var Header = []string{"metric", "entity_type", "entity", "step_seconds", "timestamp", "value", "anomaly_score"}

// Format is an output format.
type Format string

// Formats.
const (
	CSV     Format = "csv"
	Parquet Format = "parquet"
)

// ParseFormat parses "csv" or "parquet" (also from a file name's
// extension when s is a path).
func ParseFormat(s string) (Format, error) {
	l := strings.ToLower(s)
	switch {
	case l == "csv" || strings.HasSuffix(l, ".csv"):
		return CSV, nil
	case l == "parquet" || strings.HasSuffix(l, ".parquet"):
		return Parquet, nil
	}
	return "", fmt.Errorf("format %q: want csv or parquet", s)
}

// Writer writes rows in one format. Close must be called.
type Writer interface {
	Write(rows []Row) error
	Close() error
}

// NewWriter returns a writer of format f to w.
func NewWriter(w io.Writer, f Format) (Writer, error) {
	switch f {
	case CSV:
		bw := bufio.NewWriterSize(w, 64<<10)
		cw := csv.NewWriter(bw)
		if err := cw.Write(Header); err != nil {
			return nil, err
		}
		return &csvWriter{bw: bw, cw: cw}, nil
	case Parquet:
		return &parquetWriter{w: parquet.NewGenericWriter[Row](w, parquet.CreatedBy("winnow", "series-export", ""))}, nil
	}
	return nil, fmt.Errorf("format %q: want csv or parquet", f)
}

type csvWriter struct {
	bw  *bufio.Writer
	cw  *csv.Writer
	rec [7]string
}

func (c *csvWriter) Write(rows []Row) error {
	for i := range rows {
		r := &rows[i]
		c.rec[0], c.rec[1], c.rec[2] = r.Metric, r.EntityType, r.Entity
		c.rec[3] = strconv.FormatInt(r.StepSeconds, 10)
		c.rec[4] = r.Timestamp.UTC().Format(time.RFC3339)
		c.rec[5] = strconv.FormatFloat(r.Value, 'g', -1, 64)
		c.rec[6] = ""
		if r.AnomalyScore != nil {
			c.rec[6] = strconv.FormatFloat(*r.AnomalyScore, 'g', 6, 64)
		}
		if err := c.cw.Write(c.rec[:]); err != nil {
			return fmt.Errorf("cannot write CSV: %w", err)
		}
	}
	return nil
}

func (c *csvWriter) Close() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return fmt.Errorf("cannot write CSV: %w", err)
	}
	return c.bw.Flush()
}

type parquetWriter struct{ w *parquet.GenericWriter[Row] }

func (p *parquetWriter) Write(rows []Row) error {
	if _, err := p.w.Write(rows); err != nil {
		return fmt.Errorf("cannot write Parquet: %w", err)
	}
	return nil
}

func (p *parquetWriter) Close() error {
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("cannot write Parquet: %w", err)
	}
	return nil
}
