package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// analyze --follow reports a brute force while the file is still being
// written, follows it across a rotation, and closes the incident when
// interrupted.
func TestAnalyzeFollow(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	write := func(path, ip string, from, n int) {
		f, _ := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		defer f.Close()
		for i := from; i < from+n; i++ {
			fmt.Fprintf(f, "Nov 22 10:%02d:%02d web1 sshd[%d]: Failed password for root from %s port %d ssh2\n", i/60, i%60, i, ip, 40000+i)
		}
	}
	write(log, "203.0.113.9", 0, 10)
	var out, errOut syncBuf
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, err := AnalyzeFollow(ctx, AnalyzeOptions{Args: []string{log + "*"}, Output: "text", Year: 2026, TZ: "UTC",
			Only: []string{"auth.brute_force"}, Stdout: &out, Stderr: &errOut, Color: "never"})
		if err != nil {
			t.Error(err)
		}
		done <- code
	}()
	wait := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in:\n%s", what, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	write(log, "203.0.113.9", 10, 15) // crosses the threshold while followed
	wait("203.0.113.9  open #")
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	write(log, "198.51.100.4", 30, 20) // a new file after rotation
	wait("198.51.100.4  open #")
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if n := strings.Count(out.String(), " closed #"); n != 2 {
		t.Fatalf("%d closed reports, want 2:\n%s", n, out.String())
	}
}
