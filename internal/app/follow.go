package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"winnow/internal/correlate"
	"winnow/internal/pipeline"
	"winnow/internal/report"
	"winnow/internal/sink"
	"winnow/internal/sink/jsonl"
	"winnow/internal/source"
)

// AnalyzeFollow is `analyze --follow`: the inputs are read from their
// start and then followed — across rotation, with new files matching a
// glob picked up — until interrupted (standard input until it ends).
// Findings are printed as they happen: one line per report in text (see
// report.Lines), one ECS document per report in JSON. At the end (Ctrl-C,
// SIGTERM, or every input ended) open episodes report as closed.
func AnalyzeFollow(ctx context.Context, o AnalyzeOptions) (int, error) {
	if len(o.Args) == 0 {
		return ExitUsage, usagef("no input: give files, globs or - for stdin")
	}
	if o.Archive != "" {
		return ExitUsage, usagef("--archive does not work with --follow: archive with a periodic `winnow analyze --archive DIR FILES` (it stores only what is new)")
	}
	cfg, err := o.pipelineConfig(nil)
	if err != nil {
		return ExitUsage, err
	}
	_, minSev, err := o.severities()
	if err != nil {
		return ExitUsage, err
	}
	var inputs []pipeline.LiveInput
	var patterns []string
	for _, a := range o.Args {
		if a == source.StdinName {
			inputs = append(inputs, pipeline.LiveInput{Source: source.NewStream(source.StdinName, o.Stdin, 0), Format: o.InputFormat})
			continue
		}
		patterns = append(patterns, a)
	}
	if len(patterns) > 0 {
		f, err := source.NewFollow(source.FollowOptions{Patterns: patterns, FromStart: true})
		if err != nil {
			return ExitUsage, UsageError{err}
		}
		inputs = append(inputs, pipeline.LiveInput{Source: f, Format: o.InputFormat})
	}
	live, err := pipeline.NewLive(pipeline.LiveConfig{Inputs: inputs, Formats: cfg.Formats, Parse: cfg.Parse,
		Detectors: cfg.Detectors, Workers: cfg.Workers})
	if err != nil {
		return ExitUsage, UsageError{err}
	}
	var out sink.Sink
	if o.Output == "json" {
		out = jsonl.New("stdout", o.Stdout, jsonl.Options{MinSeverity: minSev})
	} else {
		out = report.NewLines(o.Stdout, colorOn(o.Color, o.StdoutTTY), minSev)
	}
	fan := sink.NewFanout(out)
	incidents := correlate.NewReporter(fan, correlate.Config{})
	incidents.Errors = func(err error) { fmt.Fprintf(o.Stderr, "winnow: %v\n", err) }
	runErr := live.Run(ctx, incidents.Emit)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := fan.Close(cctx); err != nil && runErr == nil {
		runErr = err
	}
	code := ExitOK
	for _, st := range live.Inputs() {
		if !o.Quiet {
			fmt.Fprintf(o.Stderr, "winnow: %s: %d records, %d events, %d malformed\n", st.Name, st.Records, st.Events, st.Malformed)
		}
		if st.Err != nil {
			fmt.Fprintf(o.Stderr, "winnow: error: %v\n", st.Err)
			code = ExitInputErr
		}
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return ExitInputErr, runErr
	}
	return code, nil
}
