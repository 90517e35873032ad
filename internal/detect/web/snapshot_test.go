package web

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/generate/weblog"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
	"winnow/internal/testdata"
)

// TestSnapshotRestore: every web detector's state — open episodes, site
// baselines, web-shell paths — survives a restart in the middle of a
// generated day with its planted attacks and of Elastic's real Apache
// log: the findings of a run cut, snapshotted and resumed equal one run's.
func TestSnapshotRestore(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "access.log")
	f, err := os.Create(gen)
	if err != nil {
		t.Fatal(err)
	}
	cfg := weblog.DefaultConfig()
	cfg.Lines = 40000
	if _, err := weblog.Generate(f, cfg); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fm := &parse.Formats{}
	fm.Add(access.Format())
	evs := detecttest.ReadEvents(t, fm, 2026, gen)
	evs = append(evs, detecttest.ReadEvents(t, fm, 2015, testdata.File(t, "elastic-examples/apache_logs/apache_access.log"))...)
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
	if n := detecttest.CheckSnapshot(t, en, evs, detecttest.SnapshotOptions{}); n < 20 {
		t.Errorf("only %d findings: the data does not exercise the detectors", n)
	}
}
