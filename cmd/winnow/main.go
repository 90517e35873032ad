// Command winnow is the one binary. main only parses flags and wires the
// packages in internal/app; exit codes are documented there and in the
// README (0 ran, 1 --fail-on met, 2 usage or input error).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"winnow/internal/app"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// exit carries a command's exit code out of cobra.
type exit struct{ code int }

func run(ctx context.Context, args []string) int {
	var ex exit
	root := newRoot(&ex)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ex.code
	}
	fmt.Fprintf(os.Stderr, "winnow: error: %v\n", err)
	var ue app.UsageError
	if errors.As(err, &ue) || ex.code == 0 {
		fmt.Fprintf(os.Stderr, "Run 'winnow --help' for usage.\n")
		return app.ExitUsage
	}
	return ex.code
}

func newRoot(ex *exit) *cobra.Command {
	root := &cobra.Command{
		Use:   "winnow",
		Short: "Separate good from bad in security data",
		Long: `winnow reads Linux auth logs, web access logs and DNS (packet captures,
Zeek and tshark logs), learns what is normal per entity, and reports ranked,
explained findings: brute force, password spray, likely compromise, web
scanners and injection, web shells, DNS tunnels, DGA malware, anomalies in
per-entity time series. It archives events to Parquet for replay and hunts.

Start with 'winnow demo', then 'winnow analyze /var/log/auth.log*'.

Exit codes: 0 ran (findings or not), 1 --fail-on severity met,
2 usage or input error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return app.UsageError{Err: err} })
	root.AddCommand(newAnalyze(ex), newDemo(ex), newGenerate(), newDetectors(), newReplay(ex), newHunt(ex), newArchive(ex), newScore(ex))
	root.AddCommand(newSeries(), newEval())
	root.AddCommand(newServe(ex), newConfig(ex), newDecisions())
	addLearnCommands(root, ex)
	addBatchLearnCommands(root)
	return root
}

// analyzeFlags binds the flags shared by analyze and demo.
func analyzeFlags(cmd *cobra.Command, o *app.AnalyzeOptions, inputs bool) {
	f := cmd.Flags()
	f.StringVar(&o.Output, "format", "text", "output: text (ranked report) or json (one ECS document per finding)")
	f.StringVar(&o.FailOn, "fail-on", "", "exit 1 if a finding reaches this severity (low, medium, high, critical or 1-100)")
	f.StringVar(&o.MinSeverity, "min-severity", "", "hide incidents below this severity: medium by default (info when --only names rules); low adds entities with weak signals only; info shows everything, and in JSON every finding too")
	f.IntVar(&o.Top, "top", 20, "incidents listed in the text report, one line each (0 = all)")
	f.IntVar(&o.Detail, "detail", 2, "incidents shown in detail after the list (-1 = none)")
	f.IntVar(&o.Samples, "samples", 2, "evidence lines shown per finding in the detail of the text report (0 = all kept)")
	f.IntVar(&o.Workers, "workers", 0, "detector shards (0 = GOMAXPROCS)")
	f.StringSliceVar(&o.Only, "only", nil, "run only these detectors or families (e.g. auth.brute_force,auth.)")
	f.StringSliceVar(&o.Disable, "disable", nil, "do not run these detectors or families")
	f.StringArrayVar(&o.Set, "set", nil, "override a detector parameter: detector.param=value (repeatable; see 'winnow detectors')")
	f.StringVar(&o.Color, "color", "auto", "colour: auto (on a terminal), always, never")
	f.StringVar(&o.Progress, "progress", "auto", "progress bar on stderr: auto (terminal and large input), always, never")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "no summary on stderr")
	if inputs {
		f.StringVar(&o.InputFormat, "input-format", "", "force the input format instead of sniffing each input (syslog, access, errorlog, pcap, audit, zeek-conn, zeek-conn-json, zeek-files, zeek-files-json, zeek-dns, zeek-dns-json, tshark-dns, dns-names)")
		f.IntVar(&o.Year, "year", 0, "year for timestamps that have none (default: from each file's modification time)")
		f.StringVar(&o.TZ, "tz", "", "time zone for timestamps that have none, e.g. UTC or Europe/Paris (default: local)")
		f.StringArrayVar(&o.Sensors, "sensor", nil, "the sensor that saw the inputs: NAME[,vantage=edge|internal|host|...][,domain=network|host|service][,input=GLOB] (repeatable; shown in findings, stored in the archive)")
	}
}

func stdio(o *app.AnalyzeOptions) {
	o.Stdin, o.Stdout, o.Stderr = os.Stdin, os.Stdout, os.Stderr
	o.StdoutTTY = term.IsTerminal(int(os.Stdout.Fd()))
	o.StderrTTY = term.IsTerminal(int(os.Stderr.Fd()))
	o.Width = termWidth(o.StdoutTTY)
	if os.Getenv("NO_COLOR") != "" && o.Color == "auto" {
		o.Color = "never"
	}
}

func newAnalyze(ex *exit) *cobra.Command {
	var o app.AnalyzeOptions
	var follow bool
	cmd := &cobra.Command{
		Use:   "analyze [flags] FILE|GLOB|DIR|- ...",
		Short: "Analyze log files and report ranked findings",
		Long: `Analyze reads files, globs, directories (recursively) and - (stdin);
.gz files are decompressed. Each input's format is sniffed (--input-format
overrides). Inputs are merged by event time and run through every detector
('winnow detectors' lists them). The report goes to stdout, a summary and
any input problems to stderr.

Exit codes: 0 ran, 1 --fail-on met, 2 usage or input error.`,
		Example: `  winnow analyze /var/log/auth.log*
  winnow analyze --format json /var/log/auth.log > findings.jsonl
  journalctl -o short-iso -u ssh | winnow analyze -
  winnow analyze --fail-on high --set auth.brute_force.threshold=20 auth.log`,
	}
	startProf, stopProf := profileFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		o.Args = args
		o.Version = version
		stdio(&o)
		if err := startProf(); err != nil {
			return err
		}
		analyze := app.Analyze
		if follow {
			if o.State != "" {
				return app.UsageError{Err: fmt.Errorf("--state is for runs that end (cron); a followed run keeps its state with winnow serve --config")}
			}
			analyze = app.AnalyzeFollow
		}
		code, err := analyze(cmd.Context(), o)
		stopProf()
		ex.code = code
		return err
	}
	analyzeFlags(cmd, &o, true)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "read the files, then follow them (rotation-safe; new files matching a glob too) and report findings as they happen, until interrupted")
	archiveFlags(cmd, &o.ArchiveOptions)
	stateFlags(cmd, &o.StateOptions)
	modelFlag(cmd, &o)
	return cmd
}

func newDemo(ex *exit) *cobra.Command {
	var o app.DemoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Generate a day of auth, web and DNS logs with attacks embedded and analyze it",
		Long: `Demo needs no files: it generates a realistic day for a small organisation —
an auth.log of its fleet (normal logins, cron and sudo noise, typos), the
access log of its web server (visitors, crawlers, health checks, an API
client) and a DNS capture of its network — with attacks embedded (fast and
slow SSH brute force, a password spray, an invalid-user sweep, a
distributed attack, a break-in followed by sudo and a backdoor account, a
web scanner that is also the SSH brute-forcer, injection, credential
stuffing, a flood, a web shell, a DNS tunnel, a DGA-infected host). It
analyzes them together and shows the report, then the ground truth to
compare with.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stdio(&o.Analyze)
			code, err := app.Demo(cmd.Context(), o)
			ex.code = code
			return err
		},
	}
	analyzeFlags(cmd, &o.Analyze, false)
	cmd.Flags().Int64Var(&o.Seed, "seed", 1, "random seed of the generated day")
	cmd.Flags().StringVar(&o.Save, "save", "", "keep the generated auth log at this path (nothing is written unless named)")
	cmd.Flags().StringVar(&o.SaveWeb, "save-web", "", "keep the generated web access log at this path")
	cmd.Flags().StringVar(&o.SaveDNS, "save-dns", "", "keep the generated DNS capture (pcap) at this path")
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite existing files named by --save, --save-web, --save-dns")
	return cmd
}

