package archive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
)

func someEvents(t0 time.Time, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: event.KindAuth, Action: event.ActLoginSuccess,
			Count: 1, Ref: event.Ref{File: "auth.log", Line: int64(i + 1)}, Raw: []byte("x")}
	}
	return evs
}

// TestSymlinkCommitLogRefused: a commit log that is a link to a file
// outside the archive is an error, and the target is left untouched.
func TestSymlinkCommitLogRefused(t *testing.T) {
	tmp := t.TempDir()
	victim := filepath.Join(tmp, "victim.txt")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "arch")
	os.Mkdir(dir, 0o755)
	if err := os.Symlink("../victim.txt", filepath.Join(dir, "_commits.log")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	w, err := NewWriter(Options{Dir: dir, Run: "s"})
	if err == nil {
		w.Write(someEvents(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), 10))
		err = w.Close(nil)
	}
	if !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), "_commits.log") {
		t.Errorf("error = %v, want one naming _commits.log as a link", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the link's target was written: %q", b)
	}
}

// TestSymlinkPartitionDirRefused: a kind=auth directory that is a link
// to another directory does not receive data; the run fails naming it.
func TestSymlinkPartitionDirRefused(t *testing.T) {
	tmp := t.TempDir()
	elsewhere := filepath.Join(tmp, "elsewhere")
	os.Mkdir(elsewhere, 0o755)
	dir := filepath.Join(tmp, "arch")
	os.Mkdir(dir, 0o755)
	if err := os.Symlink(elsewhere, filepath.Join(dir, "kind=auth")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	w, err := NewWriter(Options{Dir: dir, Run: "s"})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(someEvents(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), 10))
	err = w.Close(nil)
	if !errors.Is(err, ErrSymlink) || !strings.Contains(err.Error(), "kind=auth") {
		t.Errorf("error = %v, want one naming kind=auth as a link", err)
	}
	var found []string
	filepath.Walk(elsewhere, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			found = append(found, p)
		}
		return nil
	})
	if len(found) > 0 {
		t.Errorf("data written through the link: %v", found)
	}
	// A link deeper down (a month directory) is refused as well.
	dir2 := filepath.Join(tmp, "arch2")
	os.MkdirAll(filepath.Join(dir2, "kind=auth"), 0o755)
	os.Symlink(elsewhere, filepath.Join(dir2, "kind=auth", "month=2026-11"))
	w, err = NewWriter(Options{Dir: dir2, Run: "s"})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(someEvents(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), 10))
	if err := w.Close(nil); !errors.Is(err, ErrSymlink) {
		t.Errorf("date link: error = %v", err)
	}
}
