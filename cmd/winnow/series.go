package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot/vg"

	"winnow/internal/app"
	"winnow/internal/detect/outlier"
	"winnow/internal/eval"
	"winnow/internal/parse/csvseries"
	"winnow/internal/series/plot"
)

// newSeries is `winnow series`: detect, plot and export time series.
func newSeries() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "series",
		Short: "Outlier detection on numeric time series (NAB CSV format), plots and exports",
		Long: `Series works on timestamp,value CSV files (the Numenta Anomaly Benchmark
format): 'detect' scores every point with the outlier ensemble, 'plot' draws a
series with its anomaly score and labelled windows, 'export' writes the
per-entity series that 'winnow analyze' keeps as CSV or Parquet.`,
	}
	cmd.AddCommand(newSeriesDetect(), newSeriesPlot(), newSeriesExport(), newSeriesBackfill())
	return cmd
}

// ensembleFlags binds the ensemble's settings.
type ensembleFlags struct {
	mode      string
	detectors []string
}

func (f *ensembleFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.mode, "mode", "calibrated", "ensemble: calibrated (adaptive weights, warm-up, suppression) or consensus (Skyline's voting)")
	cmd.Flags().StringSliceVar(&f.detectors, "detectors", nil, "detectors to combine (default all): "+strings.Join(outlier.SpecNames(), ","))
}

func (f *ensembleFlags) config() (outlier.EnsembleConfig, error) {
	c := outlier.DefaultEnsembleConfig()
	m, err := outlier.ParseMode(f.mode)
	if err != nil {
		return c, app.UsageError{Err: err}
	}
	c.Mode, c.Detectors = m, f.detectors
	if err := c.Validate(); err != nil {
		return c, app.UsageError{Err: err}
	}
	return c, nil
}

func newSeriesDetect() *cobra.Command {
	var out string
	var ef ensembleFlags
	var quiet bool
	cmd := &cobra.Command{
		Use:   "detect FILE.csv|DIR --out DIR",
		Short: "Score every point of timestamp,value CSVs; write timestamp,value,anomaly_score CSVs",
		Long: `Detect reads a timestamp,value CSV (or every *.csv below a directory), runs
the outlier ensemble over each series (one configuration for every series)
and writes timestamp,value,anomaly_score CSVs under --out, mirroring the
input tree: the format NAB's scorer and 'winnow eval nab' read.`,
		Example: `  winnow series detect ../shared/data/nab/data --out results/winnow
  winnow eval nab --data ../shared/data/nab/data --labels ../shared/data/nab/labels/combined_windows.json --results results/winnow`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return app.UsageError{Err: fmt.Errorf("--out DIR is required")}
			}
			cfg, err := ef.config()
			if err != nil {
				return err
			}
			points, files, bad := 0, 0, 0
			_, err = outlier.DetectTree(args[0], out, cfg, func(r outlier.FileReport) {
				files++
				points += r.Points
				bad += r.Bad
				for _, b := range r.BadRows {
					fmt.Fprintf(os.Stderr, "winnow: %s:%d: skipped: %s\n", r.In, b.Line, b.Err)
				}
				if !quiet {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d points, %d at score ≥ %.1f\n", r.Out, r.Points, r.Alerts, outlier.AlertLevel)
				}
			})
			if !quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "winnow: scored %d files, %d points (%d malformed rows skipped) into %s\n", files, points, bad, out)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output directory (required)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no per-file lines on stderr")
	ef.bind(cmd)
	return cmd
}

