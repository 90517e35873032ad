package eval

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"winnow/internal/testdata"
)

func TestScaledSigmoid(t *testing.T) {
	for _, c := range []struct{ y, want float64 }{
		{-1, 0.98661429815}, {-0.5, 0.84828363995}, {0, 0}, {1, -0.98661429815}, {3, -1}, {10, -1},
	} {
		if got := ScaledSigmoid(c.y); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("σ(%v) = %v, want %v", c.y, got, c.want)
		}
	}
}

func TestProbation(t *testing.T) {
	for n, want := range map[int]int{4032: 604, 4730: 709, 1000: 150, 10000: 750, 3: 0} {
		if got := Probation(n); got != want {
			t.Errorf("Probation(%d) = %d, want %d", n, got, want)
		}
	}
}

// synthetic: 100 rows, one window over rows 40..49 (probation 15 rows).
func synthetic(scores map[int]float64) (File, Labels) {
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	f := File{Name: "x/a.csv"}
	for i := 0; i < 100; i++ {
		f.Times = append(f.Times, t0.Add(time.Duration(i)*time.Minute))
		f.Scores = append(f.Scores, scores[i])
	}
	return f, Labels{"x/a.csv": {{Start: f.Times[40], End: f.Times[49]}}}
}

func TestRules(t *testing.T) {
	std := DefaultProfiles()[0]
	cases := []struct {
		name   string
		scores map[int]float64
		want   float64
	}{
		{"null", nil, -1},
		{"perfect", map[int]float64{40: 1}, 1},
		{"only first detection counts", map[int]float64{45: 1, 46: 1, 49: 1}, ScaledSigmoid(-0.5) / ScaledSigmoid(-1)},
		{"probation ignored", map[int]float64{3: 1, 40: 1}, 1},
		{"fp before any window costs fpWeight", map[int]float64{20: 1, 40: 1}, 1 - 0.11},
		{"fp right after the window is nearly free", map[int]float64{40: 1, 50: 1}, 1 + 0.11*ScaledSigmoid(1.0/9)},
		{"fp far after the window costs fpWeight", map[int]float64{40: 1, 90: 1}, 1 - 0.11},
		{"below threshold is no detection", map[int]float64{40: 0.4}, -1},
	}
	for _, c := range cases {
		f, l := synthetic(c.scores)
		res, err := Score([]File{f}, l, []Profile{std}, Options{Threshold: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		if got := res[0].Score; math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: score %v, want %v", c.name, got, c.want)
		}
	}
	// Normalisation: null 0, perfect 100.
	for _, c := range []struct {
		scores map[int]float64
		want   float64
	}{{nil, 0}, {map[int]float64{40: 1}, 100}} {
		f, l := synthetic(c.scores)
		res, _ := Score([]File{f}, l, DefaultProfiles(), Options{Threshold: math.NaN()})
		for _, r := range res {
			if math.Abs(r.Normalized-c.want) > 1e-9 {
				t.Errorf("%s: normalized %v, want %v", r.Profile.Name, r.Normalized, c.want)
			}
		}
	}
}

// TestOptimiseThreshold: a detector whose best corpus threshold is 0.7
// (0.9 fires outside the window, 0.7 inside, 0.3 everywhere).
func TestOptimiseThreshold(t *testing.T) {
	s := map[int]float64{20: 0.3, 30: 0.3, 44: 0.7, 60: 0.3}
	f, l := synthetic(s)
	res, err := Score([]File{f}, l, DefaultProfiles()[:1], Options{Threshold: math.NaN()})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Threshold != 0.7 || res[0].TP != 1 || res[0].FP != 0 {
		t.Fatalf("threshold %v counts %+v", res[0].Threshold, res[0].Counts)
	}
}

// TestPublishedWindowedGaussian checks the scorer against NAB's published
// per-file results of the windowed Gaussian detector (threshold 1.0): the
// per-row weights S(t) and each file's score and TP/TN/FP/FN, for all three
// profiles.
func TestPublishedWindowedGaussian(t *testing.T) {
	nab := testdata.File(t, "nab")
	labels, err := ReadLabelsFile(filepath.Join(nab, "labels", "combined_windows.json"))
	if err != nil {
		t.Fatal(err)
	}
	profiles, err := ReadProfilesFile(filepath.Join(nab, "config", "profiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	resDir := filepath.Join(nab, "results", "windowedGaussian")
	files, err := LoadCorpus(filepath.Join(nab, "data"), resDir, labels)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]File{}
	for _, f := range files {
		byName[f.Name] = f
	}
	for _, p := range profiles {
		published := readPublished(t, filepath.Join(resDir, "windowedGaussian_"+p.Name+"_scores.csv"))
		if len(published) != len(files) {
			t.Fatalf("%s: %d published rows for %d files", p.Name, len(published), len(files))
		}
		res, err := Score(files, labels, []Profile{p}, Options{Threshold: 1.0})
		if err != nil {
			t.Fatal(err)
		}
		var sumPub, sumOurs float64
		for _, fs := range res[0].Files {
			want, ok := published[fs.Name]
			if !ok {
				t.Fatalf("%s: no published row for %s", p.Name, fs.Name)
			}
			if math.Abs(fs.Score-want.Score) > 1e-8 || fs.Counts != want.Counts || fs.Rows != want.rows {
				t.Errorf("%s %s: ours %.9f %+v rows %d, published %.9f %+v rows %d", p.Name, fs.Name,
					fs.Score, fs.Counts, fs.Rows, want.Score, want.Counts, want.rows)
			}
			sumPub += want.Score
			sumOurs += fs.Score
			// Per-row contributions (the S(t) column).
			st := readColumn(t, resDir, fs.Name, "S(t)_"+p.Name)
			f := byName[fs.Name]
			contrib := Contributions(Sweep(f.Times, f.Scores, labels[fs.Name], p, 0), p, 1.0)
			for i, r := range contrib {
				if math.Abs(r-st[i]) > 1e-9 {
					t.Fatalf("%s %s row %d: S(t) %v, published %v", p.Name, fs.Name, i, r, st[i])
				}
			}
		}
		t.Logf("%s: corpus (4 categories) at threshold 1.0: raw %.4f (published per-file sum %.4f), normalized %.2f",
			p.Name, sumOurs, sumPub, res[0].Normalized)
	}
}

type published struct {
	Score float64
	Counts
	rows int
}

func readPublished(t *testing.T, name string) map[string]published {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]published{}
	for _, r := range recs[1:] {
		if r[2] == "" || strings.EqualFold(r[0], "Totals") {
			continue
		}
		num := func(s string) int { n, _ := strconv.Atoi(s); return n }
		sc, _ := strconv.ParseFloat(r[4], 64)
		out[r[2]] = published{Score: sc, Counts: Counts{TP: num(r[5]), TN: num(r[6]), FP: num(r[7]), FN: num(r[8])}, rows: num(r[9])}
	}
	return out
}

func readColumn(t *testing.T, resDir, rel, col string) []float64 {
	t.Helper()
	p, err := ResultPath(resDir, rel)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	at := -1
	for i, h := range recs[0] {
		if h == col {
			at = i
		}
	}
	if at < 0 {
		t.Fatalf("%s: no column %s", p, col)
	}
	var out []float64
	for _, r := range recs[1:] {
		x, _ := strconv.ParseFloat(r[at], 64)
		out = append(out, x)
	}
	return out
}
