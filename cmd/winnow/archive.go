package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"winnow/internal/app"
)

// archiveFlags binds analyze's archive and indicator flags.
func archiveFlags(cmd *cobra.Command, o *app.ArchiveOptions) {
	f := cmd.Flags()
	f.StringVar(&o.Archive, "archive", "", "write every event and finding to this Parquet archive directory (see docs/format/archive.md)")
	f.StringVar(&o.Keep, "keep", "all", "what the archive stores: all, or unknown (drop events on --known-good lists, counted per partition)")
	f.StringSliceVar(&o.KnownGood, "known-good", nil, "known-good indicator lists (addresses, ranges, domains, NSRL hashes) for --keep unknown")
	f.StringSliceVar(&o.IOCs, "iocs", nil, "known-bad indicator lists (addresses, CIDR ranges, domains, URLs, hashes) matched live (ioc.match)")
	var age, size string
	f.StringVar(&age, "retain-age", "", "after the run, delete archive files older than this (e.g. 720h, 30d; see --retain-basis)")
	f.StringVar(&size, "retain-size", "", "after the run, delete the files with the oldest records beyond this size (e.g. 50GB)")
	f.StringVar(&o.RetainBasis, "retain-basis", "archived", "what --retain-age measures: archived (when the data was archived) or event (record time)")
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		var err error
		if o.RetainAge, err = parseAge(age); err != nil {
			return app.UsageError{Err: fmt.Errorf("--retain-age: %w", err)}
		}
		if o.RetainMax, err = parseSize(size); err != nil {
			return app.UsageError{Err: fmt.Errorf("--retain-size: %w", err)}
		}
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}

// parseAge accepts Go durations and a days suffix ("30d").
func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q: want e.g. 30d or 720h", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want e.g. 30d or 720h", s)
	}
	return d, nil
}

// parseSize accepts bytes with an optional K/M/G/T (powers of 1000) or
// KiB/MiB/GiB/TiB (powers of 1024) suffix.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	t := strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B")
	mult := 1.0
	for _, u := range []struct {
		suf string
		m   float64
	}{{"KI", 1 << 10}, {"MI", 1 << 20}, {"GI", 1 << 30}, {"TI", 1 << 40}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}} {
		if v, ok := strings.CutSuffix(t, u.suf); ok {
			t, mult = v, u.m
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: want e.g. 50GB or 512MiB", s)
	}
	return int64(n * mult), nil
}

// parseWhen accepts RFC 3339, "2006-01-02T15:04" and "2006-01-02" (UTC
// unless the value has a zone).
func parseWhen(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, app.UsageError{Err: fmt.Errorf("%s %q: want RFC 3339 or YYYY-MM-DD[THH:MM]", flag, s)}
}

func newReplay(ex *exit) *cobra.Command {
	var o app.ReplayOptions
	var from, to string
	cmd := &cobra.Command{
		Use:   "replay --archive DIR [--from T1] [--to T2] [flags]",
		Short: "Replay archived events through today's detectors",
		Long: `Replay reads the archive window in event-time order through the same
pipeline as analyze, with today's detectors, parameters, --iocs lists and
models. With the configuration of the original run it reproduces its
findings exactly; --diff shows only findings the original run did not
report (and counts those it no longer reports).

Exit codes: 0 ran, 1 --fail-on met, 2 usage or input error.`,
		Example: `  winnow replay --archive /var/lib/winnow --from 2026-11-22 --to 2026-11-23
  winnow replay --archive arch --iocs feodo.txt --diff --format json`,
		Args: cobra.NoArgs,
	}
	startProf, stopProf := profileFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var err error
		if o.From, err = parseWhen("--from", from); err != nil {
			return err
		}
		if o.To, err = parseWhen("--to", to); err != nil {
			return err
		}
		stdio(&o.Analyze)
		o.Analyze.Version = version
		if err := startProf(); err != nil {
			return err
		}
		code, err := app.Replay(cmd.Context(), o)
		stopProf()
		ex.code = code
		return err
	}
	analyzeFlags(cmd, &o.Analyze, false)
	f := cmd.Flags()
	f.StringVar(&o.Archive, "archive", "", "the archive directory (required)")
	f.StringVar(&from, "from", "", "first event time to replay (RFC 3339 or YYYY-MM-DD[THH:MM], UTC)")
	f.StringVar(&to, "to", "", "replay events before this time")
	f.BoolVar(&o.Diff, "diff", false, "show only findings that the archived run did not report")
	f.StringSliceVar(&o.Analyze.IOCs, "iocs", nil, "known-bad indicator lists matched during the replay (ioc.match)")
	f.StringVar(&o.Analyze.TZ, "tz", "", "time zone of the original run (hour-of-day baselines), e.g. UTC (default: local)")
	return cmd
}

