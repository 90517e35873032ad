package app

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestHuntTextEscapesControls: a user name carrying terminal escape
// sequences (clear screen, cursor up + erase line, OSC 8 link, BEL)
// reaches hunt's text output only as visible escapes.
func TestHuntTextEscapesControls(t *testing.T) {
	tmp := t.TempDir()
	log := filepath.Join(tmp, "auth.log")
	evil := "root\x1b[2J\x1b[1A\x1b[2K\x1b]8;;http://evil.example/\x07x\x1b]8;;\x07"
	var b strings.Builder
	for i := 0; i < 5; i++ {
		b.WriteString("Nov 22 10:00:0" + string(rune('0'+i)) + " h sshd[1]: Failed password for invalid user " + evil +
			" from 203.0.113.9 port 4242 ssh2\n")
	}
	write(t, log, b.String())
	iocs := filepath.Join(tmp, "iocs.txt")
	write(t, iocs, "203.0.113.9 bad\x1b[31mred\n")
	dir := filepath.Join(tmp, "arch")
	if r := analyze(t, []string{log}, func(o *AnalyzeOptions) { o.Archive = dir; o.Year = 2026 }); r.code != 0 {
		t.Fatalf("analyze: %d %v\n%s", r.code, r.err, r.stderr)
	}
	var out, errb bytes.Buffer
	code, err := Hunt(context.Background(), HuntOptions{Archive: dir, IOCs: []string{iocs}, Output: "text", Stdout: &out, Stderr: &errb})
	if code != 0 || err != nil {
		t.Fatalf("hunt: %d %v\n%s", code, err, errb.String())
	}
	got := out.String()
	if strings.ContainsAny(got, "\x1b\x07") {
		t.Errorf("hunt text output carries raw control bytes:\n%q", got)
	}
	if !strings.Contains(got, `root\x1b[2J`) || !strings.Contains(got, "203.0.113.9") {
		t.Errorf("hunt text output lost the (escaped) evidence:\n%s", got)
	}
}
