package eval

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
)

// Leave-one-category-out validation of a NAB corpus. NAB's corpus-wide
// threshold is the one constant a detector's output is tuned with; scored
// on the corpus it was chosen on, it flatters the detector. A category
// (the top-level folder: realAWSCloudwatch, artificialWithAnomaly, ...)
// held out from that choice is scored as unseen data is: the threshold is
// optimised on the other categories only, then applied to the held-out
// one.

// Category is the top-level folder of a corpus file name ("" for a file
// at the top).
func Category(name string) string {
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// Fold is one held-out category's result for one profile.
type Fold struct {
	Category string
	Files    int
	// Train is the other categories' result at their optimised threshold.
	Train ProfileResult
	// Held is the held-out category scored at Train's threshold.
	Held ProfileResult
	// Own is the held-out category at its own optimised threshold (what
	// tuning on it would have reached: the gap to Held is what the
	// threshold's transfer costs).
	Own ProfileResult
}

// Scored reports whether the held-out category has windows, so that its
// normalised score is defined (a category without anomalies only loses
// points to false positives: see Held.Score, the raw score, 0 at best).
func (f Fold) Scored() bool { return f.Held.Windows > 0 }

// LeaveOneCategoryOut scores each category of files held out from the
// threshold optimisation (see Fold), for each profile. Results are by
// profile, then category in name order. It needs at least two
// categories.
func LeaveOneCategoryOut(files []File, labels Labels, profiles []Profile) ([][]Fold, error) {
	byCat := map[string][]File{}
	for _, f := range files {
		c := Category(f.Name)
		byCat[c] = append(byCat[c], f)
	}
	if len(byCat) < 2 {
		return nil, fmt.Errorf("cannot hold out a category: the corpus has %d", len(byCat))
	}
	cats := make([]string, 0, len(byCat))
	for c := range byCat {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	out := make([][]Fold, len(profiles))
	for pi, p := range profiles {
		one := []Profile{p}
		for _, c := range cats {
			var rest []File
			for _, o := range cats {
				if o != c {
					rest = append(rest, byCat[o]...)
				}
			}
			train, err := Score(rest, labels, one, Options{Threshold: math.NaN()})
			if err != nil {
				return nil, err
			}
			held, err := Score(byCat[c], labels, one, Options{Threshold: train[0].Threshold})
			if err != nil {
				return nil, err
			}
			own, err := Score(byCat[c], labels, one, Options{Threshold: math.NaN()})
			if err != nil {
				return nil, err
			}
			out[pi] = append(out[pi], Fold{Category: c, Files: len(byCat[c]), Train: train[0], Held: held[0], Own: own[0]})
		}
	}
	return out, nil
}

// MeanHeld is the mean normalised held-out score over the folds whose
// category has windows.
func MeanHeld(folds []Fold) float64 {
	s, n := 0.0, 0
	for _, f := range folds {
		if f.Scored() {
			s += f.Held.Normalized
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// WriteFoldsText renders leave-one-category-out results: per profile, one
// line per held-out category, then the mean over the categories with
// windows.
func WriteFoldsText(w io.Writer, profiles []Profile, folds [][]Fold) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "profile\theld out\tfiles\twindows\tthreshold (others)\theld-out score\thit\tFP rows\town threshold\town score\t\n")
	for pi, p := range profiles {
		for _, f := range folds[pi] {
			score := fmt.Sprintf("%.2f", f.Held.Normalized)
			own := fmt.Sprintf("%.2f", f.Own.Normalized)
			if !f.Scored() {
				score = fmt.Sprintf("raw %.3f", f.Held.Score)
				own = fmt.Sprintf("raw %.3f", f.Own.Score)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.6g\t%s\t%d/%d\t%d\t%.6g\t%s\t\n", p.Name, f.Category, f.Files, f.Held.Windows,
				f.Train.Threshold, score, f.Held.Detected, f.Held.Windows, f.Held.FP, f.Own.Threshold, own)
		}
		fmt.Fprintf(tw, "%s\tmean\t\t\t\t%.2f\t\t\t\t\t\n", p.Name, MeanHeld(folds[pi]))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("cannot write folds: %w", err)
	}
	_, err := fmt.Fprintf(w, "each category held out of the threshold optimisation and scored at the others' threshold;\n"+
		"a category without windows has no normalised score (raw: 0 = no false positive)\n")
	return err
}

// FoldJSON is one fold in `winnow eval nab --leave-one-out --format json`.
type FoldJSON struct {
	Profile        string  `json:"profile"`
	Category       string  `json:"held_out"`
	Files          int     `json:"files"`
	Windows        int     `json:"windows"`
	Threshold      float64 `json:"threshold"`
	Score          float64 `json:"score"` // normalised; raw when Windows is 0
	Raw            float64 `json:"raw"`
	Detected       int     `json:"windows_detected"`
	FP             int     `json:"fp_rows"`
	OwnThreshold   float64 `json:"own_threshold"`
	OwnScore       float64 `json:"own_score"`
	TrainScore     float64 `json:"train_score"`
	NormalisedDefd bool    `json:"normalised"`
}

// FoldsJSON flattens folds for JSON output.
func FoldsJSON(profiles []Profile, folds [][]Fold) []FoldJSON {
	var out []FoldJSON
	for pi, p := range profiles {
		for _, f := range folds[pi] {
			j := FoldJSON{Profile: p.Name, Category: f.Category, Files: f.Files, Windows: f.Held.Windows,
				Threshold: f.Train.Threshold, Score: f.Held.Normalized, Raw: f.Held.Score, Detected: f.Held.Detected,
				FP: f.Held.FP, OwnThreshold: f.Own.Threshold, OwnScore: f.Own.Normalized, TrainScore: f.Train.Normalized,
				NormalisedDefd: f.Scored()}
			if !f.Scored() {
				j.Score, j.OwnScore = f.Held.Score, f.Own.Score
			}
			out = append(out, j)
		}
	}
	return out
}
