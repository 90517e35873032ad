package app

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"winnow/internal/archive"
	"winnow/internal/source"
	"winnow/internal/testdata"
)

const elasticAuth = "elastic-examples/suspicious_login_activity/auth.log"

func archivedEvents(t *testing.T, dir string) int {
	t.Helper()
	r := replay(t, ReplayOptions{Archive: dir, Analyze: AnalyzeOptions{MinSeverity: "info", Quiet: false}})
	if r.code > 1 {
		t.Fatalf("replay: %d %v\n%s", r.code, r.err, r.stderr)
	}
	// "winnow: N lines, N events, …" — the archive's events are the lines.
	for _, l := range strings.Split(r.stderr, "\n") {
		if f := strings.Fields(l); len(f) > 3 && f[0] == "winnow:" && f[2] == "lines," {
			n := 0
			for _, c := range f[1] {
				if c >= '0' && c <= '9' {
					n = n*10 + int(c-'0')
				}
			}
			return n
		}
	}
	t.Fatalf("no event count in the replay summary:\n%s", r.stderr)
	return 0
}

// TestAnalyzeArchiveTwiceIsIdempotent: `analyze --archive A auth.log`
// twice stores every event once (replay reports what it reported after
// the first run, not doubled failures), and the second run says so.
func TestAnalyzeArchiveTwiceIsIdempotent(t *testing.T) {
	path := testdata.File(t, elasticAuth)
	dir := filepath.Join(t.TempDir(), "arch")
	mod := func(o *AnalyzeOptions) { o.Archive = dir; o.Year = 2026 }
	first := analyze(t, []string{path}, mod)
	if first.code > 1 {
		t.Fatalf("analyze: %d %v\n%s", first.code, first.err, first.stderr)
	}
	once := replay(t, ReplayOptions{Archive: dir, Analyze: AnalyzeOptions{MinSeverity: "info"}})
	n1 := archivedEvents(t, dir)
	second := analyze(t, []string{path}, mod)
	if !strings.Contains(second.stderr, "already archived") || !strings.Contains(second.stderr, "archived 0 events and 0 findings") {
		t.Errorf("the second run does not say it skipped the input:\n%s", second.stderr)
	}
	twice := replay(t, ReplayOptions{Archive: dir, Analyze: AnalyzeOptions{MinSeverity: "info"}})
	if n2 := archivedEvents(t, dir); n2 != n1 || n1 != 7446 {
		t.Errorf("archive holds %d events after one run, %d after two (want 7446 both)", n1, n2)
	}
	if !reflect.DeepEqual(findingKeys(once.docs), findingKeys(twice.docs)) || len(once.docs) == 0 {
		t.Errorf("replay after two runs differs from replay after one: %d vs %d findings", len(once.docs), len(twice.docs))
	}
	// The same content on standard input is recognised too.
	b, _ := os.ReadFile(path)
	third := analyze(t, []string{"-"}, func(o *AnalyzeOptions) { mod(o); o.Stdin = bytes.NewReader(b) })
	if !strings.Contains(third.stderr, "already archived") || archivedEvents(t, dir) != n1 {
		t.Errorf("stdin with the same content was archived again:\n%s", third.stderr)
	}
}

// TestAnalyzeArchiveGrowingLog: an hourly cron over a growing auth.log
// archives each line once; replay over the archive built in two runs
// (first half, then the whole file) finds what replay over an archive of
// the whole file in one run finds.
func TestAnalyzeArchiveGrowingLog(t *testing.T) {
	b, err := os.ReadFile(testdata.File(t, elasticAuth))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	tmp := t.TempDir()
	log := filepath.Join(tmp, "auth.log")
	write(t, log, strings.Join(lines[:len(lines)/2], ""))
	grown, whole := filepath.Join(tmp, "grown"), filepath.Join(tmp, "whole")
	analyze(t, []string{log}, func(o *AnalyzeOptions) { o.Archive = grown; o.Year = 2026 })
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Join(lines[len(lines)/2:], ""))
	f.Close()
	r := analyze(t, []string{log}, func(o *AnalyzeOptions) { o.Archive = grown; o.Year = 2026 })
	if !strings.Contains(r.stderr, "already archived") || !strings.Contains(r.stderr, "added") {
		t.Errorf("the second run does not say what it added:\n%s", r.stderr)
	}
	analyze(t, []string{log}, func(o *AnalyzeOptions) { o.Archive = whole; o.Year = 2026 })
	if g, w := archivedEvents(t, grown), archivedEvents(t, whole); g != w || w != 7446 {
		t.Errorf("grown archive holds %d events, whole-file archive %d", g, w)
	}
	rg := replay(t, ReplayOptions{Archive: grown, Analyze: AnalyzeOptions{MinSeverity: "info"}})
	rw := replay(t, ReplayOptions{Archive: whole, Analyze: AnalyzeOptions{MinSeverity: "info"}})
	if !reflect.DeepEqual(findingKeys(rg.docs), findingKeys(rw.docs)) {
		t.Errorf("replay of the archive built in two runs: %d findings, of the one-run archive: %d", len(rg.docs), len(rw.docs))
	}
}

