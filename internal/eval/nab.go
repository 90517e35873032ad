// Package eval holds scorers for detection benchmarks. nab.go implements
// the scoring rules of the Numenta Anomaly Benchmark (NAB v1.1) exactly as
// its reference implementation (nab/sweeper.py, nab/optimizer.py,
// nab/runner.py) applies them:
//
//   - Labelled anomaly windows (labels/combined_windows.json): a detection
//     inside a window is a true positive, outside a false positive.
//   - The probationary period: the first min(⌊0.15·n⌋, 750) rows of each
//     file are not scored (detectors are learning).
//   - The scaled sigmoid: a row's weight depends on its relative position y
//     in or after a window, σ(y) = 2/(1+e^{5y}) − 1 (−1 for y ≥ 3). Inside a
//     window y runs from −1 (left edge, earliest) towards 0 (right edge), so
//     earlier detections earn more; a true positive is worth
//     tpWeight·σ(y)/σ(−1). A false positive costs fpWeight·σ(y) with y its
//     distance past the previous window's right edge in window widths
//     (nearly free right after a window, the full fpWeight far from it or
//     before the first window).
//   - Only the first (best) detection in a window counts; a window without
//     one costs fnWeight.
//   - Three application profiles (standard, reward_low_FP_rate,
//     reward_low_FN_rate) weigh TP/FP/FN differently.
//   - One threshold on the anomaly score is chosen per profile for the
//     whole corpus (the one that maximises the corpus's summed score), then
//     every file is scored at that threshold.
//   - The corpus score is normalised so that the null detector (never
//     fires: every window missed) scores 0 and the perfect detector (fires
//     at the left edge of every window and nowhere else) scores 100.
//
// Detections are rows whose anomaly score is ≥ the threshold.
package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// ProbationPercent is NAB's probationary fraction of each file.
const ProbationPercent = 0.15

// maxProbation caps the probationary period: NAB uses 0.15·5000 rows.
const maxProbation = ProbationPercent * 5000

// Window is one labelled anomaly window (both ends inclusive).
type Window struct {
	Start, End time.Time
}

// Labels are the windows of each file, by the file's path relative to the
// data directory with forward slashes ("realAWSCloudwatch/x.csv").
type Labels map[string][]Window

// Windows returns the number of windows over all files.
func (l Labels) Windows() int {
	n := 0
	for _, w := range l {
		n += len(w)
	}
	return n
}

// ReadLabels reads NAB's combined_windows.json.
func ReadLabels(r io.Reader) (Labels, error) {
	var raw map[string][][2]string
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("cannot decode NAB windows: %w", err)
	}
	out := make(Labels, len(raw))
	for file, ws := range raw {
		list := make([]Window, 0, len(ws))
		for _, w := range ws {
			a, err := parseLabelTime(w[0])
			if err != nil {
				return nil, fmt.Errorf("cannot read window of %s: %w", file, err)
			}
			b, err := parseLabelTime(w[1])
			if err != nil {
				return nil, fmt.Errorf("cannot read window of %s: %w", file, err)
			}
			list = append(list, Window{a, b})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Start.Before(list[j].Start) })
		out[strings.ReplaceAll(file, "\\", "/")] = list
	}
	return out, nil
}

func parseLabelTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02 15:04:05", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad timestamp %q", s)
}

// Profile is an application profile's cost matrix.
type Profile struct {
	Name           string
	TP, FP, FN, TN float64
}

// DefaultProfiles are NAB v1.1's profiles (config/profiles.json).
func DefaultProfiles() []Profile {
	return []Profile{
		{Name: "standard", TP: 1, FP: 0.11, FN: 1, TN: 1},
		{Name: "reward_low_FP_rate", TP: 1, FP: 0.22, FN: 1, TN: 1},
		{Name: "reward_low_FN_rate", TP: 1, FP: 0.11, FN: 2, TN: 1},
	}
}

