package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"winnow/internal/detect/hst"
	"winnow/internal/detect/vfdt"
	"winnow/internal/eval"
	"winnow/internal/source"
)

// This file: 'winnow learn hst|vfdt' — the streaming learners over any
// CSV, with prequential (test-then-train) evaluation.

// LearnOptions configure 'winnow learn'.
type LearnOptions struct {
	Algo   string   // "hst" or "vfdt"
	Data   string   // CSV (.gz ok; "-" = stdin)
	Test   string   // optional held-out CSV with the same layout
	Label  string   // label column: name, 1-based number, negative from the end; "" = last
	Header string   // auto, yes, no
	Ignore []string // columns to drop
	Normal string   // label of normal rows: binary task (normal vs anomaly)
	// TrainNormal (hst): learn only the rows of Data labelled Normal, then
	// score Test (semi-supervised); otherwise HST learns every row
	// unsupervised and labels are only used to evaluate.
	TrainNormal bool
	Every       int // a prequential curve point every Every rows

	Seed                  uint64
	Trees, Height, Window int     // hst
	Grace                 int     // vfdt
	Delta, Tau            float64 // vfdt
	Leaf                  string  // vfdt: mc, nb, nba

	Plot   string // directory for the plots
	Format string // text or json

	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// LearnResult is what 'winnow learn' reports (its JSON form).
type LearnResult struct {
	Algo       string             `json:"algo"`
	Data       string             `json:"data"`
	Rows       int64              `json:"rows"`
	Features   int                `json:"features"`
	Classes    []string           `json:"classes,omitempty"`
	Accuracy   *float64           `json:"prequential_accuracy,omitempty"`
	AUC        *float64           `json:"prequential_auc,omitempty"`
	Test       *LearnTest         `json:"test,omitempty"`
	Tree       map[string]int     `json:"tree,omitempty"`
	MeanScores map[string]float64 `json:"mean_score_by_label,omitempty"`
	Seconds    float64            `json:"seconds"`
	PerSecond  float64            `json:"rows_per_second"`
	Curve      []curvePoint       `json:"curve,omitempty"`
}

// LearnTest is the held-out evaluation.
type LearnTest struct {
	File      string      `json:"file"`
	Rows      int64       `json:"rows"`
	Accuracy  *float64    `json:"accuracy,omitempty"`
	AUC       *float64    `json:"auc,omitempty"`
	Confusion [][]int64   `json:"confusion,omitempty"`
	Binary    *binaryConf `json:"binary,omitempty"`
}

type binaryConf struct {
	TP, FP, TN, FN int
	TPR, FPR       float64
}

type curvePoint struct {
	N        int64    `json:"n"`
	Accuracy float64  `json:"accuracy"`
	AUC      *float64 `json:"auc,omitempty"`
}

func ptr(f float64) *float64 {
	if math.IsNaN(f) {
		return nil
	}
	return &f
}

// openCSV opens a CSV input (gzip-aware, CR/LF/CRLF) as a byte stream.
func openCSV(name string, stdin io.Reader) (io.ReadCloser, error) {
	inputs, errs := source.Expand([]string{name})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if len(inputs) != 1 {
		return nil, fmt.Errorf("%s: want one file, found %d", name, len(inputs))
	}
	r, err := source.Open(inputs[0], stdin, source.Options{MaxLine: 1 << 20})
	if err != nil {
		return nil, err
	}
	if err := r.CheckText(); err != nil {
		r.Close()
		return nil, err
	}
	return &lineReadCloser{r: r}, nil
}

// Learn runs a streaming learner over a CSV.
func Learn(ctx context.Context, o LearnOptions) (int, error) {
	if o.Algo != "hst" && o.Algo != "vfdt" {
		return ExitUsage, usagef("learn: want hst or vfdt, not %q", o.Algo)
	}
	if o.Data == "" {
		return ExitUsage, usagef("--data: give a CSV file")
	}
	if o.Format == "" {
		o.Format = "text"
	}
	if o.Format != "text" && o.Format != "json" {
		return ExitUsage, usagef("--format %q: want text or json", o.Format)
	}
	if o.TrainNormal && (o.Algo != "hst" || o.Normal == "") {
		return ExitUsage, usagef("--train-normal is for hst and needs --normal")
	}
	f, err := openCSV(o.Data, o.Stdin)
	if err != nil {
		return ExitInputErr, err
	}
	defer f.Close()
	s, err := eval.NewCSVStream(f, eval.CSVOptions{Label: o.Label, Header: o.Header, Ignore: o.Ignore, Normal: o.Normal})
	if err != nil {
		return ExitUsage, UsageError{fmt.Errorf("%s: %w", o.Data, err)}
	}
	var test *eval.CSVStream
	if o.Test != "" {
		tf, err := openCSV(o.Test, o.Stdin)
		if err != nil {
			return ExitInputErr, err
		}
		defer tf.Close()
		if test, err = eval.NewCSVStreamLike(tf, s); err != nil {
			return ExitInputErr, fmt.Errorf("%s: %w", o.Test, err)
		}
	}
	start := time.Now()
	var res *LearnResult
	if o.Algo == "vfdt" {
		res, err = learnVFDT(ctx, o, s, test)
	} else {
		res, err = learnHST(ctx, o, s, test)
	}
	if err != nil {
		return ExitInputErr, err
	}
	res.Seconds = time.Since(start).Seconds()
	total := res.Rows
	if res.Test != nil {
		total += res.Test.Rows
	}
	if res.Seconds > 0 {
		res.PerSecond = math.Round(float64(total) / res.Seconds)
	}
	if o.Format == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return ExitInputErr, err
		}
	} else {
		writeLearnText(o.Stdout, o, res)
	}
	return ExitOK, nil
}

