package archive

import (
	"context"
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

// crashEvents is the input of the crash tests: n events an a second
// apart from midnight, one per line of "auth.log", over several days.
func crashEvents(n int) []event.Event {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{Time: t0.Add(time.Duration(i) * 7 * time.Second), Kind: event.KindAuth, Action: event.ActLoginFailure,
			Outcome: event.OutcomeFailure, Host: "h", Program: "sshd", SrcIP: netip.AddrFrom4([4]byte{203, 0, 113, byte(i)}),
			User: "root", Count: 1, Ref: event.Ref{File: "auth.log", Line: int64(i + 1)},
			Raw: []byte(fmt.Sprintf("line %d", i+1))}
	}
	return evs
}

const crashInput = 40000

// crashRun archives crashEvents as one run that tracks its input, like
// analyze --archive DIR auth.log; hang leaves it running (uncommitted
// files open, no end record) until it is killed.
func crashRun(dir string, hang bool) (*Writer, error) {
	w, err := NewWriter(Options{Dir: dir, RowGroupRows: 500, FileRows: 2000, Lateness: time.Second})
	if err != nil {
		return nil, err
	}
	w.Track(Source{Name: "auth.log", Head: []byte("the same input, run after run")})
	evs := crashEvents(crashInput)
	for i := 0; i < len(evs); i += 100 {
		if err := w.Write(evs[i:min(i+100, len(evs))]); err != nil {
			return nil, err
		}
	}
	if hang {
		select {}
	}
	return w, w.Close(nil)
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		if _, err := crashRun(dir, true); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	os.Exit(m.Run())
}

// TestCrashMidWrite kills a writer process with SIGKILL while it writes,
// then checks that every file the journal names is complete and
// readable, that no partial file is visible to readers, and that a replay
// reads exactly the committed events. Then it re-runs the same command,
// as a user would to recover: the archive ends with every event exactly
// once (the dead run is replaced, not added to), the stale temporary
// files are gone and nothing else in the archive was touched.
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

	st, err := readState(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for f, c := range st.files {
		rows, err := readAll[AuthRow](filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil || int64(len(rows)) != c.Rows {
			t.Errorf("committed %s: %d rows, want %d (%v)", f, len(rows), c.Rows, err)
		}
		want += c.Rows
	}
	if len(st.begun) != 1 {
		t.Fatalf("journal shows %d runs begun and not ended, want the killed one", len(st.begun))
	}
	// Readers see only committed files, even if temporary ones were left.
	files, errs := list(dir, EventKinds, time.Time{}, time.Time{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, fr := range files {
		if _, ok := st.files[fr.Rel]; !ok {
			t.Errorf("uncommitted file visible to readers: %s", fr.Rel)
		}
	}
	got := countEvents(t, dir)
	if got != want || want == 0 {
		t.Errorf("replayed %d events, the journal promises %d", got, want)
	}
	t.Logf("killed after %d committed files, %d events; replay read them all", len(st.files), want)

	// Stale temporary files: the dead run's, plus one planted; a file that
	// is not winnow's own is left alone.
	part := filepath.Join(dir, "kind=auth", "month=2026-11")
	planted := filepath.Join(part, ".part-19990101T000000.000000000-00001.parquet.tmp")
	foreign := filepath.Join(part, ".keep-me.tmp")
	os.WriteFile(planted, []byte("junk"), 0o644)
	os.WriteFile(foreign, []byte("mine"), 0o644)

	w, err := crashRun(dir, false)
	if err != nil {
		t.Fatalf("re-run after the crash: %v", err)
	}
	rec := w.Stats().Recovered
	if len(rec.RolledBack) != 1 || rec.RolledBack[0].Rows != want || rec.Temps < 1 {
		t.Errorf("recovery = %+v, want the dead run's %d rows rolled back and its temporary files removed", rec, want)
	}
	if got := countEvents(t, dir); got != crashInput {
		t.Errorf("after the re-run the archive holds %d events, want each of the %d once", got, crashInput)
	}
	seen := map[int64]int{}
	Events(context.Background(), ReadOptions{Dir: dir, Location: time.UTC}, func(b []event.Event) error {
		for i := range b {
			seen[b[i].Ref.Line]++
		}
		return nil
	})
	for l := int64(1); l <= crashInput; l++ {
		if seen[l] != 1 {
			t.Fatalf("line %d archived %d times", l, seen[l])
		}
	}
	var temps []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && isTemp(d.Name()) {
			temps = append(temps, p)
		}
		return nil
	})
	if len(temps) > 0 {
		t.Errorf("stale temporary files left: %v", temps)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("a file that is not winnow's was removed: %v", err)
	}
	// And the same command once more stores nothing.
	w, err = crashRun(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.Events != 0 || s.Skipped != 0 && w.Inputs()[0].Skipped != crashInput {
		t.Errorf("third run: %+v %+v", s, w.Inputs())
	}
	if got := countEvents(t, dir); got != crashInput {
		t.Errorf("after a third run the archive holds %d events, want %d", got, crashInput)
	}
}

func countEvents(t *testing.T, dir string) int64 {
	t.Helper()
	var got int64
	st, err := Events(context.Background(), ReadOptions{Dir: dir, Location: time.UTC}, func(b []event.Event) error {
		got += int64(len(b))
		return nil
	})
	if err != nil || len(st.Skipped) > 0 {
		t.Fatalf("read: %v %v", err, st.Skipped)
	}
	return got
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
			evs = append(evs, event.Event{Time: t0.Add(time.Duration(h)*32*24*time.Hour + time.Duration(i)*time.Second),
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
