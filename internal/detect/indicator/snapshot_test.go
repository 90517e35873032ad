package indicator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/enrich/ioc"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
	"winnow/internal/state"
	"winnow/internal/testdata"
)

// TestSnapshotRestore: open indicator episodes survive a restart in the
// middle of a real auth log whose busiest sources are listed as bad, and
// are found again by name when the lists are loaded anew (other indices).
func TestSnapshotRestore(t *testing.T) {
	f := &parse.Formats{}
	f.Add(authlog.Format())
	evs := detecttest.ReadEvents(t, f, 2015, testdata.File(t, "auth-logs/secrepo/auth.log"))
	count := map[string]int{}
	for _, ev := range evs {
		if ev.SrcIP.IsValid() {
			count[ev.SrcIP.String()]++
		}
	}
	dir := t.TempDir()
	var list, decoy []byte
	n := 0
	for ip, c := range count {
		if c >= 20 {
			list = append(list, ip+"\n"...)
			n++
		}
	}
	for i := 0; i < 50; i++ {
		decoy = append(decoy, fmt.Sprintf("198.51.100.%d\n", i)...)
	}
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, list, 0o600)
	set, err := ioc.LoadFiles([]string{bad}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := Spec(set)
	p, _ := detect.NewParams(&s, nil)
	en := []detect.Enabled{{Spec: &s, Params: p}}
	if got := detecttest.CheckSnapshot(t, en, evs, detecttest.SnapshotOptions{}); got < 10 {
		t.Fatalf("only %d findings from %d listed addresses", got, n)
	}

	// Reloaded lists with other indicators first: every index moves, the
	// episodes are found by name.
	decoyFile := filepath.Join(dir, "a-decoy.txt")
	os.WriteFile(decoyFile, decoy, 0o600)
	set2, err := ioc.LoadFiles([]string{decoyFile, bad}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2 := Spec(set2)
	p2, _ := detect.NewParams(&s2, nil)
	en2 := []detect.Enabled{{Spec: &s2, Params: p2}}
	want := findings(t, en, evs, nil, 0)
	half := len(evs) / 2
	var snap *detect.Snapshot
	first := findings(t, en, evs[:half], &snap, 0)
	rest := findings(t, en2, evs[half:], &snap, 1)
	got := append(first, rest...)
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("with reloaded lists: %d findings, want %d", len(got), len(want))
	}
}

// findings runs evs; with mode 0 and snap != nil it snapshots into *snap
// instead of flushing, with mode 1 it restores *snap first.
func findings(t *testing.T, en []detect.Enabled, evs []event.Event, snap **detect.Snapshot, mode int) []string {
	t.Helper()
	var mu sync.Mutex
	var out []string
	r, err := detect.NewRunner(context.Background(), detect.RunnerConfig{Workers: 2}, en, func(a event.Alert) {
		b, _ := state.EncodeFinding(&a)
		mu.Lock()
		out = append(out, string(b))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if snap != nil && mode == 1 {
		if err := r.Restore(*snap); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Submit(evs); err != nil {
		t.Fatal(err)
	}
	if snap != nil && mode == 0 {
		if *snap, err = r.Snapshot(); err != nil {
			t.Fatal(err)
		}
	} else if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Strings(out)
	return out
}
