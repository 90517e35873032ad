package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	dnsdetect "winnow/internal/detect/dns"
	"winnow/internal/generate/dnsgen"
	"winnow/internal/parse"
	"winnow/internal/parse/dnslog"
	"winnow/internal/source"
)

// ScoreDNSOptions configure 'winnow score dns'.
type ScoreDNSOptions struct {
	Args   []string // files of names (one per line; CSV: last field), "-" for stdin
	Model  string   // DGA model file; "" = the embedded one
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// ScoreDNS prints one JSON line per input name, in input order:
// {"name":…,"tunnel":0–1,"dga":0–1,"verdict":"benign"|"tunnel"|"dga"}.
// Each file is scored as one population: names under the same registered
// domain are judged together (see dns.ScoreNames).
func ScoreDNS(ctx context.Context, o ScoreDNSOptions) (int, error) {
	if len(o.Args) == 0 {
		return ExitUsage, usagef("no input: give files of names or - for stdin")
	}
	m := dnsdetect.DefaultModel()
	if o.Model != "" {
		f, err := os.Open(o.Model)
		if err != nil {
			return ExitUsage, usagef("--model: %v", err)
		}
		m, err = dnsdetect.ReadModel(f)
		f.Close()
		if err != nil {
			return ExitUsage, UsageError{err}
		}
	}
	inputs, errs := source.Expand(o.Args)
	for _, err := range errs {
		fmt.Fprintf(o.Stderr, "winnow: error: %v\n", err)
	}
	bw := bufio.NewWriterSize(o.Stdout, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	code := ExitOK
	if len(errs) > 0 {
		code = ExitInputErr
	}
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return ExitInputErr, err
		}
		shown, names, err := readNames(in, o.Stdin)
		if err != nil {
			fmt.Fprintf(o.Stderr, "winnow: error: %v\n", err)
			code = ExitInputErr
		}
		for i, s := range dnsdetect.ScoreNames(m, names) {
			s.Name = shown[i]
			if err := enc.Encode(s); err != nil {
				return ExitInputErr, fmt.Errorf("cannot write: %w", err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return ExitInputErr, fmt.Errorf("cannot write: %w", err)
	}
	return code, nil
}

// readNames reads an input's names: as shown (the line's name field) and
// normalised for scoring.
func readNames(in source.Input, stdin io.Reader) (shown, names []string, err error) {
	rd, err := source.Open(in, stdin, source.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	if err := rd.CheckText(); err != nil {
		return nil, nil, err
	}
	// The format check analyze makes: the first lines must read as names.
	if head, _ := rd.Peek(32); len(head) > 0 {
		if sc := dnslog.NamesFormat().Sniff(head); sc < parse.MinSniffScore {
			return nil, nil, fmt.Errorf("%s: not a list of DNS names (%.0f%% of its first %d lines look like names)", in.Name, 100*sc/0.9, len(head))
		}
	}
	for {
		ch, err := rd.Next()
		if ch != nil {
			for _, ln := range ch.Lines {
				n, ok := dnslog.NormalizeName(ln.B)
				if !ok {
					continue
				}
				shown = append(shown, string(dnslog.NameOf(ln.B)))
				names = append(names, n)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return shown, names, nil
			}
			return shown, names, err
		}
	}
}

// GenerateDNSOptions configure 'winnow generate dns'.
type GenerateDNSOptions struct {
	// Upstream adds the resolver's own queries upstream; Tunnels is the
	// number of tunnel hosts (0 = 1).
	Upstream bool
	Tunnels  int
	Out      string // file; "-" or "" = stdout
	Zeek     bool   // write a Zeek dns.log instead of a pcap
	Queries  int
	Seed     int64
	Clients  int
	Start    time.Time
	Duration time.Duration
	Stdout   io.Writer
}

// GenerateDNS writes a generated network's DNS (see package dnsgen).
func GenerateDNS(o GenerateDNSOptions) (dnsgen.Truth, error) {
	cfg := dnsgen.DefaultConfig()
	cfg.Seed, cfg.Queries = o.Seed, o.Queries
	if !o.Start.IsZero() {
		cfg.Start = o.Start
	}
	if o.Duration > 0 {
		cfg.Duration = o.Duration
	}
	if o.Clients > 0 {
		cfg.Clients = o.Clients
	}
	cfg.Upstream, cfg.Tunnels = o.Upstream, o.Tunnels
	write := dnsgen.WritePcap
	if o.Zeek {
		write = dnsgen.WriteZeek
	}
	if o.Out == "" || o.Out == "-" {
		return write(o.Stdout, cfg)
	}
	f, err := os.Create(o.Out)
	if err != nil {
		return dnsgen.Truth{}, fmt.Errorf("cannot create %s: %w", o.Out, err)
	}
	t, err := write(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t, fmt.Errorf("cannot write %s: %w", o.Out, err)
	}
	return t, nil
}

// writeDemoDNS writes the demo's DNS capture to path: two hours of a
// 30-client network's DNS on the auth log's day, from 09:00, with a
// tunnel, a DGA-infected host and a dead beacon embedded.
func writeDemoDNS(path string, day time.Time, seed int64, create func(string) (*os.File, error)) (dnsgen.Truth, error) {
	cfg := dnsgen.DefaultConfig()
	cfg.Seed = seed
	cfg.Start = day.Add(9 * time.Hour)
	f, err := create(path)
	if err != nil {
		return dnsgen.Truth{}, fmt.Errorf("cannot create %s: %w", path, err)
	}
	t, err := dnsgen.WritePcap(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return t, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return t, nil
}

func describeDemoDNS(w io.Writer, where string, t dnsgen.Truth) {
	fmt.Fprintf(w, "winnow demo: generated %d DNS queries (%d packets) of a network with %d attacks embedded (%s)\n",
		t.Queries, t.Packets, len(t.Attacks), where)
}

func writeDNSTruth(w io.Writer, t dnsgen.Truth) {
	fmt.Fprintln(w, "Embedded in the demo capture (ground truth):")
	for _, at := range t.Attacks {
		fmt.Fprintf(w, "  %-20s from %-34s on %-20s expect %s\n", at.Name, at.Client, clip(strings.Join(at.Domains, ","), 20), strings.Join(at.Rules, ", "))
	}
}
