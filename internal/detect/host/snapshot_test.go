package host

import (
	"path/filepath"
	"sort"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/audit"
)

// TestSnapshotRestore: open (host, signature) groups survive a restart in
// the middle of the audit logs of the parser's tests, replayed as one day
// (each file shifted to its own hour): the findings of a run cut,
// snapshotted and resumed equal one run's.
func TestSnapshotRestore(t *testing.T) {
	fm := &parse.Formats{}
	fm.Add(audit.Format())
	files, _ := filepath.Glob("../../parse/audit/testdata/*.log")
	var evs []event.Event
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, f := range files {
		got := detecttest.ReadEvents(t, fm, 2026, f)
		if len(got) == 0 {
			continue
		}
		shift := base.Add(time.Duration(i) * 20 * time.Minute).Sub(got[0].Time)
		for j := range got {
			got[j].Time = got[j].Time.Add(shift)
		}
		evs = append(evs, got...)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	var en []detect.Enabled
	for _, s := range Specs() {
		s := s
		p, err := detect.NewParams(&s, nil)
		if err != nil {
			t.Fatal(err)
		}
		en = append(en, detect.Enabled{Spec: &s, Params: p})
	}
	if n := detecttest.CheckSnapshot(t, en, evs, detecttest.SnapshotOptions{}); n < 4 {
		t.Errorf("only %d findings: the logs do not exercise the rules", n)
	}
}
