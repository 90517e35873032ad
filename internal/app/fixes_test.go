package app

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
