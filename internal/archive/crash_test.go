package archive

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"winnow/internal/event"
)

const crashEnv = "WINNOW_ARCHIVE_CRASH_DIR"

// writeForever is the child process of TestCrashMidWrite: it archives
// synthetic events, an hour after another, until it is killed.
func writeForever(dir string) {
	w, err := NewWriter(Options{Dir: dir, Run: "crash", RowGroupRows: 500, FileRows: 2000, Lateness: time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	batch := make([]event.Event, 0, 100)
	for i := 0; ; i++ {
		ev := event.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: event.KindAuth, Action: event.ActLoginFailure,
			Outcome: event.OutcomeFailure, Host: "h", Program: "sshd", SrcIP: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}),
			User: "root", Count: 1, Ref: event.Ref{File: "auth.log", Line: int64(i + 1)},
			Raw: []byte(fmt.Sprintf("line %d", i+1))}
		batch = append(batch, ev)
		if len(batch) == cap(batch) {
			if err := w.Write(batch); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(3)
			}
			batch = batch[:0]
		}
	}
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		writeForever(dir)
	}
	os.Exit(m.Run())
}

// TestCrashMidWrite kills a writer process with SIGKILL while it writes,
// then checks that every file the commit log names is complete and
// readable, that no partial file is visible to readers, and that a replay
// reads exactly the committed events.
func TestCrashMidWrite(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for countLines(filepath.Join(dir, "_commits.log")) < 8 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the writer committed nothing in 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	var want int64
	committed := map[string]bool{}
	f, err := os.Open(filepath.Join(dir, "_commits.log"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c Commit
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			// The kill may cut the last line short; it names no file that a
			// reader could be promised.
			continue
		}
		rows, err := readAll[AuthRow](filepath.Join(dir, filepath.FromSlash(c.File)))
		if err != nil || int64(len(rows)) != c.Rows {
			t.Errorf("committed %s: %d rows, want %d (%v)", c.File, len(rows), c.Rows, err)
		}
		committed[c.File] = true
		want += c.Rows
	}
	f.Close()
	// Readers see only committed files, even if temporary ones were left.
	files, errs := list(dir, EventKinds, time.Time{}, time.Time{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, fr := range files {
		rel, _ := filepath.Rel(dir, fr.Path)
		if !committed[filepath.ToSlash(rel)] {
			t.Errorf("uncommitted file visible to readers: %s", rel)
		}
	}
	var got int64
	st, err := Events(context.Background(), ReadOptions{Dir: dir, Location: time.UTC}, func(b []event.Event) error {
		got += int64(len(b))
		return nil
	})
	if err != nil || len(st.Skipped) > 0 {
		t.Fatalf("replay after crash: %v %v", err, st.Skipped)
	}
	if got != want || want == 0 {
		t.Errorf("replayed %d events, commit log promises %d", got, want)
	}
	t.Logf("killed after %d committed files, %d events; replay read them all", len(committed), want)
}

func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

// TestCorruptFileSkipped truncates and garbles archive files: the read
// reports them and goes on with the rest.
func TestCorruptFileSkipped(t *testing.T) {
	dir := t.TempDir()
	w, err := NewWriter(Options{Dir: dir, Run: "c"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	var evs []event.Event
	for h := 0; h < 3; h++ {
		for i := 0; i < 100; i++ {
			evs = append(evs, event.Event{Time: t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Second),
				Kind: event.KindAuth, Action: event.ActLoginSuccess, Count: 1, Raw: []byte("x")})
		}
	}
	if err := w.Write(evs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	files, _ := list(dir, EventKinds, time.Time{}, time.Time{})
	if len(files) != 3 {
		t.Fatalf("%d files", len(files))
	}
	b, _ := os.ReadFile(files[0].Path)
	os.WriteFile(files[0].Path, b[:len(b)/2], 0o644)                       // truncated
	os.WriteFile(files[1].Path, []byte("PAR1 this is not parquet"), 0o644) // junk
	var got int
	st, err := Events(context.Background(), ReadOptions{Dir: dir, Location: time.UTC}, func(b []event.Event) error {
		got += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != 100 || len(st.Skipped) != 2 || !strings.Contains(st.Skipped[0].Error(), "corrupt archive file") {
		t.Errorf("read %d events, skipped %v", got, st.Skipped)
	}
}
