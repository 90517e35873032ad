package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"winnow/internal/generate"
	"winnow/internal/testdata"
)

// Issue 10 item 7: an input error (2) wins over findings at --fail-on (1),
// and the reason for a non-zero exit is printed.
func TestInputErrorWinsOverFailOn(t *testing.T) {
	dir := t.TempDir()
	auth := filepath.Join(dir, "auth.log")
	write(t, auth, attack("\n"))
	r := analyze(t, []string{auth}, func(o *AnalyzeOptions) { o.FailOn = "low" })
	if r.code != ExitFailOn || !strings.Contains(r.stderr, "winnow: exit 1:") || !strings.Contains(r.stderr, "--fail-on") {
		t.Fatalf("findings at --fail-on: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = analyze(t, []string{auth, filepath.Join(dir, "missing.log")}, func(o *AnalyzeOptions) { o.FailOn = "low" })
	if r.code != ExitInputErr || !strings.Contains(r.stderr, "winnow: exit 2:") {
		t.Fatalf("findings and a missing input: exit %d, want 2; stderr:\n%s", r.code, r.stderr)
	}
	// An input that fails while read (here: all malformed) wins too.
	r = analyze(t, []string{auth}, func(o *AnalyzeOptions) { o.FailOn = "low"; o.InputFormat = "access" })
	if r.code != ExitInputErr {
		t.Fatalf("--input-format access on an auth.log: exit %d, want 2; stderr:\n%s", r.code, r.stderr)
	}
}

// Issue 10 item 5: every line malformed is a failed input.
func TestWrongInputFormatFails(t *testing.T) {
	auth := filepath.Join(t.TempDir(), "auth.log")
	write(t, auth, attack("\n"))
	r := analyze(t, []string{auth}, func(o *AnalyzeOptions) { o.InputFormat = "access" })
	if r.code != ExitInputErr || !strings.Contains(r.stderr, "31 of 31 lines are not access lines") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// Issue 10 item 24: a symlink to a directory is walked; --workers is
// bounded.
func TestSymlinkDirAndWorkerBound(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o755)
	write(t, filepath.Join(logs, "auth.log"), attack("\n"))
	link := filepath.Join(dir, "link")
	if err := os.Symlink(logs, link); err != nil {
		t.Skip(err)
	}
	r := analyze(t, []string{link}, nil)
	if r.code != ExitOK || len(r.docs) == 0 {
		t.Fatalf("symlink to a directory: exit %d, %d findings, stderr:\n%s", r.code, len(r.docs), r.stderr)
	}

	o := AnalyzeOptions{Workers: 1000, Output: "text", Stderr: &strings.Builder{}}
	cfg, err := o.pipelineConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if limit := 4 * runtime.GOMAXPROCS(0); cfg.Workers > limit {
		t.Fatalf("--workers 1000 gave %d shards, want at most %d", cfg.Workers, limit)
	}
	if !strings.Contains(o.Stderr.(*strings.Builder).String(), "--workers 1000: using") {
		t.Errorf("no note about the bound")
	}
}

// junkFile writes 100 KB of pseudo-random bytes.
func junkFile(t *testing.T) string {
	t.Helper()
	b := make([]byte, 100_000)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	p := filepath.Join(t.TempDir(), "junk.bin")
	write(t, p, string(b))
	return p
}

// Issue 10 item 8: commands other than analyze refuse binary input too.
func TestOtherCommandsRefuseBinary(t *testing.T) {
	junk := junkFile(t)
	var out, errb strings.Builder
	code, _ := ScoreDNS(context.Background(), ScoreDNSOptions{Args: []string{junk}, Stdout: &out, Stderr: &errb})
	if code != ExitInputErr || out.Len() != 0 || !strings.Contains(errb.String(), "binary") {
		t.Errorf("score dns junk.bin: exit %d, %d bytes scored, stderr %q", code, out.Len(), errb.String())
	}
	out.Reset()
	code, err := Learn(context.Background(), LearnOptions{Algo: "hst", Data: junk, Stdout: &out, Stderr: &errb})
	if code != ExitInputErr || err == nil || !strings.Contains(err.Error(), "binary") {
		t.Errorf("learn hst --data junk.bin: exit %d, err %v", code, err)
	}
	// Text that is not names at all is refused as well.
	notNames := filepath.Join(t.TempDir(), "auth.log")
	write(t, notNames, attack("\n"))
	errb.Reset()
	code, _ = ScoreDNS(context.Background(), ScoreDNSOptions{Args: []string{notNames}, Stdout: &out, Stderr: &errb})
	if code != ExitInputErr {
		t.Errorf("score dns auth.log: exit %d, stderr %q", code, errb.String())
	}
}

// Issue 10 item 1: demo writes only the files it is told to, never
// overwrites one without --force, and says every path it wrote.
func TestDemoWritesOnlyNamedFiles(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "access.log")
	write(t, mine, "the user's own log\n")
	demo := func(o DemoOptions) (int, string, error) {
		var out, errb strings.Builder
		o.Seed = 1
		o.Analyze = AnalyzeOptions{Output: "json", Quiet: true, Stdout: &out, Stderr: &errb, Only: []string{"auth.brute_force"}}
		code, err := Demo(context.Background(), o)
		return code, errb.String(), err
	}
	saved := filepath.Join(dir, "mydemo.log")
	code, stderr, err := demo(DemoOptions{Save: saved})
	if code != ExitOK || err != nil {
		t.Fatalf("exit %d: %v", code, err)
	}
	if b, _ := os.ReadFile(mine); string(b) != "the user's own log\n" {
		t.Fatalf("access.log beside --save was overwritten")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("files in the directory: %v, want access.log and mydemo.log only", names)
	}
	if !strings.Contains(stderr, "wrote "+saved) {
		t.Errorf("path written not said: %q", stderr)
	}
	// Existing files are refused without --force (before anything is
	// generated), overwritten with it.
	code, _, err = demo(DemoOptions{Save: saved, SaveWeb: mine})
	if code != ExitUsage || err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("existing files: exit %d, err %v", code, err)
	}
	if b, _ := os.ReadFile(mine); string(b) != "the user's own log\n" {
		t.Fatalf("access.log overwritten without --force")
	}
	code, stderr, err = demo(DemoOptions{Save: saved, SaveWeb: mine, SaveDNS: filepath.Join(dir, "d.pcap"), Force: true})
	if code != ExitOK || err != nil {
		t.Fatalf("--force: exit %d, err %v", code, err)
	}
	for _, p := range []string{saved, mine, filepath.Join(dir, "d.pcap")} {
		if !strings.Contains(stderr, "wrote "+p) {
			t.Errorf("stderr does not say %s was written: %q", p, stderr)
		}
	}
	if b, _ := os.ReadFile(mine); strings.HasPrefix(string(b), "the user's") {
		t.Errorf("--force did not write --save-web")
	}
}

