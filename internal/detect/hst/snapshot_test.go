package hst

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

// TestSnapshotRestore: the sites' forests and the clients' open windows
// survive a restart in the middle of a generated day and Elastic's real
// Apache log: the findings of a run cut, snapshotted and resumed equal one
// run's. Warm-up is shortened so that the short logs report.
func TestSnapshotRestore(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "access.log")
	f, err := os.Create(gen)
	if err != nil {
		t.Fatal(err)
	}
	cfg := weblog.DefaultConfig()
	cfg.Lines = 30000
	if _, err := weblog.Generate(f, cfg); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fm := &parse.Formats{}
	fm.Add(access.Format())
	evs := detecttest.ReadEvents(t, fm, 2026, gen)
	evs = append(evs, detecttest.ReadEvents(t, fm, 2015, testdata.File(t, "elastic-examples/apache_logs/apache_access.log"))...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	s := ClientSpec()
	p, err := detect.NewParams(&s, map[string]string{"warmup": "20", "forest_window": "50", "quantile": "0.05", "min_score": "0.5"})
	if err != nil {
		t.Fatal(err)
	}
	if n := detecttest.CheckSnapshot(t, []detect.Enabled{{Spec: &s, Params: p}}, evs, detecttest.SnapshotOptions{}); n < 3 {
		t.Errorf("only %d findings: the data does not exercise the forests", n)
	}
}
