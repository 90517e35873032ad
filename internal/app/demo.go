package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
	// Save, SaveWeb and SaveDNS keep the generated auth log, access log
	// and DNS capture at these paths; "" = a temporary file, removed at
	// the end. Nothing else is written.
	Save, SaveWeb, SaveDNS string
	// Force allows overwriting existing files at those paths; without it
	// an existing file is an error and nothing is generated.
	Force bool
}

// Demo generates a day of auth log for a small fleet with attacks embedded,
// analyzes it, and shows the report followed by the ground truth.
func Demo(ctx context.Context, o DemoOptions) (int, error) {
	gc := generate.DefaultAuthConfig()
	gc.Seed, gc.Hard = o.Seed, true
	paths := []*string{&o.Save, &o.SaveWeb, &o.SaveDNS}
	for i, p := range paths {
		for _, q := range paths[:i] {
			if *p != "" && *q != "" && filepath.Clean(*p) == filepath.Clean(*q) {
				return ExitUsage, usagef("--save, --save-web and --save-dns must name different files (%s twice)", *p)
			}
		}
		if *p != "" && !o.Force {
			if _, err := os.Lstat(*p); err == nil {
				return ExitUsage, usagef("%s exists: winnow demo does not overwrite files without --force", *p)
			}
		}
	}
	var dir string
	tmp := func(name string) (string, error) {
		if dir == "" {
			d, err := os.MkdirTemp("", "winnow-demo-")
			if err != nil {
				return "", fmt.Errorf("cannot create demo directory: %w", err)
			}
			dir = d
		}
		return filepath.Join(dir, name), nil
	}
	defer func() {
		if dir != "" {
			os.RemoveAll(dir)
		}
	}()
	authPath, webPath, dnsPath := o.Save, o.SaveWeb, o.SaveDNS
	var err error
	if authPath == "" {
		if authPath, err = tmp("auth.log"); err != nil {
			return ExitInputErr, err
		}
	}
	if webPath == "" {
		if webPath, err = tmp("access.log"); err != nil {
			return ExitInputErr, err
		}
	}
	if dnsPath == "" {
		if dnsPath, err = tmp("dns.pcap"); err != nil {
			return ExitInputErr, err
		}
	}
	create := func(path string) (*os.File, error) { return createFile(path, o.Force) }
	truth, err := writeAuth(authPath, gc, create)
	if err != nil {
		return ExitInputErr, err
	}
	dnsTruth, err := writeDemoDNS(dnsPath, gc.Start, o.Seed, create)
	if err != nil {
		return ExitInputErr, err
	}
	webTruth, err := writeDemoWeb(webPath, gc.Start, o.Seed, truth, create)
	if err != nil {
		return ExitInputErr, err
	}
	a := o.Analyze
	a.Args = []string{authPath, dnsPath, webPath}
	a.Year = gc.Start.Year()
	if a.TZ == "" {
		a.TZ = "UTC"
	}
	if !a.Quiet {
		fmt.Fprintf(a.Stderr, "winnow demo: generated %d lines of auth.log for %d hosts with %d attacks embedded (%s)\n",
			truth.Lines, gc.Hosts, len(truth.Attacks), describeSave(o.Save, "--save"))
		describeDemoDNS(a.Stderr, describeSave(o.SaveDNS, "--save-dns"), dnsTruth)
		describeDemoWeb(a.Stderr, describeSave(o.SaveWeb, "--save-web"), webTruth)
	}
	// The paths written stay on stderr even with --quiet: files were made.
	for _, p := range []string{o.Save, o.SaveWeb, o.SaveDNS} {
		if p != "" {
			fmt.Fprintf(a.Stderr, "winnow demo: wrote %s\n", p)
		}
	}
	code, err := Analyze(ctx, a)
	if err == nil && a.Output == "text" {
		writeTruth(a.Stdout, truth)
		writeDNSTruth(a.Stdout, dnsTruth)
		writeWebTruth(a.Stdout, webTruth)
	}
	return code, err
}

// createFile creates path for writing; unless force, an existing file (or
// symlink) is an error rather than overwritten.
func createFile(path string, force bool) (*os.File, error) {
	if force {
		return os.Create(path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, errors.New("file exists; not overwritten without --force")
	}
	return f, err
}

func describeSave(p, flag string) string {
	if p == "" {
		return "temporary; use " + flag + " FILE to keep it"
	}
	return "saved to " + p
}

func writeTruth(w io.Writer, t generate.Truth) {
	fmt.Fprintln(w, "Embedded in the demo log (ground truth):")
	for _, g := range groupAttacks(len(t.Attacks), func(i int) (string, []string, []string, []string) {
		a := t.Attacks[i]
		return a.Name, a.SourceIPs, a.Users, a.Rules
	}) {
		fmt.Fprintf(w, "  %-24s from %-34s on %-20s expect %s\n", g.name,
			clip(strings.Join(g.ips, ","), 34), clip(strings.Join(g.users, ","), 20), strings.Join(g.rules, ", "))
	}
}

// attackGroup is the attacks of one name in a ground-truth listing (the
// hard days embed several low-and-slow sources, eleven CVE probes, …).
type attackGroup struct {
	name              string
	ips, users, rules []string
}

// groupAttacks merges attacks of the same name, in first-seen order, and
// names the count ("cve-probe ×11").
func groupAttacks(n int, at func(i int) (name string, ips, users, rules []string)) []attackGroup {
	var out []attackGroup
	idx := map[string]int{}
	count := map[string]int{}
	for i := 0; i < n; i++ {
		name, ips, users, rules := at(i)
		count[name]++
		j, ok := idx[name]
		if !ok {
			idx[name] = len(out)
			out = append(out, attackGroup{name: name, rules: rules})
			j = len(out) - 1
		}
		out[j].ips = append(out[j].ips, ips...)
		out[j].users = append(out[j].users, users...)
	}
	for i := range out {
		if c := count[out[i].name]; c > 1 {
			out[i].name = fmt.Sprintf("%s ×%d", out[i].name, c)
		}
	}
	return out
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
	Hard     bool // add the attacks fixed thresholds miss (generate.AuthConfig.Hard)
	Stdout   io.Writer
}

// GenerateAuth writes a generated auth log.
func GenerateAuth(o GenerateOptions) (generate.Truth, error) {
	gc := generate.DefaultAuthConfig()
	gc.Seed, gc.Lines, gc.FloodIPs, gc.Hard = o.Seed, o.Lines, o.FloodIPs, o.Hard
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
	return writeAuth(o.Out, gc, os.Create)
}

func writeAuth(path string, gc generate.AuthConfig, create func(string) (*os.File, error)) (generate.Truth, error) {
	f, err := create(path)
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