// Issue 10 item 6: replay and hunt on a missing or non-archive directory
// exit 2 with a message instead of a clean empty result.
func TestReplayHuntNeedAnArchive(t *testing.T) {
	dir := t.TempDir()
	iocs := filepath.Join(dir, "iocs.txt")
	write(t, iocs, "203.0.113.5\n")
	notArchive := filepath.Join(dir, "logs")
	os.Mkdir(notArchive, 0o755)
	write(t, filepath.Join(notArchive, "auth.log"), attack("\n"))
	for _, a := range []string{filepath.Join(dir, "nonexistent"), notArchive, iocs} {
		var out, errb strings.Builder
		code, err := Replay(context.Background(), ReplayOptions{Archive: a,
			Analyze: AnalyzeOptions{Output: "text", Stdout: &out, Stderr: &errb}})
		if code != ExitInputErr || err == nil {
			t.Errorf("replay --archive %s: exit %d, err %v", a, code, err)
		}
		code, err = Hunt(context.Background(), HuntOptions{Archive: a, IOCs: []string{iocs}, Output: "text", Stdout: &out, Stderr: &errb})
		if code != ExitInputErr || err == nil {
			t.Errorf("hunt --archive %s: exit %d, err %v", a, code, err)
		}
	}
	// A real archive is accepted.
	arch := filepath.Join(dir, "archive")
	r := analyze(t, []string{filepath.Join(notArchive, "auth.log")}, func(o *AnalyzeOptions) { o.ArchiveOptions.Archive = arch })
	if r.code != ExitOK {
		t.Fatalf("analyze --archive: exit %d %v\n%s", r.code, r.err, r.stderr)
	}
	var out, errb strings.Builder
	code, err := Hunt(context.Background(), HuntOptions{Archive: arch, IOCs: []string{iocs}, Output: "text", Stdout: &out, Stderr: &errb})
	if code != ExitOK || err != nil {
		t.Errorf("hunt on an archive: exit %d, err %v", code, err)
	}
}

// Issue 10 item 9: the state-cap warning appears only when something was
// shed, names the parameter to raise, goes away when it is raised, and its
// counts are the same on every run.
func TestShedWarningOnlyWhenShedAndDeterministic(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.log")
	gc := generate.DefaultAuthConfig()
	gc.Lines = 3000
	if _, err := writeAuth(small, gc, os.Create); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, []string{small}, func(o *AnalyzeOptions) { o.Workers = 2 })
	if strings.Contains(r.stderr, "state cap") {
		t.Errorf("state-cap warning on a 3,000-line log:\n%s", r.stderr)
	}
	flood := filepath.Join(dir, "flood.log")
	gc.Lines, gc.FloodIPs = 5000, 5000
	if _, err := writeAuth(flood, gc, os.Create); err != nil {
		t.Fatal(err)
	}
	capped := func(max string) string {
		r := analyze(t, []string{flood}, func(o *AnalyzeOptions) {
			o.Workers = 2
			o.Only = []string{"auth.brute_force", "series.failed_logins_by_source"}
			o.Set = []string{"auth.brute_force.max_entities=" + max, "series.failed_logins_by_source.max_entities=" + max}
		})
		var lines []string
		for _, l := range strings.Split(r.stderr, "\n") {
			if strings.Contains(l, "state cap") {
				lines = append(lines, l)
			}
		}
		return strings.Join(lines, "\n")
	}
	first := capped("20")
	t.Logf("%s", first)
	if !strings.Contains(first, "auth.brute_force.max_entities=N") {
		t.Fatalf("no state-cap warning under a flood with max_entities=20:\n%s", first)
	}
	for i := 0; i < 2; i++ {
		if again := capped("20"); again != first {
			t.Fatalf("counts differ between identical runs:\n%s\n---\n%s", first, again)
		}
	}
	if raised := capped("1000000"); raised != "" {
		t.Errorf("warning after raising the cap:\n%s", raised)
	}
}

