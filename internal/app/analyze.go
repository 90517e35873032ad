package app

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"winnow/internal/alert"
	"winnow/internal/correlate"
	"winnow/internal/enrich/geoip"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/pipeline"
	"winnow/internal/report"
	"winnow/internal/source"
	"winnow/internal/state"
)

// AnalyzeOptions are the analyze command's settings.
type AnalyzeOptions struct {
	Args        []string // files, globs, directories, "-"
	Output      string   // "text" or "json"
	InputFormat string   // "" = sniff per input
	Year        int      // for timestamps without a year; 0 = from file mtime
	TZ          string   // zone for timestamps without one; "" = local
	FailOn      string   // severity name or number; "" = never
	MinSeverity string   // hide incidents below; default "medium" ("info" when Only names rules)
	Top         int      // incidents listed in the text report; 0 = all
	Detail      int      // incidents shown in detail in the text report; 0 = default, <0 = none
	Samples     int      // evidence lines per finding in the text report
	Width       int      // text report width in columns; 0 = default
	Workers     int      // detector shards; 0 = GOMAXPROCS
	Only        []string
	Disable     []string
	Set         []string
	Color       string // auto, always, never
	Progress    string // auto, always, never
	Quiet       bool   // no summary on stderr
	Version     string // winnow's version, recorded in archive files

	// Models are --model files: Bayesian filters run as detectors bayes.<kind>.
	Models []string

	// Sensors are --sensor values: NAME[,vantage=V][,domain=D][,input=GLOB].
	Sensors []string
	sensors *sensors
	// Site names this installation: a compiled model trained at another
	// site is applied with a warning ("" = do not compare).
	Site string
	// GeoIP are MaxMind-format databases: the geo.* detectors run and
	// findings about an address carry its country and network.
	GeoIP []string
	geo   *geoip.DB

	ArchiveOptions
	StateOptions

	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StdoutTTY and StderrTTY say whether those are terminals (the caller
	// knows; tests set them).
	StdoutTTY, StderrTTY bool
	// now is for tests; zero means time.Now.
	Now time.Time
}

// progressThreshold is the input size above which a progress bar is shown
// on a terminal (in auto mode).
const progressThreshold = 32 << 20

// Analyze runs the analysis and returns the exit code.
func Analyze(ctx context.Context, o AnalyzeOptions) (int, error) {
	if len(o.Args) == 0 {
		return ExitUsage, usagef("no input: give files, globs, directories or - for stdin")
	}
	inputs, errs := source.Expand(o.Args)
	for _, err := range errs {
		fmt.Fprintf(o.Stderr, "winnow: error: %v\n", err)
	}
	if len(inputs) == 0 {
		return ExitInputErr, fmt.Errorf("no readable input")
	}
	code, err := analyzeInputs(ctx, o, inputs, len(errs))
	return code, err
}

// analyzeInputs analyzes the resolved inputs; unresolved is how many
// arguments could not be resolved (already reported), which makes the
// exit code 2.
func analyzeInputs(ctx context.Context, o AnalyzeOptions, inputs []source.Input, unresolved int) (int, error) {
	cfg, err := o.pipelineConfig(inputs)
	if err != nil {
		return ExitUsage, err
	}
	failOn, minSev, err := o.severities()
	if err != nil {
		return ExitUsage, err
	}
	arch, err := o.openArchive(&cfg, o.Version)
	if err != nil {
		return ExitUsage, err
	}
	emit, soFar, take := collectAlerts(func(a *event.Alert) {
		enrichGeo(o.geo, a)
		o.sensors.label(a)
	})
	var st *stateRun
	if o.State != "" {
		if st, err = o.openState(&cfg, arch != nil, soFar); err != nil {
			return ExitUsage, stateError(err)
		}
		defer st.close()
		st.note(o.Stderr, o.Quiet)
	}
	p, err := pipeline.New(cfg)
	if err != nil {
		return ExitUsage, UsageError{err}
	}
	if o.geo != nil {
		defer o.geo.Close()
	}
	stop := startProgress(o, p)
	res, err := p.Run(ctx, emit)
	stop()
	alerts := take()
	if arch != nil {
		if aerr := arch.finish(alerts, o.Stderr, o.Quiet); aerr != nil && err == nil {
			err = aerr
		}
	}
	if err != nil {
		return ExitInputErr, stateAdvice(err)
	}
	var reported []state.Reported
	if st != nil {
		if alerts, reported, err = st.report(alerts); err != nil {
			return ExitInputErr, err
		}
	}
	corr := correlate.Build(alerts, o.correlateConfig())
	incidents := corr.Snapshot()
	if err := o.write(incidents, alerts, corr.IncidentOf, minSev); err != nil {
		return ExitInputErr, fmt.Errorf("cannot write report: %w", err)
	}
	if st != nil {
		// Only now, with the report written: a crash before this point
		// reports these findings again, never loses them.
		if err := st.commit(reported); err != nil {
			return ExitInputErr, err
		}
	}
	if !o.Quiet {
		report.Summary(o.Stderr, res, incidents, len(alerts))
	}
	return finalExit(o.Stderr, res, incidents, failOn, unresolved), nil
}

// finalExit decides the exit code (exitCode) and says on w why it is not 0.
func finalExit(w io.Writer, res *pipeline.Result, incidents []event.Incident, failOn, unresolved int) int {
	code, why := exitCode(res, incidents, failOn, unresolved)
	if why != "" {
		fmt.Fprintf(w, "winnow: exit %d: %s\n", code, why)
	}
	return code
}

func (o *AnalyzeOptions) pipelineConfig(inputs []source.Input) (pipeline.Config, error) {
	reg, _, err := o.registry()
	if err != nil {
		return pipeline.Config{}, UsageError{err}
	}
	if err := registerModels(reg, o.Models, o.Site, o.Stderr); err != nil {
		return pipeline.Config{}, UsageError{err}
	}
	if o.geo, err = registerGeo(reg, o.GeoIP); err != nil {
		return pipeline.Config{}, UsageError{err}
	}
	enabled, err := SelectDetectors(reg, o.Only, o.Disable, o.Set)
	if err != nil {
		return pipeline.Config{}, err
	}
	loc := time.Local
	if o.TZ != "" {
		l, err := time.LoadLocation(o.TZ)
		if err != nil {
			return pipeline.Config{}, usagef("--tz %q: %v", o.TZ, err)
		}
		loc = l
	}
	if o.Year != 0 && (o.Year < 1970 || o.Year > 9999) {
		return pipeline.Config{}, usagef("--year %d: out of range", o.Year)
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if limit := maxWorkers(); workers > limit {
		// Each shard holds every detector's state: shards beyond the
		// CPUs only cost memory.
		fmt.Fprintf(o.Stderr, "winnow: --workers %d: using %d (at most 4 per CPU)\n", workers, limit)
		workers = limit
	}
	if o.Output != "text" && o.Output != "json" {
		return pipeline.Config{}, usagef("--format %q: want text or json", o.Output)
	}
	rules, err := parseSensors(o.Sensors)
	if err != nil {
		return pipeline.Config{}, err
	}
	o.sensors = &sensors{rules: rules}
	var sensorOf func(string, string) *event.Sensor
	if len(rules) > 0 {
		sensorOf = o.sensors.of
	}
	return pipeline.Config{
		Sensor:      sensorOf,
		Inputs:      inputs,
		Stdin:       o.Stdin,
		Formats:     NewFormats(),
		InputFormat: o.InputFormat,
		Parse:       parse.Options{Year: o.Year, Location: loc, Now: o.Now},
		Detectors:   enabled,
		Workers:     workers,
	}, nil
}

func (o *AnalyzeOptions) severities() (failOn, minSev int, err error) {
	if o.FailOn != "" {
		v, ok := event.ParseSeverity(o.FailOn)
		if !ok {
			return 0, 0, usagef("--fail-on %q: want low, medium, high, critical or 1–100", o.FailOn)
		}
		failOn = v
	}
	ms := o.MinSeverity
	if ms == "" {
		ms = "medium"
		if len(o.Only) > 0 {
			ms = "info" // the user asked for these rules: show what they found
		}
	}
	v, ok := event.ParseSeverity(ms)
	if !ok {
		return 0, 0, usagef("--min-severity %q: want info, low, medium, high, critical or 1–100", ms)
	}
	return failOn, v, nil
}

// correlateConfig: with --only every selected rule's findings are reasons
// of their own (the user asked for them); otherwise weak findings are
// context.
func (o *AnalyzeOptions) correlateConfig() correlate.Config {
	var c correlate.Config
	if len(o.Only) > 0 {
		c.ContextBelow = 1
	}
	return c
}

func (o *AnalyzeOptions) write(incidents []event.Incident, findings []event.Alert, incidentOf func(*event.Alert) string, minSev int) error {
	if o.Output == "json" {
		return alert.WriteJSON(o.Stdout, incidents, findings, incidentOf, minSev)
	}
	return report.Text(o.Stdout, incidents, report.TextOptions{
		Color:       colorOn(o.Color, o.StdoutTTY),
		Top:         o.Top,
		Detail:      o.Detail,
		MinSeverity: minSev,
		Samples:     o.Samples,
		Width:       o.Width,
	})
}

func colorOn(mode string, tty bool) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return tty
}

// maxWorkers bounds --workers: 4 shards per CPU.
func maxWorkers() int { return 4 * runtime.GOMAXPROCS(0) }

// exitCode decides the exit code and says why when it is not 0. An input
// error (2) wins over findings at --fail-on (1): a run that could not read
// all its input must not pass for one that judged it.
func exitCode(res *pipeline.Result, incidents []event.Incident, failOn, unresolved int) (int, string) {
	failed := unresolved
	for _, in := range res.Inputs {
		if in.Err != nil {
			failed++
		}
	}
	if failed > 0 || res.InputError {
		return ExitInputErr, fmt.Sprintf("%d input(s) could not be read completely (see the errors above); an input error wins over --fail-on", max(failed, 1))
	}
	if failOn > 0 {
		n := 0
		for i := range incidents {
			if incidents[i].Severity >= failOn {
				n++
			}
		}
		if n > 0 {
			return ExitFailOn, fmt.Sprintf("%d incident%s at severity %d (%s) or more (--fail-on)", n, plural(n, "", "s"), failOn, event.SeverityName(failOn))
		}
	}
	return ExitOK, ""
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