// ReadProfiles reads NAB's config/profiles.json; profiles come back in
// DefaultProfiles order for the known names, then others by name.
func ReadProfiles(r io.Reader) ([]Profile, error) {
	var raw map[string]struct {
		CostMatrix struct {
			TP float64 `json:"tpWeight"`
			FP float64 `json:"fpWeight"`
			FN float64 `json:"fnWeight"`
			TN float64 `json:"tnWeight"`
		}
	}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("cannot decode NAB profiles: %w", err)
	}
	order := map[string]int{"standard": 0, "reward_low_FP_rate": 1, "reward_low_FN_rate": 2}
	var out []Profile
	for name, p := range raw {
		c := p.CostMatrix
		out = append(out, Profile{Name: name, TP: c.TP, FP: c.FP, FN: c.FN, TN: c.TN})
	}
	sort.Slice(out, func(i, j int) bool {
		oi, iok := order[out[i].Name]
		oj, jok := order[out[j].Name]
		switch {
		case iok && jok:
			return oi < oj
		case iok != jok:
			return iok
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// ScaledSigmoid is NAB's weighting of a relative position y: 2σ(−5y) − 1,
// and −1 from y = 3 on.
func ScaledSigmoid(y float64) float64 {
	if y >= 3 {
		return -1
	}
	return 2/(1+math.Exp(5*y)) - 1
}

// Probation is the number of unscored leading rows of an n-row file.
func Probation(n int) int {
	return int(math.Min(math.Floor(ProbationPercent*float64(n)), maxProbation))
}

// Window ids of rows outside any window or in the probationary period.
const (
	NoWindow    = -1
	Probational = -2
)

// Row is one scored row.
type Row struct {
	Score  float64 // the detector's anomaly score
	Sweep  float64 // the weighted value a detection here adds (S(t) in NAB's output)
	Window int     // window id (≥ 0), NoWindow or Probational
}

// Sweep weighs every row of one file for profile p (NAB's
// Sweeper.calcSweepScore). Window ids are firstID, firstID+1, ... in time
// order, so several files can share one id space. A window whose start is
// not a row's timestamp is entered at the first row after its start.
func Sweep(times []time.Time, scores []float64, windows []Window, p Profile, firstID int) []Row {
	n := len(times)
	rows := make([]Row, n)
	maxTP := ScaledSigmoid(-1)
	prob := Probation(n)
	next := 0
	cur := -1 // index into windows of the open window
	var curRight int
	var curWidth float64
	prevRight, prevWidth := -1, 0.0
	for i := 0; i < n; i++ {
		t := times[i]
		if cur < 0 && next < len(windows) && !t.Before(windows[next].Start) {
			cur, next = next, next+1
			curRight = rightIndex(times, i, windows[cur].End)
			curWidth = float64(curRight - i + 1)
		}
		r := Row{Window: NoWindow}
		if i < len(scores) {
			r.Score = scores[i]
		}
		if cur >= 0 {
			pos := -float64(curRight-i+1) / curWidth
			r.Sweep = ScaledSigmoid(pos) * p.TP / maxTP
			r.Window = firstID + cur
		} else {
			pos := 3.0
			if prevRight >= 0 {
				pos = math.Abs(float64(prevRight-i)) / (prevWidth - 1)
			}
			r.Sweep = ScaledSigmoid(pos) * p.FP
		}
		if i < prob {
			r.Window = Probational
		}
		rows[i] = r
		if cur >= 0 && i >= curRight {
			prevRight, prevWidth = i, curWidth
			cur = -1
		}
	}
	return rows
}

// rightIndex is the index of the first row at end (or the last before
// it), searching from from.
func rightIndex(times []time.Time, from int, end time.Time) int {
	j := sort.Search(len(times)-from, func(k int) bool { return !times[from+k].Before(end) }) + from
	if j < len(times) && times[j].Equal(end) {
		return j
	}
	if j-1 >= from {
		return j - 1
	}
	return from
}

// Counts are row counts at a threshold (probationary rows excluded).
type Counts struct {
	TP, TN, FP, FN int
}

// ThresholdScore is the summed score at one threshold.
type ThresholdScore struct {
	Threshold float64
	Score     float64
	Counts
	Parts Parts // filled by AtThreshold only
}

// Parts splits a score into what detected windows earned (TP), missed
// windows cost (FN) and false positives cost (FP).
type Parts struct {
	TP, FN, FP float64
}

// ByThreshold sweeps the threshold down through every distinct anomaly
// score of rows (one file or a whole corpus) and returns the score at each
// (NAB's Sweeper.calcScoreByThreshold), starting at 1.1 (nothing
// detected). Detections at threshold θ are the rows with score ≥ θ.
func ByThreshold(rows []Row, p Profile) []ThresholdScore {
	scorable := make([]Row, 0, len(rows))
	for _, r := range rows {
		if r.Window != Probational {
			scorable = append(scorable, r)
		}
	}
	sort.SliceStable(scorable, func(i, j int) bool { return scorable[i].Score > scorable[j].Score })
	// NAB keeps {"fp": sum, window: best} in a dict and sums its values
	// in insertion order at every threshold; do the same so that ties
	// between thresholds break identically.
	best := map[int]float64{}
	var order []int
	var c Counts
	for _, r := range scorable {
		if r.Window >= 0 {
			if _, ok := best[r.Window]; !ok {
				best[r.Window] = -p.FN
				order = append(order, r.Window)
			}
			c.FN++
		} else {
			c.TN++
		}
	}
	fp := 0.0
	sum := func() float64 {
		s := fp
		for _, id := range order {
			s += best[id]
		}
		return s
	}
	var out []ThresholdScore
	cur := 1.1
	for _, r := range scorable {
		if r.Score != cur {
			out = append(out, ThresholdScore{Threshold: cur, Score: sum(), Counts: c})
			cur = r.Score
		}
		if r.Window >= 0 {
			c.TP++
			c.FN--
			best[r.Window] = math.Max(best[r.Window], r.Sweep)
		} else {
			c.FP++
			c.TN--
			fp += r.Sweep
		}
	}
	out = append(out, ThresholdScore{Threshold: cur, Score: sum(), Counts: c})
	return out
}

// AtThreshold scores rows with detections at score ≥ threshold.
func AtThreshold(rows []Row, p Profile, threshold float64) ThresholdScore {
	best := map[int]float64{}
	ts := ThresholdScore{Threshold: threshold}
	fp := 0.0
	for _, r := range rows {
		if r.Window == Probational {
			continue
		}
		hit := r.Score >= threshold
		if r.Window >= 0 {
			if _, ok := best[r.Window]; !ok {
				best[r.Window] = -p.FN
			}
			if hit {
				ts.TP++
				if r.Sweep > best[r.Window] {
					best[r.Window] = r.Sweep
				}
			} else {
				ts.FN++
			}
			continue
		}
		if hit {
			ts.FP++
			fp += r.Sweep
		} else {
			ts.TN++
		}
	}
	ts.Score = fp
	ts.Parts.FP = fp
	ids := make([]int, 0, len(best))
	for id := range best {
		ids = append(ids, id)
	}
	sort.Ints(ids) // deterministic summation order
	for _, id := range ids {
		ts.Score += best[id]
		if best[id] == -p.FN {
			ts.Parts.FN += best[id]
		} else {
			ts.Parts.TP += best[id]
		}
	}
	return ts
}

// Contributions returns what each row adds to the score at threshold, in
// the shape of the S(t)_<profile> columns of NAB's result files: a false
// positive's weight at its row, and at each window's first scored row the
// window's part (the best detection's weight, or −fnWeight when missed);
// zero elsewhere.
func Contributions(rows []Row, p Profile, threshold float64) []float64 {
	out := make([]float64, len(rows))
	first := map[int]int{}
	best := map[int]float64{}
	for i, r := range rows {
		if r.Window == Probational {
			continue
		}
		hit := r.Score >= threshold
		if r.Window < 0 {
			if hit {
				out[i] = r.Sweep
			}
			continue
		}
		if _, ok := first[r.Window]; !ok {
			first[r.Window] = i
			best[r.Window] = -p.FN
		}
		if hit && r.Sweep > best[r.Window] {
			best[r.Window] = r.Sweep
		}
	}
	for id, i := range first {
		out[i] = best[id]
	}
	return out
}

// File is one result file to score: its name (path relative to the data
// directory, forward slashes), timestamps and anomaly scores.
type File struct {
	Name   string
	Times  []time.Time
	Scores []float64
}

// FileScore is one file's result at the profile's corpus threshold.
type FileScore struct {
	Name  string
	Rows  int
	Score float64
	Counts
	Parts Parts
}

// ProfileResult is the corpus result for one profile.
type ProfileResult struct {
	Profile    Profile
	Threshold  float64 // the corpus-wide threshold (optimised unless fixed)
	Score      float64 // raw summed score at Threshold
	Null       float64 // raw score of the null detector
	Perfect    float64 // raw score of the perfect detector
	Normalized float64 // 100·(Score−Null)/(Perfect−Null)
	Files      []FileScore
	// Detected and Windows count the windows with at least one detection.
	Detected, Windows int
	Counts
	Parts Parts
}

// Options adjust Score.
type Options struct {
	// Threshold, if set (not NaN), scores every profile at this fixed
	// threshold instead of optimising it.
	Threshold float64
}

// Score scores a corpus of result files against labels for each profile.
// Every file must have labels (an empty list for files without anomalies).
func Score(files []File, labels Labels, profiles []Profile, opt Options) ([]ProfileResult, error) {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	nWindows := 0
	for _, f := range sorted {
		ws, ok := labels[f.Name]
		if !ok {
			return nil, fmt.Errorf("no labels for %s", f.Name)
		}
		if len(f.Scores) != len(f.Times) {
			return nil, fmt.Errorf("%s: %d scores for %d rows", f.Name, len(f.Scores), len(f.Times))
		}
		nWindows += len(ws)
	}
	var out []ProfileResult
	for _, p := range profiles {
		perFile := make([][]Row, len(sorted))
		var all []Row
		id := 0
		scoredWindows := map[int]bool{}
		for i, f := range sorted {
			ws := labels[f.Name]
			perFile[i] = Sweep(f.Times, f.Scores, ws, p, id)
			id += len(ws)
			for _, r := range perFile[i] {
				if r.Window >= 0 {
					scoredWindows[r.Window] = true
				}
			}
			all = append(all, perFile[i]...)
		}
		res := ProfileResult{Profile: p, Windows: nWindows}
		res.Threshold = opt.Threshold
		if math.IsNaN(opt.Threshold) {
			res.Threshold = bestThreshold(ByThreshold(all, p))
		}
		for i, f := range sorted {
			ts := AtThreshold(perFile[i], p, res.Threshold)
			res.Files = append(res.Files, FileScore{Name: f.Name, Rows: len(f.Times), Score: ts.Score, Counts: ts.Counts, Parts: ts.Parts})
			res.Score += ts.Score
			res.Parts.TP += ts.Parts.TP
			res.Parts.FN += ts.Parts.FN
			res.Parts.FP += ts.Parts.FP
			res.TP += ts.TP
			res.TN += ts.TN
			res.FP += ts.FP
			res.FN += ts.FN
			res.Detected += detectedWindows(perFile[i], res.Threshold)
		}
		res.Null = -p.FN * float64(len(scoredWindows))
		res.Perfect = p.TP * float64(nWindows)
		if res.Perfect != res.Null {
			res.Normalized = 100 * (res.Score - res.Null) / (res.Perfect - res.Null)
		}
		out = append(out, res)
	}
	return out, nil
}

// bestThreshold picks the highest-scoring threshold; ties go to the
// higher threshold (NAB sorts stably by score, descending).
func bestThreshold(ts []ThresholdScore) float64 {
	best := 0
	for i := range ts {
		if ts[i].Score > ts[best].Score {
			best = i
		}
	}
	return ts[best].Threshold
}

func detectedWindows(rows []Row, threshold float64) int {
	seen := map[int]bool{}
	for _, r := range rows {
		if r.Window >= 0 && r.Score >= threshold {
			seen[r.Window] = true
		}
	}
	return len(seen)
}
