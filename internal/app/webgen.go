package app

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"winnow/internal/generate"
	"winnow/internal/generate/weblog"
)

// GenerateWebOptions configure 'winnow generate web'.
type GenerateWebOptions struct {
	Out       string // file; "-" or "" = stdout
	Lines     int
	Seed      int64
	Start     time.Time
	Duration  time.Duration
	ScannerIP string
	Site      string // write vhost_combined with this site
	Hard      bool   // add aggressive crawlers and CVE probes (weblog.Config.Hard)
	Stdout    io.Writer
}

// GenerateWeb writes a generated access log (combined format) with attacks
// embedded and returns its ground truth.
func GenerateWeb(o GenerateWebOptions) (weblog.Truth, error) {
	gc := weblog.DefaultConfig()
	gc.Seed, gc.Lines, gc.ScannerIP, gc.Site, gc.Hard = o.Seed, o.Lines, o.ScannerIP, o.Site, o.Hard
	if !o.Start.IsZero() {
		gc.Start = o.Start
	}
	if o.Duration > 0 {
		gc.Duration = o.Duration
	}
	if o.Out == "" || o.Out == "-" {
		return weblog.Generate(o.Stdout, gc)
	}
	return writeWeb(o.Out, gc, os.Create)
}

func writeWeb(path string, gc weblog.Config, create func(string) (*os.File, error)) (weblog.Truth, error) {
	f, err := create(path)
	if err != nil {
		return weblog.Truth{}, fmt.Errorf("cannot create %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	t, err := weblog.Generate(bw, gc)
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

// writeDemoWeb writes the demo's web access log to path: a day of the
// shop's traffic whose wordlist scanner is the address that brute-forces
// SSH in the auth log (so the report shows one entity with both families'
// findings).
func writeDemoWeb(path string, day time.Time, seed int64, auth generate.Truth, create func(string) (*os.File, error)) (weblog.Truth, error) {
	gc := weblog.DefaultConfig()
	gc.Seed, gc.Start, gc.Hard = seed, day, true
	gc.ScannerIP = sharedAttacker(auth)
	return writeWeb(path, gc, create)
}

// sharedAttacker is the first source of the auth log's brute force.
func sharedAttacker(t generate.Truth) string {
	for _, a := range t.Attacks {
		for _, r := range a.Rules {
			if r == "auth.brute_force" && len(a.SourceIPs) > 0 {
				return a.SourceIPs[0]
			}
		}
	}
	return ""
}

func describeDemoWeb(w io.Writer, where string, t weblog.Truth) {
	fmt.Fprintf(w, "winnow demo: generated %d lines of a web shop's access log with %d attacks embedded (%s)\n",
		t.Lines, len(t.Attacks), where)
}

func writeWebTruth(w io.Writer, t weblog.Truth) {
	fmt.Fprintln(w, "Embedded in the demo access log (ground truth):")
	for _, g := range groupAttacks(len(t.Attacks), func(i int) (string, []string, []string, []string) {
		a := t.Attacks[i]
		return a.Name, a.SourceIPs, a.Users, a.Rules
	}) {
		fmt.Fprintf(w, "  %-28s from %-34s expect %s\n", g.name, clip(strings.Join(g.ips, ","), 34), strings.Join(g.rules, ", "))
	}
	var names []string
	for _, b := range t.Benign {
		names = append(names, b.Name)
	}
	fmt.Fprintf(w, "  benign heavy traffic (no finding at medium or above expected): %s\n", strings.Join(names, ", "))
}