// TestPruneAgeBasis: imported historical logs (events years old,
// archived today) survive `prune --max-age 90d` by default (age of the
// archived data); --dry-run with --age-basis event lists every file and
// removes nothing; without --dry-run it removes and lists them.
func TestPruneAgeBasis(t *testing.T) {
	path := testdata.File(t, elasticAuth)
	dir := filepath.Join(t.TempDir(), "arch")
	analyze(t, []string{path}, func(o *AnalyzeOptions) { o.Archive = dir; o.Year = 2019 })
	before := dirBytes(dir)
	var out bytes.Buffer
	if code, err := Prune(PruneOptions{Archive: dir, MaxAge: 90 * 24 * 3600e9, Stdout: &out}); code != 0 || err != nil {
		t.Fatalf("prune: %d %v", code, err)
	}
	if !strings.HasPrefix(out.String(), "removed 0 files") || dirBytes(dir) != before {
		t.Errorf("default prune removed freshly archived (historical) data:\n%s", out.String())
	}
	out.Reset()
	Prune(PruneOptions{Archive: dir, MaxAge: 90 * 24 * 3600e9, AgeBasis: "event", DryRun: true, Stdout: &out})
	if !strings.Contains(out.String(), "would remove kind=auth/month=2019-03/") || !strings.Contains(out.String(), "dry run") ||
		dirBytes(dir) != before {
		t.Errorf("dry run:\n%s", out.String())
	}
	out.Reset()
	Prune(PruneOptions{Archive: dir, MaxAge: 90 * 24 * 3600e9, AgeBasis: "event", Stdout: &out})
	if !strings.Contains(out.String(), "removed kind=auth/month=2019-03/") || !strings.Contains(out.String(), "kept 0 files") {
		t.Errorf("event-basis prune:\n%s", out.String())
	}
	if n := archivedEvents(t, dir); n != 0 {
		t.Errorf("%d events left after pruning everything", n)
	}
	if code, _ := Prune(PruneOptions{Archive: dir, MaxAge: 1, AgeBasis: "mtime", Stdout: &out}); code != ExitUsage {
		t.Errorf("unknown --age-basis: exit %d", code)
	}
}

// TestFollowRefusesArchive: --archive with --follow is a usage error, not
// silently ignored.
func TestFollowRefusesArchive(t *testing.T) {
	var out, errb bytes.Buffer
	code, err := AnalyzeFollow(t.Context(), AnalyzeOptions{Args: []string{"x.log"}, Output: "json", Stdout: &out, Stderr: &errb,
		ArchiveOptions: ArchiveOptions{Archive: t.TempDir()}})
	if code != ExitUsage || err == nil || !strings.Contains(err.Error(), "--archive") {
		t.Errorf("analyze --follow --archive: exit %d, %v", code, err)
	}
}

// TestArchivePipeInputReadOnce: a named pipe (what <(zcat x.gz) gives)
// is not read ahead to fingerprint it (it can be read once only): it is
// archived whole, and every byte is left for the pipeline.
func TestArchivePipeInputReadOnce(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	want := strings.Repeat("Nov 22 10:00:00 h sshd[1]: Failed password for root from 203.0.113.9 port 1 ssh2\n", 2000)
	go func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.WriteString(want)
			f.Close()
		}
	}()
	done := make(chan archive.Source, 1)
	go func() { done <- identify(source.Input{Name: fifo, Path: fifo, Size: -1}, nil) }()
	var src archive.Source
	select {
	case src = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("identify blocked on a named pipe")
	}
	if len(src.Head) != 0 {
		t.Errorf("identify read %d bytes of a named pipe", len(src.Head))
	}
	got, err := os.ReadFile(fifo)
	if err != nil || string(got) != want {
		t.Errorf("the pipe lost data: read %d of %d bytes (%v)", len(got), len(want), err)
	}
}
