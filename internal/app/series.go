package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"winnow/internal/archive"
	"winnow/internal/detect"
	"winnow/internal/detect/outlier"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/pipeline"
	"winnow/internal/series"
	"winnow/internal/series/export"
	"winnow/internal/source"
)

// SeriesExportOptions configure 'winnow series export'.
type SeriesExportOptions struct {
	Args        []string // log files, globs, directories, "-"
	Metrics     []string // series metrics (default all)
	Resolutions string   // "1m:2880,30m:4032"
	Format      string   // csv or parquet ("" = from Output's extension, else csv)
	Output      string   // file; "" or "-" = stdout
	Scores      bool     // add the ensemble's anomaly score to the finest resolution
	MaxEntities int      // per metric and shard
	InputFormat string
	Year        int
	TZ          string
	Workers     int
	// Archive, if set, is read instead of Args (events of the window
	// [From, To)): the series of the archive's history.
	Archive  string
	From, To time.Time

	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// SeriesExport reads logs through the pipeline, keeps each entity's series
// of the chosen metrics at the chosen resolutions and writes them in long
// format (metric, entity_type, entity, step_seconds, timestamp, value,
// anomaly_score) as CSV or Parquet.
func SeriesExport(ctx context.Context, o SeriesExportOptions) (int, error) {
	if len(o.Args) == 0 && o.Archive == "" {
		return ExitUsage, usagef("no input: give log files, globs, directories or - for stdin, or --archive DIR")
	}
	if len(o.Args) > 0 && o.Archive != "" {
		return ExitUsage, usagef("give log inputs or --archive DIR, not both")
	}
	res, err := series.ParseResolutions(o.Resolutions)
	if err != nil {
		return ExitUsage, UsageError{err}
	}
	fs := o.Format
	if fs == "" {
		fs = "csv"
		if o.Output != "" && o.Output != "-" {
			if f, err := export.ParseFormat(o.Output); err == nil {
				fs = string(f)
			}
		}
	}
	format, err := export.ParseFormat(fs)
	if err != nil {
		return ExitUsage, UsageError{err}
	}
	if o.MaxEntities <= 0 {
		o.MaxEntities = 1000
	}
	var mu sync.Mutex
	var recs []outlier.Record
	specs, err := outlier.CollectSpecs(o.Metrics, res, o.MaxEntities, func(r outlier.Record) {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
	})
	if err != nil {
		return ExitUsage, UsageError{err}
	}
	var enabled []detect.Enabled
	for i := range specs {
		p, _ := detect.NewParams(&specs[i], nil)
		enabled = append(enabled, detect.Enabled{Spec: &specs[i], Params: p})
	}
	var inputs []source.Input
	var errs []error
	if o.Archive == "" {
		inputs, errs = source.Expand(o.Args)
		for _, err := range errs {
			fmt.Fprintf(o.Stderr, "winnow: error: %v\n", err)
		}
		if len(inputs) == 0 {
			return ExitInputErr, fmt.Errorf("no readable input")
		}
	} else if err := checkArchiveDir(o.Archive); err != nil {
		return ExitInputErr, err
	}
	loc := time.Local
	if o.TZ != "" {
		if loc, err = time.LoadLocation(o.TZ); err != nil {
			return ExitUsage, usagef("--tz %q: %v", o.TZ, err)
		}
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pcfg := pipeline.Config{Inputs: inputs, Stdin: o.Stdin, Formats: NewFormats(), InputFormat: o.InputFormat,
		Parse: parse.Options{Year: o.Year, Location: loc}, Detectors: enabled, Workers: workers}
	if o.Archive != "" {
		pcfg.Sources = []pipeline.EventSource{&archiveSource{opt: archive.ReadOptions{Dir: o.Archive, From: o.From, To: o.To, Location: loc}}}
	}
	p, err := pipeline.New(pcfg)
	if err != nil {
		return ExitUsage, UsageError{err}
	}
	run, err := p.Run(ctx, func(event.Alert) {})
	if err != nil {
		return ExitInputErr, err
	}
	rows, err := seriesRows(recs, o.Scores)
	if err != nil {
		return ExitInputErr, err
	}
	var w io.Writer = o.Stdout
	var f *os.File
	if o.Output != "" && o.Output != "-" {
		if f, err = os.Create(o.Output); err != nil {
			return ExitInputErr, fmt.Errorf("cannot create %s: %w", o.Output, err)
		}
		w = f
	}
	ew, err := export.NewWriter(w, format)
	if err == nil {
		err = ew.Write(rows)
		if cerr := ew.Close(); err == nil {
			err = cerr
		}
	}
	if f != nil {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("cannot write %s: %w", o.Output, cerr)
		}
	}
	if err != nil {
		return ExitInputErr, err
	}
	fmt.Fprintf(o.Stderr, "winnow: %d series, %d rows from %d events (%d lines)\n", len(recs), len(rows), run.Events, run.Lines)
	if run.InputError || len(errs) > 0 {
		return ExitInputErr, nil
	}
	return ExitOK, nil
}

// seriesRows flattens records into rows sorted by metric, entity,
// resolution and time; with scores, the finest resolution of every series
// is scored by the outlier ensemble (the configuration the series family
// uses for per-minute counts).
func seriesRows(recs []outlier.Record, scores bool) ([]export.Row, error) {
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if a.Metric != b.Metric {
			return a.Metric < b.Metric
		}
		if a.Entity != b.Entity {
			if a.Entity.Type != b.Entity.Type {
				return a.Entity.Type < b.Entity.Type
			}
			return a.Entity.Value < b.Entity.Value
		}
		return a.Resolution.Step < b.Resolution.Step
	})
	var rows []export.Row
	finest := map[string]time.Duration{}
	for _, r := range recs {
		if d, ok := finest[r.Metric]; !ok || r.Resolution.Step < d {
			finest[r.Metric] = r.Resolution.Step
		}
	}
	for _, r := range recs {
		var sc []float64
		if scores && r.Resolution.Step == finest[r.Metric] {
			var err error
			if sc, err = outlier.ScoreCounts(r.Times, r.Values); err != nil {
				return nil, err
			}
		}
		for i, t := range r.Times {
			row := export.Row{Metric: r.Metric, EntityType: r.Entity.Type.String(), Entity: r.Entity.Value,
				StepSeconds: int64(r.Resolution.Step / time.Second), Timestamp: t, Value: r.Values[i]}
			if sc != nil {
				s := sc[i]
				row.AnomalyScore = &s
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}
