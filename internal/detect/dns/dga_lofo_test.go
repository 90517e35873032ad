package dns

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"winnow/internal/testdata"
)

// lofoData is chrmor split for leave-family-out validation.
type lofoData struct {
	benignTrain []string            // chrmor legit (training half) and dns-tunneling benign names
	benignTest  []string            // chrmor legit, other half
	words       []string            // common host labels (cmd/builddga/subdomains.txt)
	byFamily    map[string][]string // DGA labels (both halves) per family
	families    []string
}

func loadLOFO(t testing.TB) *lofoData {
	t.Helper()
	d := &lofoData{byFamily: map[string][]string{}}
	for _, r := range readChrmor(t) {
		label := Analyze(dnsSplitModel, strings.ToLower(strings.TrimSpace(r.domain))).Label
		switch {
		case r.class == "legit" && InTrainSplit(r.domain):
			d.benignTrain = append(d.benignTrain, label)
		case r.class == "legit":
			d.benignTest = append(d.benignTest, label)
		case r.class == "dga":
			d.byFamily[r.family] = append(d.byFamily[r.family], label)
		}
	}
	names, labels := readLabelled(t, "dns-tunneling/train.csv")
	for i, n := range names {
		if !labels[i] {
			d.benignTrain = append(d.benignTrain, Analyze(dnsSplitModel, strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), "."))).Label)
		}
	}
	b, err := os.ReadFile(filepath.Join("cmd", "builddga", "subdomains.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		d.words = append(d.words, strings.Fields(l)...)
	}
	for f := range d.byFamily {
		d.families = append(d.families, f)
	}
	sort.Strings(d.families)
	return d
}

// dnsSplitModel is a model used only to split names.
var dnsSplitModel = func() *Model {
	c := NewCounts()
	c.AddLabel("a", 1)
	return c.Model(nil, nil)
}()

// familyResult is one held-out family's recall.
type familyResult struct {
	family       string
	n            int
	recall       float64 // at 1 % false positives on the benign test half
	recallShip   float64 // at the fold model's own threshold
	benignFPShip float64
}

// leaveFamilyOut builds one model per family without that family's names
// and scores them: recall at 1 % false positives on benign names the
// model never saw.
func leaveFamilyOut(t testing.TB, d *lofoData, families []string, iters int, feats, dict []string) []familyResult {
	t.Helper()
	var out []familyResult
	for _, fam := range families {
		var dga []string
		for _, f := range d.families {
			if f == fam {
				continue
			}
			for _, l := range d.byFamily[f] {
				if InTrainSplit(l) {
					dga = append(dga, l)
				}
			}
		}
		m, err := BuildDGAModel(DGATrainingSet{Benign: d.benignTrain, Words: d.words, DGA: dga, Iterations: iters,
			Features: feats, Dictionary: dict})
		if err != nil {
			t.Fatal(err)
		}
		neg := make([]float64, len(d.benignTest))
		for i, l := range d.benignTest {
			neg[i] = m.DGAScore(l)
		}
		sort.Float64s(neg)
		thr := neg[len(neg)*99/100]
		ship := m.DGAThreshold()
		r := familyResult{family: fam, n: len(d.byFamily[fam])}
		hit, hitShip := 0, 0
		for _, l := range d.byFamily[fam] {
			s := m.DGAScore(l)
			if s > thr {
				hit++
			}
			if s >= ship {
				hitShip++
			}
		}
		fp := 0
		for _, s := range neg {
			if s >= ship {
				fp++
			}
		}
		r.recall = float64(hit) / float64(r.n)
		r.recallShip = float64(hitShip) / float64(r.n)
		r.benignFPShip = float64(fp) / float64(len(neg))
		out = append(out, r)
	}
	return out
}

func pooledRecall(rs []familyResult) (pooled, ship float64) {
	hit, hitShip, n := 0.0, 0.0, 0
	for _, r := range rs {
		hit += r.recall * float64(r.n)
		hitShip += r.recallShip * float64(r.n)
		n += r.n
	}
	return hit / float64(n), hitShip / float64(n)
}

// TestDGALeaveFamilyOutExperiment prints every family's recall with that
// family held out of training (WINNOW_DGA_LOFO=1).
func TestDGALeaveFamilyOutExperiment(t *testing.T) {
	if os.Getenv("WINNOW_DGA_LOFO") == "" {
		t.Skip("set WINNOW_DGA_LOFO=1")
	}
	testdata.Dir(t)
	d := loadLOFO(t)
	var feats, dict []string
	if f := os.Getenv("WINNOW_DGA_FEATS"); f != "" {
		feats = strings.Split(f, ",")
	}
	if p := os.Getenv("WINNOW_DGA_DICT"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dict = strings.Fields(strings.ToLower(string(b)))
	}
	rs := leaveFamilyOut(t, d, d.families, 0, feats, dict)
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %.2f", r.family, r.recall))
	}
	p, ps := pooledRecall(rs)
	t.Logf("leave-family-out recall at 1%% FPR: pooled %.3f (at each fold's own threshold %.3f)\n%s", p, ps, strings.Join(parts, ", "))
}