func newHunt(ex *exit) *cobra.Command {
	var o app.HuntOptions
	var from, to string
	cmd := &cobra.Command{
		Use:   "hunt --archive DIR --iocs FILE [--iocs FILE...] [flags]",
		Short: "Search the archive for indicators of compromise",
		Long: `Hunt matches every archived event of the window (source and destination
addresses, DNS names, URLs) against indicator lists — one indicator per
line: an address, a CIDR range, a domain (matches its subdomains), a URL
or an MD5/SHA-1/SHA-256 hash, optionally followed by a label — and reports
each indicator seen with first and last seen, count, clients and events.

Exit codes: 0 ran, 2 usage or input error (or corrupt archive files, which are skipped).`,
		Example: `  winnow hunt --archive /var/lib/winnow --iocs feodo-ips.txt --iocs bad-domains.txt
  winnow hunt --archive arch --iocs iocs.txt --from 2026-11-01 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.From, err = parseWhen("--from", from); err != nil {
				return err
			}
			if o.To, err = parseWhen("--to", to); err != nil {
				return err
			}
			o.Stdout, o.Stderr = os.Stdout, os.Stderr
			code, err := app.Hunt(cmd.Context(), o)
			ex.code = code
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Archive, "archive", "", "the archive directory (required)")
	f.StringSliceVar(&o.IOCs, "iocs", nil, "indicator list files (required)")
	f.StringVar(&from, "from", "", "first event time (RFC 3339 or YYYY-MM-DD[THH:MM], UTC)")
	f.StringVar(&to, "to", "", "events before this time")
	f.StringVar(&o.Output, "format", "text", "output: text or json (one document per indicator seen)")
	f.IntVar(&o.Samples, "samples", 5, "matching events shown per indicator")
	f.StringVar(&o.TZ, "tz", "UTC", "time zone for displayed times")
	return cmd
}

func newArchive(ex *exit) *cobra.Command {
	cmd := &cobra.Command{Use: "archive", Short: "Maintain a winnow archive (retention, compaction)"}
	var o app.PruneOptions
	var age, size string
	prune := &cobra.Command{
		Use:   "prune --archive DIR [--max-age 30d] [--max-size 50GB] [--age-basis archived|event] [--dry-run]",
		Short: "Delete the oldest files of an archive by age and total size, listing each",
		Long: `Prune deletes archive files older than --max-age, then the files with the
oldest records until the archive fits --max-size, and lists every file it
removes. Age is measured from when the data was archived (--age-basis
archived, the default: importing years-old logs does not make them
prunable at once) or from the newest record time in the file
(--age-basis event). --dry-run lists what would go and removes nothing.

Exit codes: 0 done, 2 usage error, no archive, or the archive is in use.`,
		Example: `  winnow archive prune --archive /var/lib/winnow --max-age 90d --dry-run
  winnow archive prune --archive arch --max-age 30d --age-basis event --max-size 50GB`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.MaxAge, err = parseAge(age); err != nil {
				return app.UsageError{Err: fmt.Errorf("--max-age: %w", err)}
			}
			if o.MaxSize, err = parseSize(size); err != nil {
				return app.UsageError{Err: fmt.Errorf("--max-size: %w", err)}
			}
			o.Stdout = os.Stdout
			code, err := app.Prune(o)
			ex.code = code
			return err
		},
	}
	f := prune.Flags()
	f.StringVar(&o.Archive, "archive", "", "the archive directory (required)")
	f.StringVar(&age, "max-age", "", "delete files older than this (see --age-basis), e.g. 30d")
	f.StringVar(&size, "max-size", "", "then delete the files with the oldest records beyond this total size, e.g. 50GB")
	f.StringVar(&o.AgeBasis, "age-basis", "archived", "what --max-age measures: archived (when the data was archived) or event (record time)")
	f.BoolVar(&o.DryRun, "dry-run", false, "list what would be removed and remove nothing")
	cmd.AddCommand(prune)

	var co app.CompactOptions
	compact := &cobra.Command{
		Use:   "compact --archive DIR",
		Short: "Merge the small files of each partition into one (analyze does it for the days it wrote)",
		Long: `Compact merges the small files of each day partition into one file sorted
by time (and moves the hour partitions of older winnow versions into day
partitions). It is crash safe, and replay and hunt read the same records
before and after. analyze --archive compacts the partitions it wrote at
the end of each run; run this after upgrading or when a run said its
compaction was postponed.

Exit codes: 0 done, 2 usage error, no archive, the archive is in use, or
unreadable files (left as they are).`,
		Example: `  winnow archive compact --archive /var/lib/winnow`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			co.Stdout, co.Version = os.Stdout, version
			code, err := app.Compact(co)
			ex.code = code
			return err
		},
	}
	compact.Flags().StringVar(&co.Archive, "archive", "", "the archive directory (required)")
	cmd.AddCommand(compact)
	return cmd
}