// Issue 10 item 15: 'winnow detectors' lists the detectors an option
// enables.
func TestCatalogueListsOptionalDetectors(t *testing.T) {
	c := DetectorCatalogue()
	for _, want := range []string{"\nioc.match  [", "--iocs FILE", "\nbayes.http  [", "\nbayes.auth  [", "\nbayes.dns  [", "--model FILE.wnm", "\nauth.brute_force  ["} {
		if !strings.Contains(c, want) {
			t.Errorf("catalogue lacks %q", want)
		}
	}
}

// Issue 10 item 15: a web model trained on one site and applied to
// another warns that its verdicts rest on unknown tokens.
func TestModelFromAnotherSiteWarns(t *testing.T) {
	site := testdata.File(t, "elastic-examples/apache_logs/apache_access.log")
	acunetix := testdata.File(t, "apache-scanner-logs/acunetix.txt")
	dir := t.TempDir()
	model := filepath.Join(dir, "web.wnm")
	var out, errb strings.Builder
	if code, err := Train(context.Background(), TrainOptions{Kind: "http", Good: []string{site}, Bad: []string{acunetix},
		CostBlockGood: 1, CostMissBad: 1, Validation: 0.2, Seed: 1, Out: model, Stdout: &out, Stderr: &errb}); err != nil || code != ExitOK {
		t.Fatalf("train: %d %v %s", code, err, errb.String())
	}
	other := filepath.Join(dir, "shop.log")
	if _, err := GenerateWeb(GenerateWebOptions{Out: other, Lines: 3000, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, []string{other}, func(o *AnalyzeOptions) { o.Models = []string{model}; o.Only = []string{"bayes."} })
	if !strings.Contains(r.stderr, "warning: bayes.http") || !strings.Contains(r.stderr, "never saw in training") {
		t.Errorf("no warning for a model from another site:\n%s", r.stderr)
	}
	r = analyze(t, []string{site}, func(o *AnalyzeOptions) { o.Models = []string{model}; o.Only = []string{"bayes."} })
	if strings.Contains(r.stderr, "never saw in training") {
		t.Errorf("warning on the model's own site:\n%s", r.stderr)
	}
}

// Issue 10 item 14: packets are not counted as lines; an .xz rotation is
// read; a directory holding logs winnow does not read (dpkg.log, apt's
// history.log) is analysed with a note, not exit 2.
func TestPacketsXZAndDebianLogDir(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "dns.pcap")
	if _, err := GenerateDNS(GenerateDNSOptions{Out: pcap, Queries: 2000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	r := analyze(t, []string{pcap}, nil)
	if r.code != ExitOK || !strings.Contains(r.stderr, "winnow: 0 lines, ") || !strings.Contains(r.stderr, " packets, ") {
		t.Errorf("pcap summary:\n%s", r.stderr)
	}

	logs := filepath.Join(dir, "var-log")
	os.MkdirAll(filepath.Join(logs, "apt"), 0o755)
	var xzb bytes.Buffer
	w, _ := xz.NewWriter(&xzb)
	w.Write([]byte(attack("\n")))
	w.Close()
	write(t, filepath.Join(logs, "auth.log.2.xz"), xzb.String())
	write(t, filepath.Join(logs, "dpkg.log"), strings.Repeat("2026-11-22 10:00:00 status installed libc6:amd64 2.36-9\n", 50))
	write(t, filepath.Join(logs, "apt", "history.log"), "\nStart-Date: 2026-11-22  10:00:00\nCommandline: apt-get upgrade\nEnd-Date: 2026-11-22  10:00:05\n")
	r = analyze(t, []string{logs}, nil)
	if r.code != ExitOK {
		t.Fatalf("a Debian-like /var/log: exit %d\n%s", r.code, r.stderr)
	}
	found := false
	for _, d := range r.docs {
		found = found || (d.Rule.Name == "auth.success_after_failures" && d.Winnow.Entity.Value == "203.0.113.5")
	}
	if !found {
		t.Errorf("the attack in auth.log.2.xz was not found:\n%s", r.stderr)
	}
	if strings.Count(r.stderr, "winnow: note:") != 2 {
		t.Errorf("want a note for dpkg.log and history.log:\n%s", r.stderr)
	}
}