func learnVFDT(ctx context.Context, o LearnOptions, s *eval.CSVStream, test *eval.CSVStream) (*LearnResult, error) {
	cfg := vfdt.DefaultConfig()
	if o.Grace > 0 {
		cfg.GracePeriod = o.Grace
	}
	if o.Delta > 0 {
		cfg.Delta = o.Delta
	}
	if o.Tau > 0 {
		cfg.Tau = o.Tau
	}
	if o.Leaf != "" {
		cfg.Leaf = o.Leaf
	}
	attrs := make([]vfdt.Attr, len(s.Columns))
	for i, c := range s.Columns {
		attrs[i] = vfdt.Attr{Name: c.Name, Nominal: c.Nominal}
	}
	tree, err := vfdt.New(attrs, max(2, len(s.Classes())), cfg)
	if err != nil {
		return nil, UsageError{err}
	}
	pre := eval.Prequential{Every: o.Every}
	var proba []float64
	if err := eachRow(ctx, s, func(x []float64, y int) {
		proba = tree.Proba(proba, x)
		pre.Add(y, tree.Predict(x), badScore(proba))
		tree.Learn(x, y)
	}); err != nil {
		return nil, err
	}
	pre.Finish()
	nodes, leaves, depth := tree.Size()
	res := &LearnResult{Algo: "vfdt", Data: o.Data, Rows: pre.N, Features: len(attrs), Classes: s.Classes(),
		Accuracy: ptr(pre.Accuracy()), AUC: ptr(pre.AUC()), Tree: map[string]int{"nodes": nodes, "leaves": leaves, "depth": depth},
		Curve: curveOf(pre.Curve)}
	if test != nil {
		var c eval.ClassConfusion
		var scores []float64
		var bad []bool
		if err := eachRow(ctx, test, func(x []float64, y int) {
			c.Add(y, tree.Predict(x))
			proba = tree.Proba(proba, x)
			scores = append(scores, badScore(proba))
			bad = append(bad, y != 0)
		}); err != nil {
			return nil, err
		}
		b := c.Binary()
		res.Test = &LearnTest{File: o.Test, Rows: int64(len(scores)), Accuracy: ptr(c.Accuracy()), Confusion: c.M,
			Binary: &binaryConf{TP: b.TP, FP: b.FP, TN: b.TN, FN: b.FN, TPR: b.TPR(), FPR: b.FPR()}}
		if len(scores) > 0 {
			res.Test.AUC = ptr(aucOrNaN(scores, bad))
		}
		if o.Plot != "" && len(scores) > 0 {
			if err := plotROCFile(o.Plot, "vfdt-test-roc.png", "Hoeffding tree on "+filepath.Base(o.Test), scores, bad); err != nil {
				return nil, err
			}
		}
	}
	if o.Plot != "" {
		if err := plotPrequential(filepath.Join(o.Plot, "vfdt-prequential.png"), "Hoeffding tree, prequential: "+filepath.Base(o.Data), pre.Curve); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// badScore is 1 − P(class 0): the probability of anything but the first
// (normal) class.
func badScore(p []float64) float64 {
	if len(p) == 0 {
		return math.NaN()
	}
	return 1 - p[0]
}

func aucOrNaN(scores []float64, bad []bool) float64 {
	var pos, neg bool
	for _, b := range bad {
		pos = pos || b
		neg = neg || !b
	}
	if !pos || !neg {
		return math.NaN()
	}
	return eval.AUCOf(scores, bad)
}

func curveOf(c []eval.PrequentialPoint) []curvePoint {
	out := make([]curvePoint, len(c))
	for i, p := range c {
		out[i] = curvePoint{N: p.N, Accuracy: round4(p.Accuracy), AUC: ptr(p.AUC)}
	}
	return out
}

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }

func plotROCFile(dir, name, title string, scores []float64, bad []bool) error {
	pts := eval.ROC(scores, bad)
	if err := mkdir(dir); err != nil {
		return err
	}
	return savePlot(rocPlot(fmt.Sprintf("%s (AUC %.4f)", title, eval.AUC(pts)), pts, nil), filepath.Join(dir, name))
}

func learnHST(ctx context.Context, o LearnOptions, s *eval.CSVStream, test *eval.CSVStream) (*LearnResult, error) {
	cfg := hst.DefaultConfig()
	if o.Trees > 0 {
		cfg.Trees = o.Trees
	}
	if o.Height > 0 {
		cfg.Height = o.Height
	}
	if o.Window > 0 {
		cfg.WindowSize = o.Window
	}
	cfg.Seed = o.Seed
	nominal := make([]bool, len(s.Columns))
	for i, c := range s.Columns {
		nominal[i] = c.Nominal
	}
	forest, err := hst.New(len(nominal), cfg)
	if err != nil {
		return nil, UsageError{err}
	}
	enc := hst.NewEncoder(nominal)
	res := &LearnResult{Algo: "hst", Data: o.Data, Features: len(nominal)}
	var scores []float64
	var labels []int
	pre := eval.Prequential{Every: o.Every}
	if err := eachRow(ctx, s, func(x []float64, y int) {
		res.Rows++
		if o.TrainNormal {
			if y == 0 {
				forest.Learn(enc.Encode(x))
			}
			return
		}
		ready := forest.Ready()
		sc := forest.ScoreLearn(enc.Encode(x))
		if ready {
			scores = append(scores, sc)
			labels = append(labels, y)
			if o.Normal != "" {
				pre.Add(y, y, sc) // accuracy is meaningless for HST; the curve carries AUC
			}
		}
	}); err != nil {
		return nil, err
	}
	pre.Finish()
	res.Classes = s.Classes()
	if !o.TrainNormal && len(scores) > 0 {
		res.MeanScores = meanByLabel(scores, labels, s.Classes())
		if o.Normal != "" {
			bad := make([]bool, len(labels))
			for i, y := range labels {
				bad[i] = y != 0
			}
			res.AUC = ptr(aucOrNaN(scores, bad))
			for _, p := range pre.Curve {
				res.Curve = append(res.Curve, curvePoint{N: p.N, AUC: ptr(p.AUC)})
			}
			if o.Plot != "" {
				if err := plotROCFile(o.Plot, "hst-roc.png", "Half-Space Trees on "+filepath.Base(o.Data), scores, bad); err != nil {
					return nil, err
				}
			}
		}
	}
	if test != nil {
		var ts []float64
		var tl []int
		if err := eachRow(ctx, test, func(x []float64, y int) {
			ts = append(ts, forest.ScoreLearn(enc.Encode(x)))
			tl = append(tl, y)
		}); err != nil {
			return nil, err
		}
		res.Test = &LearnTest{File: o.Test, Rows: int64(len(ts))}
		res.MeanScores = meanByLabel(ts, tl, test.Classes())
		if o.Normal != "" && len(ts) > 0 {
			bad := make([]bool, len(tl))
			for i, y := range tl {
				bad[i] = y != 0
			}
			res.Test.AUC = ptr(aucOrNaN(ts, bad))
			if o.Plot != "" {
				if err := plotROCFile(o.Plot, "hst-test-roc.png", "Half-Space Trees on "+filepath.Base(o.Test), ts, bad); err != nil {
					return nil, err
				}
			}
		}
	}
	return res, nil
}

func meanByLabel(scores []float64, labels []int, names []string) map[string]float64 {
	sum := map[string]float64{}
	n := map[string]int{}
	for i, s := range scores {
		name := fmt.Sprint(labels[i])
		if labels[i] < len(names) {
			name = names[labels[i]]
		}
		sum[name] += s
		n[name]++
	}
	out := map[string]float64{}
	for k, v := range sum {
		out[k] = round4(v / float64(n[k]))
	}
	return out
}

func writeLearnText(w io.Writer, o LearnOptions, r *LearnResult) {
	fmt.Fprintf(w, "%s on %s: %d rows, %d features", r.Algo, r.Data, r.Rows, r.Features)
	if len(r.Classes) > 0 && len(r.Classes) <= 12 {
		fmt.Fprintf(w, ", classes %v", r.Classes)
	} else if len(r.Classes) > 0 {
		fmt.Fprintf(w, ", %d classes", len(r.Classes))
	}
	fmt.Fprintf(w, " (%.1fs, %.0f rows/s)\n", r.Seconds, r.PerSecond)
	if r.Tree != nil {
		fmt.Fprintf(w, "tree: %d nodes, %d leaves, depth %d\n", r.Tree["nodes"], r.Tree["leaves"], r.Tree["depth"])
	}
	if r.Accuracy != nil {
		fmt.Fprintf(w, "prequential accuracy (test-then-train): %.4f\n", *r.Accuracy)
	}
	if r.AUC != nil {
		what := "prequential"
		if r.Algo == "hst" {
			what = "streaming (unsupervised)"
		}
		fmt.Fprintf(w, "%s ROC AUC (%s vs the rest): %.4f\n", what, firstClass(r.Classes), *r.AUC)
	}
	if t := r.Test; t != nil {
		fmt.Fprintf(w, "test %s: %d rows", t.File, t.Rows)
		if t.Accuracy != nil {
			fmt.Fprintf(w, ", accuracy %.4f", *t.Accuracy)
		}
		if t.AUC != nil {
			fmt.Fprintf(w, ", ROC AUC %.4f", *t.AUC)
		}
		fmt.Fprintln(w)
		if t.Confusion != nil && len(t.Confusion) <= 12 {
			c := eval.ClassConfusion{M: t.Confusion}
			fmt.Fprint(w, c.Format(r.Classes))
		}
		if b := t.Binary; b != nil && len(r.Classes) > 1 {
			fmt.Fprintf(w, "%s vs the rest: TPR %.4f, FPR %.4f\n", r.Classes[0], b.TPR, b.FPR)
		}
	}
	if len(r.MeanScores) > 0 && len(r.MeanScores) <= 12 {
		fmt.Fprintf(w, "mean anomaly score by label: ")
		first := true
		for _, k := range sortedNames(r.MeanScores) {
			if !first {
				fmt.Fprint(w, ", ")
			}
			first = false
			fmt.Fprintf(w, "%s %.4f", k, r.MeanScores[k])
		}
		fmt.Fprintln(w)
	}
	if o.Plot != "" {
		fmt.Fprintf(w, "plots in %s\n", o.Plot)
	}
}

func sortedNames(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	return nil
}

// firstClass names class 0 (the normal class with --normal, else the
// first label seen), against which AUC and binary rates are computed.
func firstClass(c []string) string {
	if len(c) == 0 {
		return "class 0"
	}
	return c[0]
}

// eachRow calls fn with every row of s until its end, a read error or the
// end of ctx; x is reused between calls.
func eachRow(ctx context.Context, s *eval.CSVStream, fn func(x []float64, y int)) error {
	var x []float64
	for n := 0; ; n++ {
		if n&4095 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var y int
		var err error
		x, y, err = s.Next(x)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		fn(x, y)
	}
}
