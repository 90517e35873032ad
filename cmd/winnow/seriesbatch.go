package main

import (
	"os"
	"time"

	"github.com/spf13/cobra"

	"winnow/internal/app"
	"winnow/internal/detect/outlier"
	"winnow/internal/role/learn"
)

// seriesArchiveFlags lets 'series export' read the archive.
func seriesArchiveFlags(cmd *cobra.Command, o *app.SeriesExportOptions) {
	f := cmd.Flags()
	f.StringVar(&o.Archive, "archive", "", "read the archive's events instead of log inputs")
	var from, to string
	f.StringVar(&from, "from", "", "with --archive: first event time, RFC 3339")
	f.StringVar(&to, "to", "", "with --archive: end of the range (exclusive), RFC 3339")
	cmd.PreRunE = func(*cobra.Command, []string) error { return parseRange(from, to, &o.From, &o.To) }
}

func parseRange(from, to string, f, t *time.Time) error {
	for _, x := range []struct {
		s   string
		dst *time.Time
	}{{from, f}, {to, t}} {
		if x.s == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, x.s)
		if err != nil {
			return app.UsageError{Err: err}
		}
		*x.dst = v
	}
	return nil
}

func newSeriesBackfill() *cobra.Command {
	var o learn.BackfillOptions
	var from, to string
	cmd := &cobra.Command{
		Use:   "backfill --archive DIR --state DIR [--metric M ...] [flags]",
		Short: "Compute series detectors' baselines from the archive's history into a state directory",
		Long: `Backfill runs the series detectors of the chosen metrics (series.<metric>
and series.<metric>_outlier_count; default all) over the archive's events
and writes their state — every entity's series, moving baselines, peaks
and outlier-count history — into the data directory of
'winnow analyze --state DIR'. A metric defined (or changed) today then
starts with the archive's months of baseline instead of learning from
nothing. The directory's other detectors, input positions and reported
incidents are kept; the backfilled detectors' earlier state is replaced.
Findings over the history are not reported (replay reports them).`,
		Example: `  winnow series backfill --archive arch/ --state state/ --metric failed_logins_by_host
  winnow analyze --state state/ /var/log/auth.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := parseRange(from, to, &o.From, &o.To); err != nil {
				return err
			}
			o.Stdout, o.Stderr, o.Version, o.Location = os.Stdout, os.Stderr, version, time.Local
			return usage(learn.Backfill(cmd.Context(), o))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Archive, "archive", "", "archive directory")
	f.StringVar(&o.State, "state", "", "state directory (as given to 'analyze --state')")
	f.StringVar(&from, "from", "", "first event time, RFC 3339")
	f.StringVar(&to, "to", "", "end of the range (exclusive), RFC 3339")
	f.StringSliceVar(&o.Metrics, "metric", nil, "metrics to backfill (default all): "+joinNames(outlier.MetricNames()))
	f.StringArrayVar(&o.Set, "set", nil, "detector parameter, as the resuming analyze runs use it: detector.param=value")
	f.IntVar(&o.Workers, "workers", 0, "shards when the state directory has none yet (0 = GOMAXPROCS)")
	return cmd
}

func joinNames(s []string) string {
	out := ""
	for i, n := range s {
		if i > 0 {
			out += ","
		}
		out += n
	}
	return out
}
