package app

import (
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"

	"winnow/internal/testdata"
)

// A named pipe (a shell's <(cat auth.log)) cannot be reopened: what
// sniffing for a packet capture read from it must be replayed to the line
// reader. It used to lose the first 64 KiB (6,529 of 7,121 lines read).
func TestNamedPipeLosesNothing(t *testing.T) {
	src := filepath.Join(testdata.Dir(t), "elastic-examples", "suspicious_login_activity", "auth.log")
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(t.TempDir(), "auth.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(body)
		f.Close()
	}()
	piped := analyze(t, []string{fifo}, func(o *AnalyzeOptions) { o.Year = 2026 })
	plain := analyze(t, []string{src}, func(o *AnalyzeOptions) { o.Year = 2026 })
	count := regexp.MustCompile(`winnow: ([0-9,]+) lines, ([0-9,]+) events`)
	p, q := count.FindStringSubmatch(piped.stderr), count.FindStringSubmatch(plain.stderr)
	if p == nil || q == nil {
		t.Fatalf("no summary:\n%s\n%s", piped.stderr, plain.stderr)
	}
	if p[1] != q[1] || p[2] != q[2] || p[1] != "7,121" {
		t.Fatalf("pipe read %s lines / %s events, the file %s / %s", p[1], p[2], q[1], q[2])
	}
	if len(piped.docs) != len(plain.docs) {
		t.Fatalf("pipe gave %d findings, the file %d", len(piped.docs), len(plain.docs))
	}
}
