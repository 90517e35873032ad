package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"winnow/internal/generate"
)

// DemoOptions configure 'winnow demo'.
type DemoOptions struct {
	Analyze AnalyzeOptions // output settings; Args are ignored
	Seed    int64
	Save    string // keep the generated log at this path; "" = temporary
}

// Demo generates a day of auth log for a small fleet with attacks embedded,
// analyzes it, and shows the report followed by the ground truth.
func Demo(ctx context.Context, o DemoOptions) (int, error) {
	gc := generate.DefaultAuthConfig()
	gc.Seed = o.Seed
	path := o.Save
	if path == "" {
		dir, err := os.MkdirTemp("", "winnow-demo-")
		if err != nil {
			return ExitInputErr, fmt.Errorf("cannot create demo directory: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "auth.log")
	}
	truth, err := writeAuth(path, gc)
	if err != nil {
		return ExitInputErr, err
	}
	dnsPath, dnsTruth, err := writeDemoDNS(path, gc.Start, o.Seed)
	if err != nil {
		return ExitInputErr, err
	}
	webPath, webTruth, err := writeDemoWeb(path, gc.Start, o.Seed, truth)
	if err != nil {
		return ExitInputErr, err
	}
	a := o.Analyze
	a.Args = []string{path, dnsPath, webPath}
	a.Year = gc.Start.Year()
	if a.TZ == "" {
		a.TZ = "UTC"
	}
	if !a.Quiet {
		fmt.Fprintf(a.Stderr, "winnow demo: generated %d lines of auth.log for %d hosts with %d attacks embedded (%s)\n",
			truth.Lines, gc.Hosts, len(truth.Attacks), describeSave(o.Save))
		describeDemoDNS(a.Stderr, dnsPath, dnsTruth)
		describeDemoWeb(a.Stderr, webPath, webTruth)
	}
	code, err := Analyze(ctx, a)
	if err == nil && a.Output == "text" {
		writeTruth(a.Stdout, truth)
		writeDNSTruth(a.Stdout, dnsTruth)
		writeWebTruth(a.Stdout, webTruth)
	}
	return code, err
}

func describeSave(p string) string {
	if p == "" {
		return "use --save FILE to keep it"
	}
	return "saved to " + p
}

func writeTruth(w io.Writer, t generate.Truth) {
	fmt.Fprintln(w, "Embedded in the demo log (ground truth):")
	for _, at := range t.Attacks {
		fmt.Fprintf(w, "  %-20s from %-34s on %-20s expect %s\n", at.Name,
			clip(strings.Join(at.SourceIPs, ","), 34), clip(strings.Join(at.Users, ","), 20), strings.Join(at.Rules, ", "))
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// GenerateOptions configure 'winnow generate auth'.
type GenerateOptions struct {
	Out      string // file; "-" or "" = stdout
	Lines    int
	Seed     int64
	FloodIPs int
	Start    time.Time
	Duration time.Duration
	Hosts    int
	Users    int
	Stdout   io.Writer
}

// GenerateAuth writes a generated auth log.
func GenerateAuth(o GenerateOptions) (generate.Truth, error) {
	gc := generate.DefaultAuthConfig()
	gc.Seed, gc.Lines, gc.FloodIPs = o.Seed, o.Lines, o.FloodIPs
	if !o.Start.IsZero() {
		gc.Start = o.Start
	}
	if o.Duration > 0 {
		gc.Duration = o.Duration
	}
	if o.Hosts > 0 {
		gc.Hosts = o.Hosts
	}
	if o.Users > 0 {
		gc.Users = o.Users
	}
	if o.Out == "" || o.Out == "-" {
		bw := bufio.NewWriterSize(o.Stdout, 1<<20)
		t, err := generate.Auth(bw, gc)
		if err != nil {
			return t, err
		}
		return t, bw.Flush()
	}
	return writeAuth(o.Out, gc)
}

func writeAuth(path string, gc generate.AuthConfig) (generate.Truth, error) {
	f, err := os.Create(path)
	if err != nil {
		return generate.Truth{}, fmt.Errorf("cannot create %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	t, err := generate.Auth(bw, gc)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return t, nil
}