func newSeriesPlot() *cobra.Command {
	var out, labelsPath string
	var threshold float64
	var width, height float64
	var ef ensembleFlags
	cmd := &cobra.Command{
		Use:   "plot FILE.csv",
		Short: "Draw a series with its anomaly score and labelled windows (PNG or SVG)",
		Long: `Plot draws the series and, below it, its anomaly score: the file's
anomaly_score column when it has one (a 'series detect' or NAB results file),
else the ensemble's score computed now. --labels shades the file's labelled
anomaly windows (NAB's combined_windows.json, matched by path).`,
		Example: `  winnow series plot ../shared/data/nab/data/realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv \
      --labels ../shared/data/nab/labels/combined_windows.json -o cpu.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := ef.config()
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("cannot open series: %w", err)
			}
			s, err := csvseries.Read(f)
			f.Close()
			if err != nil {
				return err
			}
			in := plot.Input{Title: filepath.Base(args[0]), Times: s.Times, Values: s.Values, Threshold: threshold}
			if sc, ok := s.Columns[eval.ScoreColumn]; ok {
				in.Scores = sc
			} else if in.Scores, err = outlier.ScoreSeries(cfg, s.Times, s.Values); err != nil {
				return err
			}
			if labelsPath != "" {
				l, err := eval.ReadLabelsFile(labelsPath)
				if err != nil {
					return err
				}
				if _, ws, ok := l.Find(args[0]); ok {
					for _, w := range ws {
						in.Windows = append(in.Windows, plot.Window{Start: w.Start, End: w.End})
					}
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "winnow: no labels for %s in %s\n", args[0], labelsPath)
				}
			}
			if out == "" {
				out = strings.TrimSuffix(filepath.Base(args[0]), filepath.Ext(args[0])) + ".png"
			}
			w, err := os.Create(out)
			if err != nil {
				return fmt.Errorf("cannot create plot: %w", err)
			}
			err = plot.Write(w, in, plot.FormatOf(out), vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch)
			if cerr := w.Close(); err == nil && cerr != nil {
				err = fmt.Errorf("cannot write plot: %w", cerr)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "winnow: wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file, .png or .svg (default <name>.png)")
	cmd.Flags().StringVar(&labelsPath, "labels", "", "NAB combined_windows.json: shade the file's labelled windows")
	cmd.Flags().Float64Var(&threshold, "threshold", outlier.AlertLevel, "draw this score threshold and mark the points at or above it (0 = none)")
	cmd.Flags().Float64Var(&width, "width", 12, "width in inches")
	cmd.Flags().Float64Var(&height, "height", 6, "height in inches")
	ef.bind(cmd)
	return cmd
}

func newSeriesExport() *cobra.Command {
	var o app.SeriesExportOptions
	cmd := &cobra.Command{
		Use:   "export [flags] FILE|GLOB|DIR|- ...",
		Short: "Write the per-entity series winnow keeps from logs as CSV or Parquet",
		Long: `Export reads logs as 'winnow analyze' does, keeps every entity's series of
the chosen metrics ('winnow detectors' lists them as series.<metric>) at the
chosen resolutions, and writes them in long format — metric, entity_type,
entity, step_seconds, timestamp, value, anomaly_score — as CSV or Parquet,
for pandas (read_csv/read_parquet), Spark, DuckDB or Trino. --scores fills
anomaly_score at the finest resolution with the outlier ensemble's score.`,
		Example: `  winnow series export --metric failed_logins_by_source --scores -o failed.parquet /var/log/auth.log*
  winnow series export --archive arch/ --from 2026-01-01T00:00:00Z --metric failed_logins_by_host -o history.parquet
  winnow series export --resolution 1m:1440 --format csv auth.log > series.csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			o.Stdin, o.Stdout, o.Stderr = os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
			code, err := app.SeriesExport(cmd.Context(), o)
			if err == nil && code != 0 {
				return fmt.Errorf("some input could not be read")
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Metrics, "metric", nil, "metrics to export (default all): "+strings.Join(outlier.MetricNames(), ","))
	f.StringVar(&o.Resolutions, "resolution", "1m:2880,30m:4032", "resolutions as STEP:STEPS (ring buffers per entity)")
	f.StringVar(&o.Format, "format", "", "csv or parquet (default: from --output's extension, else csv)")
	f.StringVarP(&o.Output, "output", "o", "-", "output file (- = stdout)")
	f.BoolVar(&o.Scores, "scores", false, "add the outlier ensemble's anomaly score at the finest resolution")
	f.IntVar(&o.MaxEntities, "max-entities", 1000, "entities kept per metric and shard (the least recently active are dropped)")
	f.StringVar(&o.InputFormat, "input-format", "", "force the input format instead of sniffing")
	f.IntVar(&o.Year, "year", 0, "year for timestamps that have none (default: from each file's modification time)")
	f.StringVar(&o.TZ, "tz", "", "time zone for timestamps without one (default: local)")
	f.IntVar(&o.Workers, "workers", 0, "shards (0 = GOMAXPROCS)")
	seriesArchiveFlags(cmd, &o)
	return cmd
}
