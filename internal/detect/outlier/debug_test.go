package outlier

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestNABDebug prints, for WINNOW_NAB_FILE (a substring of a NAB file
// name), each detector's vote count inside and outside the windows and the
// top-scoring points.
func TestNABDebug(t *testing.T) {
	pat := os.Getenv("WINNOW_NAB_FILE")
	if pat == "" {
		t.Skip("set WINNOW_NAB_FILE")
	}
	c := loadNAB(t)
	cfg := DefaultEnsembleConfig()
	for i, f := range c.files {
		if !strings.Contains(f.Name, pat) {
			continue
		}
		ws := c.labels[f.Name]
		inWin := func(k int) bool {
			for _, w := range ws {
				if !f.Times[k].Before(w.Start) && !f.Times[k].After(w.End) {
					return true
				}
			}
			return false
		}
		e := MustEnsemble(cfg)
		n := len(e.specs)
		votesIn, votesOut := make([]int, n), make([]int, n)
		type top struct {
			k     int
			score float64
			desc  string
		}
		var tops []top
		for k, x := range c.values[i] {
			r := e.Update(f.Times[k], x)
			var b strings.Builder
			for j, v := range e.Votes() {
				if v.Voted {
					if inWin(k) {
						votesIn[j]++
					} else {
						votesOut[j]++
					}
					fmt.Fprintf(&b, " %s=%.1f(w%.2f)", v.Detector, v.Z, v.Weight)
				}
			}
			if r.Score > 0.5 {
				tops = append(tops, top{k, r.Score, b.String()})
			}
		}
		t.Logf("%s: %d points, windows %v", f.Name, len(f.Times), ws)
		for j, s := range e.specs {
			t.Logf("  %-28s votes in windows %5d outside %5d", s.Name, votesIn[j], votesOut[j])
		}
		for _, tp := range tops {
			t.Logf("  %5d %s in=%v score %.3f:%s", tp.k, f.Times[tp.k].Format("01-02 15:04"), inWin(tp.k), tp.score, tp.desc)
		}
	}
}
