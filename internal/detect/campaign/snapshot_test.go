package campaign

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/event"
	"winnow/internal/generate/weblog"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
	"winnow/internal/parse/authlog"
	"winnow/internal/testdata"
)

// TestSnapshotRestore: the sources' profiles per host and site and the campaigns reported
// survive a restart in the middle of a month of real sshd logs (secrepo)
// and a generated web day: the findings of a run cut, snapshotted and
// resumed equal one run's.
func TestSnapshotRestore(t *testing.T) {
	web := filepath.Join(t.TempDir(), "access.log")
	f, err := os.Create(web)
	if err != nil {
		t.Fatal(err)
	}
	wc := weblog.DefaultConfig()
	wc.Lines = 20000
	if _, err := weblog.Generate(f, wc); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fm := &parse.Formats{}
	fm.Add(authlog.Format())
	fm.Add(access.Format())
	var evs []event.Event
	evs = append(evs, detecttest.ReadEvents(t, fm, 2015, testdata.File(t, "auth-logs/secrepo/auth.log"))...)
	evs = append(evs, detecttest.ReadEvents(t, fm, 2026, web)...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	var reg detect.Registry
	Register(&reg)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		p, err := detect.NewParams(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		en = append(en, detect.Enabled{Spec: s, Params: p})
	}
	if n := detecttest.CheckSnapshot(t, en, evs, detecttest.SnapshotOptions{}); n < 2 {
		t.Errorf("only %d findings", n)
	}
}
