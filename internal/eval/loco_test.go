package eval

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestCategory(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := Category(in); got != want {
			t.Errorf("Category(%q) = %q, want %q", in, got, want)
		}
	}
	f("realAWSCloudwatch/x.csv", "realAWSCloudwatch")
	f("a/b/c.csv", "a")
	f("top.csv", "")
}

// locoCorpus: categories a and b (one window each at row 40), c (no
// windows). a's detector fires at 0.9 in its window; b's at 0.6 in its
// window and 0.8 outside it (row 70); c fires at 0.7 once.
func locoCorpus() ([]File, Labels) {
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(name string, scores map[int]float64) File {
		f := File{Name: name}
		for i := 0; i < 100; i++ {
			f.Times = append(f.Times, t0.Add(time.Duration(i)*time.Minute))
			f.Scores = append(f.Scores, scores[i])
		}
		return f
	}
	files := []File{
		mk("a/1.csv", map[int]float64{40: 0.9}),
		mk("b/1.csv", map[int]float64{40: 0.6, 70: 0.8}),
		mk("c/1.csv", map[int]float64{60: 0.7}),
	}
	win := func(f File) []Window { return []Window{{Start: f.Times[40], End: f.Times[49]}} }
	return files, Labels{"a/1.csv": win(files[0]), "b/1.csv": win(files[1]), "c/1.csv": nil}
}

func TestLeaveOneCategoryOut(t *testing.T) {
	files, labels := locoCorpus()
	std := DefaultProfiles()[:1]
	folds, err := LeaveOneCategoryOut(files, labels, std)
	if err != nil {
		t.Fatal(err)
	}
	if len(folds) != 1 || len(folds[0]) != 3 {
		t.Fatalf("folds: %d profiles, want 1 with 3 categories", len(folds))
	}
	byCat := map[string]Fold{}
	for _, f := range folds[0] {
		byCat[f.Category] = f
	}
	// Holding out a: b and c choose a threshold that catches b's window
	// (0.6) at the cost of b's and c's false positives; a at 0.6 is
	// perfect.
	a := byCat["a"]
	if a.Train.Threshold != 0.6 || a.Held.Normalized != 100 || a.Held.Detected != 1 {
		t.Errorf("held out a: threshold %v score %v detected %d, want 0.6, 100, 1", a.Train.Threshold, a.Held.Normalized, a.Held.Detected)
	}
	// Holding out b: a and c choose 0.9 (catch a's window, skip c's
	// false positive); b's window (0.6) is then missed: score 0, while
	// b's own threshold (0.6) would have earned 1 − 0.11 (nearly: the
	// false positive is late after the window).
	b := byCat["b"]
	if b.Train.Threshold != 0.9 || b.Held.Normalized != 0 || b.Held.Detected != 0 {
		t.Errorf("held out b: threshold %v score %v detected %d, want 0.9, 0, 0", b.Train.Threshold, b.Held.Normalized, b.Held.Detected)
	}
	if want := 100 * (1 - 0.11 + 1) / 2; math.Abs(b.Own.Normalized-want) > 1e-3 {
		t.Errorf("b's own score %v, want %v", b.Own.Normalized, want)
	}
	// c has no windows: only its raw score (false positives) means
	// anything, and Scored says so.
	c := byCat["c"]
	if c.Scored() || c.Held.FP != 1 || math.Abs(c.Held.Score+0.11) > 1e-3 {
		t.Errorf("held out c: scored %v FP %d raw %v, want false, 1, −0.11", c.Scored(), c.Held.FP, c.Held.Score)
	}
	if got := MeanHeld(folds[0]); got != 50 {
		t.Errorf("mean held-out score %v, want 50", got)
	}
	var buf bytes.Buffer
	if err := WriteFoldsText(&buf, std, folds); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"held out", "raw -0.110", "mean"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, buf.String())
		}
	}
	if js := FoldsJSON(std, folds); len(js) != 3 || js[2].NormalisedDefd {
		t.Errorf("JSON folds %+v", js)
	}
	if _, err := LeaveOneCategoryOut(files[:1], labels, std); err == nil {
		t.Error("one category: want an error")
	}
}
