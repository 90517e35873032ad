package learn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"winnow/internal/eval"
	"winnow/internal/learn/forest"
	"winnow/internal/modelfile"
)

// ForestOptions are 'winnow learn forest' and 'learn tree' settings.
type ForestOptions struct {
	// Exactly one source: CSV (Data, with Test optionally) or the archive.
	CSV     CSVData
	Test    string // held-out CSV (same columns) scored after training
	Archive ArchiveData

	Tree        bool // a single CART tree instead of a forest
	Trees       int
	MaxFeatures int
	MinLeaf     int
	MaxDepth    int
	Balanced    bool
	Seed        uint64
	// Threshold: "auto" (held-out families when there are enough, else
	// least cost on out-of-bag scores), "oob", or a number.
	Threshold string
	CostFP    float64 // cost of a false positive (alerting on good)
	CostFN    float64 // cost of a missed bad item

	Out      string // model file to write ("" = none)
	Site     string // recorded in the model
	Version  string // winnow's version
	Format   string // text or json
	TreeText int    // depth of the tree printed with --tree (0 = 4)

	Stdout, Stderr io.Writer
}

// Importance is one attribute's share of the impurity decrease.
type Importance struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// TestReport is a held-out evaluation.
type TestReport struct {
	File      string  `json:"file"`
	Rows      int     `json:"rows"`
	Accuracy  float64 `json:"accuracy"`
	TPR       float64 `json:"tpr"`
	FPR       float64 `json:"fpr"`
	Precision float64 `json:"precision"`
	AUC       float64 `json:"auc"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	TN        int     `json:"tn"`
	FN        int     `json:"fn"`
	// AtHalf is the accuracy at threshold 0.5, for comparison.
	AtHalf float64 `json:"accuracy_at_0_5"`
}

// ForestReport is what training measured.
type ForestReport struct {
	Algorithm     string             `json:"algorithm"`
	Data          string             `json:"data"`
	Schema        string             `json:"schema"`
	Rows          int                `json:"rows"`
	Positives     int                `json:"positives"`
	Features      int                `json:"features"`
	Trees         int                `json:"trees"`
	Nodes         int                `json:"nodes"`
	Leaves        int                `json:"leaves"`
	Depth         int                `json:"depth"`
	OOBAccuracy   *float64           `json:"oob_accuracy,omitempty"`
	OOBAUC        *float64           `json:"oob_auc,omitempty"`
	Threshold     float64            `json:"threshold"`
	ThresholdFrom string             `json:"threshold_from"`
	HeldOut       *HeldOut           `json:"held_out_families,omitempty"`
	Importance    []Importance       `json:"importance"`
	Families      map[string]int     `json:"bad_rows_by_family,omitempty"`
	Test          *TestReport        `json:"test,omitempty"`
	Model         string             `json:"model,omitempty"`
	Seconds       float64            `json:"seconds"`
	TreeText      string             `json:"tree,omitempty"`
	Events        int64              `json:"events,omitempty"`
	Skipped       []string           `json:"skipped,omitempty"`
	Extra         map[string]float64 `json:"-"`
}

// HeldOut is the family-held-out calibration.
type HeldOut struct {
	Families int     `json:"families"`
	TPR      float64 `json:"tpr"`
	FPR      float64 `json:"fpr"`
}

func (o *ForestOptions) config() (forest.Config, error) {
	cfg := forest.DefaultConfig()
	if o.Tree {
		cfg = forest.TreeConfig()
	}
	if o.Trees > 0 && !o.Tree {
		cfg.Trees = o.Trees
	}
	if o.MaxFeatures > 0 {
		cfg.MaxFeatures = o.MaxFeatures
	}
	if o.MinLeaf > 0 {
		cfg.MinLeaf = o.MinLeaf
	}
	if o.MaxDepth > 0 {
		cfg.MaxDepth = o.MaxDepth
	}
	cfg.Balanced = o.Balanced
	if o.Seed != 0 {
		cfg.Seed = o.Seed
	}
	if cfg.Trees > 10000 {
		return cfg, usagef("--trees %d: at most 10000", cfg.Trees)
	}
	return cfg, nil
}

// Forest trains a random forest (or a CART tree) and writes the model.
func Forest(ctx context.Context, o ForestOptions) error {
	start := time.Now()
	if o.Format == "" {
		o.Format = "text"
	}
	if o.Format != "text" && o.Format != "json" {
		return usagef("--format %q: want text or json", o.Format)
	}
	if (o.CSV.File == "") == (o.Archive.Dir == "") {
		return usagef("give exactly one of --data FILE.csv or --archive DIR")
	}
	if o.CostFP <= 0 {
		o.CostFP = 1
	}
	if o.CostFN <= 0 {
		o.CostFN = 1
	}
	cfg, err := o.config()
	if err != nil {
		return err
	}
	var d *forest.Dataset
	var family []int
	var families []string
	rep := &ForestReport{Algorithm: "random forest"}
	if o.Tree {
		rep.Algorithm = "CART tree"
	}
	var train *csvSet
	if o.CSV.File != "" {
		train, err = loadCSV(ctx, o.CSV, nil)
		if err != nil {
			return err
		}
		d, family, families = train.data, train.family, train.families
		rep.Data = o.CSV.File
		rep.Schema = forest.SchemaOf("csv", d.Attrs)
	} else {
		if o.Test != "" {
			return usagef("--test is for CSV data; to evaluate an archive model, analyze held-out logs with --model")
		}
		ws, err := loadWindows(ctx, o.Archive)
		if err != nil {
			return err
		}
		d, family, families = ws.data, ws.family, ws.families
		rep.Data = o.Archive.Dir
		rep.Schema = ws.spec.Schema()
		rep.Events = ws.events
		for _, e := range ws.skipped {
			rep.Skipped = append(rep.Skipped, e.Error())
		}
	}
	rep.Rows, rep.Features = d.N(), len(d.Attrs)
	famRows := map[string]int{}
	for i, y := range d.Y {
		if y == 1 {
			rep.Positives++
			if family[i] >= 0 && family[i] < len(families) {
				famRows[families[family[i]]]++
			}
		}
	}
	if len(famRows) > 0 {
		rep.Families = famRows
	}
	if rep.Positives == 0 || rep.Positives == rep.Rows {
		return fmt.Errorf("cannot train on %s: %d of %d rows are bad; both good and bad rows are needed (label with findings, --labels or --normal)",
			rep.Data, rep.Positives, rep.Rows)
	}
	f, tr, err := forest.Train(d, 1, cfg)
	if err != nil {
		return err
	}
	rep.Trees, rep.Nodes, rep.Leaves, rep.Depth = tr.Trees, tr.Nodes, tr.Leaves, tr.Depth
	if !math.IsNaN(tr.OOBAccuracy) {
		rep.OOBAccuracy, rep.OOBAUC = ptr(tr.OOBAccuracy), ptr(tr.OOBAUC)
	}
	for i, v := range tr.Importance {
		rep.Importance = append(rep.Importance, Importance{Name: d.Attrs[i].Name, Value: round4(v)})
	}
	slices.SortStableFunc(rep.Importance, func(a, b Importance) int {
		switch {
		case a.Value > b.Value:
			return -1
		case a.Value < b.Value:
			return 1
		}
		return 0
	})
	if err := o.threshold(f, tr, d, family, rep, cfg); err != nil {
		return err
	}
	if o.Tree {
		depth := o.TreeText
		if depth <= 0 {
			depth = 4
		}
		rep.TreeText = f.Trees[0].Format(d.Attrs, d.Classes, depth)
	}
	if o.Test != "" {
		test, err := loadCSV(ctx, CSVData{File: o.Test, Normal: o.CSV.Normal, Names: o.CSV.Names}, train)
		if err != nil {
			return err
		}
		rep.Test = evaluate(f, test.data, o.Test)
	}
	if o.Out != "" {
		h := modelfile.Header{Schema: rep.Schema, Site: o.Site, Producer: o.Version, Created: time.Now().UTC(),
			Meta: map[string]string{"rows": strconv.Itoa(rep.Rows), "bad_rows": strconv.Itoa(rep.Positives),
				"threshold_from": rep.ThresholdFrom, "data": rep.Data}}
		if rep.OOBAccuracy != nil {
			h.Meta["oob_accuracy"] = fmt.Sprintf("%.4f", *rep.OOBAccuracy)
		}
		if err := f.Save(o.Out, h); err != nil {
			return err
		}
		rep.Model = o.Out
	}
	rep.Seconds = math.Round(time.Since(start).Seconds()*100) / 100
	if o.Format == "json" {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	writeForestText(o.Stdout, rep)
	return nil
}

// threshold sets f.Threshold per o.Threshold.
func (o *ForestOptions) threshold(f *forest.Forest, tr *forest.Report, d *forest.Dataset, family []int, rep *ForestReport, cfg forest.Config) error {
	mode := o.Threshold
	if mode == "" {
		mode = "auto"
	}
	switch mode {
	case "auto", "families":
		famSet := map[int]bool{}
		for i, y := range d.Y {
			if y == 1 && family[i] >= 0 {
				famSet[family[i]] = true
			}
		}
		if len(famSet) >= 3 && !o.Tree {
			cal, err := forest.Calibrate(d, 1, family, forest.CalibrateConfig{Folds: min(5, len(famSet)), Base: cfg,
				CostFP: o.CostFP, CostFN: o.CostFN})
			if err != nil {
				return err
			}
			f.Threshold = cal.Threshold
			rep.ThresholdFrom = "held-out families"
			rep.HeldOut = &HeldOut{Families: cal.Families, TPR: round4(cal.TPR), FPR: round4(cal.FPR)}
			break
		}
		if mode == "families" {
			return usagef("--threshold families needs bad rows of at least 3 families (labels or finding rules) and a forest")
		}
		fallthrough
	case "oob":
		if len(tr.OOBScore) == 0 {
			f.Threshold = 0.5
			rep.ThresholdFrom = "default: a single tree has no out-of-bag scores"
			break
		}
		_, th := eval.MinCost(eval.ROC(tr.OOBScore, tr.OOBLabel), eval.Costs{BlockGood: o.CostFP, MissBad: o.CostFN})
		f.Threshold = math.Min(math.Max(th, 0), 1)
		rep.ThresholdFrom = "least cost on out-of-bag scores"
	default:
		v, err := strconv.ParseFloat(mode, 64)
		if err != nil || !(v >= 0 && v <= 1) {
			return usagef("--threshold %q: want auto, families, oob or a score in [0, 1]", mode)
		}
		f.Threshold = v
		rep.ThresholdFrom = "given"
	}
	rep.Threshold = round4(f.Threshold)
	return nil
}

func evaluate(f *forest.Forest, d *forest.Dataset, name string) *TestReport {
	scores := make([]float64, d.N())
	bad := make([]bool, d.N())
	for i := range d.N() {
		scores[i] = f.Score(d.Row(i))
		bad[i] = d.Y[i] == 1
	}
	c := eval.At(scores, bad, f.Threshold)
	return &TestReport{File: name, Rows: d.N(), Accuracy: round4(c.Accuracy()), TPR: round4(c.TPR()), FPR: round4(c.FPR()),
		Precision: round4(c.Precision()), AUC: round4(eval.AUCOf(scores, bad)), TP: c.TP, FP: c.FP, TN: c.TN, FN: c.FN,
		AtHalf: round4(eval.At(scores, bad, 0.5).Accuracy())}
}

func writeForestText(w io.Writer, r *ForestReport) {
	fmt.Fprintf(w, "%s on %s: %d rows (%d bad), %d features; %d tree(s), %d nodes, depth %d (%.1fs)\n",
		r.Algorithm, r.Data, r.Rows, r.Positives, r.Features, r.Trees, r.Nodes, r.Depth, r.Seconds)
	if r.Events > 0 {
		fmt.Fprintf(w, "features: %s, from %d archived events\n", r.Schema, r.Events)
	}
	if len(r.Families) > 0 {
		names := make([]string, 0, len(r.Families))
		for k := range r.Families {
			names = append(names, k)
		}
		slices.SortFunc(names, func(a, b string) int { return r.Families[b] - r.Families[a] })
		var parts []string
		for i, k := range names {
			if i == 8 {
				parts = append(parts, fmt.Sprintf("… %d more", len(names)-8))
				break
			}
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Families[k]))
		}
		fmt.Fprintf(w, "bad rows by family: %s\n", strings.Join(parts, ", "))
	}
	if r.OOBAccuracy != nil {
		fmt.Fprintf(w, "out-of-bag: accuracy %.4f, ROC AUC %.4f\n", *r.OOBAccuracy, *r.OOBAUC)
	}
	fmt.Fprintf(w, "threshold %.4f (%s)", r.Threshold, r.ThresholdFrom)
	if h := r.HeldOut; h != nil {
		fmt.Fprintf(w, ": on %d held-out families TPR %.4f, FPR %.4f", h.Families, h.TPR, h.FPR)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "feature importance (mean decrease in Gini impurity):")
	for i, im := range r.Importance {
		if i == 10 || im.Value == 0 {
			break
		}
		fmt.Fprintf(w, "  %-28s %.4f\n", im.Name, im.Value)
	}
	if r.TreeText != "" {
		fmt.Fprintf(w, "tree (first levels):\n%s", indent(r.TreeText, "  "))
	}
	if t := r.Test; t != nil {
		fmt.Fprintf(w, "test %s: %d rows, accuracy %.4f (at 0.5: %.4f), TPR %.4f, FPR %.4f, precision %.4f, ROC AUC %.4f\n",
			t.File, t.Rows, t.Accuracy, t.AtHalf, t.TPR, t.FPR, t.Precision, t.AUC)
		fmt.Fprintf(w, "  TP %d  FN %d  FP %d  TN %d\n", t.TP, t.FN, t.FP, t.TN)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "skipped: %s\n", s)
	}
	if r.Model != "" {
		fmt.Fprintf(w, "model written to %s\n", r.Model)
	}
}

func indent(s, p string) string {
	lines := strings.SplitAfter(s, "\n")
	var sb strings.Builder
	for _, l := range lines {
		if l != "" {
			sb.WriteString(p + l)
		}
	}
	return sb.String()
}

func ptr(f float64) *float64 { v := round4(f); return &v }

func round4(f float64) float64 { return math.Round(f*1e4) / 1e4 }