func newGenerate() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate synthetic logs with embedded attacks (for demos and benchmarks)",
	}
	var o app.GenerateOptions
	var start string
	auth := &cobra.Command{
		Use:   "auth",
		Short: "Generate an auth.log (RFC 3164) with attacks embedded",
		Example: `  winnow generate auth --lines 1000000 -o auth-1m.log
  winnow generate auth --flood-ips 10000000 -o flood.log`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return app.UsageError{Err: fmt.Errorf("--start %q: want RFC 3339, e.g. 2026-11-21T00:00:00Z", start)}
				}
				o.Start = t
			}
			o.Stdout = os.Stdout
			t, err := app.GenerateAuth(o)
			if err != nil {
				return err
			}
			if o.Out != "" && o.Out != "-" {
				fmt.Fprintf(os.Stderr, "winnow: wrote %d lines to %s\n", t.Lines, o.Out)
			}
			return nil
		},
	}
	f := auth.Flags()
	f.StringVarP(&o.Out, "output", "o", "-", "output file (- = stdout)")
	f.IntVar(&o.Lines, "lines", 0, "approximate number of lines (0 = a natural day for a small fleet)")
	f.Int64Var(&o.Seed, "seed", 1, "random seed")
	f.IntVar(&o.FloodIPs, "flood-ips", 0, "add this many failed logins, each from a distinct source IP")
	f.StringVar(&start, "start", "", "first timestamp, RFC 3339 (default 2026-11-21T00:00:00Z)")
	f.DurationVar(&o.Duration, "duration", 0, "time span (default 24h)")
	f.IntVar(&o.Hosts, "hosts", 0, "fleet size (default 5)")
	f.IntVar(&o.Users, "users", 0, "legitimate users (default 12)")
	f.BoolVar(&o.Hard, "hard", false, "also embed the attacks fixed thresholds miss: a fast brute force over ten names, low-and-slow guessing, credential stuffing from many addresses")
	cmd.AddCommand(auth, newGenerateDNS(), newGenerateWeb())
	return cmd
}

func newDetectors() *cobra.Command {
	return &cobra.Command{
		Use:   "detectors",
		Short: "List the detectors with their parameters and defaults",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.OutOrStdout(), app.DetectorCatalogue())
			return nil
		},
	}
}
