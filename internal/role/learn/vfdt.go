package learn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"winnow/internal/detect/vfdt"
	"winnow/internal/eval"
	"winnow/internal/modelfile"
)

// VFDTOptions are 'winnow learn vfdt --archive' settings: a Hoeffding
// tree trained on the entity windows in event-time order, as they would
// stream, saved, reloaded and updated.
type VFDTOptions struct {
	Archive ArchiveData
	// Model, if set, is a saved tree to update (new windows, analyst
	// feedback) instead of starting empty.
	Model string
	// FeedbackOnly learns only the windows an analyst labelled (with
	// Model: teach the tree the verdicts without re-reading the rest).
	FeedbackOnly bool
	Config       vfdt.Config
	CostFP       float64
	CostFN       float64
	Out          string
	Site         string
	Version      string
	Format       string
	Stdout       io.Writer
	Stderr       io.Writer
}

// VFDTReport is what a run measured.
type VFDTReport struct {
	Data      string  `json:"data"`
	Schema    string  `json:"schema"`
	Windows   int     `json:"windows"`
	Learned   int     `json:"learned"`
	Bad       int     `json:"bad"`
	Updated   string  `json:"updated_model,omitempty"`
	Accuracy  float64 `json:"prequential_accuracy"`
	AUC       float64 `json:"prequential_auc"`
	Threshold float64 `json:"threshold"`
	TPR       float64 `json:"tpr"`
	FPR       float64 `json:"fpr"`
	Nodes     int     `json:"nodes"`
	Leaves    int     `json:"leaves"`
	Depth     int     `json:"depth"`
	Model     string  `json:"model,omitempty"`
	Seconds   float64 `json:"seconds"`
}

// VFDT trains (or updates) a Hoeffding tree on archive windows.
func VFDT(ctx context.Context, o VFDTOptions) error {
	start := time.Now()
	if o.Format == "" {
		o.Format = "text"
	}
	if o.Format != "text" && o.Format != "json" {
		return usagef("--format %q: want text or json", o.Format)
	}
	if o.FeedbackOnly && o.Model == "" {
		return usagef("--feedback-only updates a saved tree: give --model FILE")
	}
	if o.CostFP <= 0 {
		o.CostFP = 1
	}
	if o.CostFN <= 0 {
		o.CostFN = 1
	}
	ws, err := loadWindows(ctx, o.Archive)
	if err != nil {
		return err
	}
	schema := ws.spec.Schema()
	var tree *vfdt.Tree
	if o.Model != "" {
		h, p, err := modelfile.ReadFile(o.Model)
		if err != nil {
			return err
		}
		warn, err := h.Check(modelfile.Expect{Type: vfdt.ModelType, TypeVersion: vfdt.PayloadVersion, Schema: schema, Site: o.Site})
		if err != nil {
			return fmt.Errorf("cannot update %s: %w (its features must match --key, --window and --kinds)", o.Model, err)
		}
		for _, w := range warn {
			fmt.Fprintf(o.Stderr, "winnow: warning: %s: %s\n", o.Model, w)
		}
		if tree, err = vfdt.Decode(p); err != nil {
			return fmt.Errorf("cannot update %s: %w", o.Model, err)
		}
	} else {
		attrs := make([]vfdt.Attr, len(ws.data.Attrs))
		for i, a := range ws.data.Attrs {
			attrs[i] = vfdt.Attr{Name: a.Name}
		}
		cfg := o.Config
		if cfg.GracePeriod == 0 {
			cfg = vfdt.DefaultConfig()
		}
		if tree, err = vfdt.New(attrs, 2, cfg); err != nil {
			return UsageError{err}
		}
	}
	rep := &VFDTReport{Data: o.Archive.Dir, Schema: schema, Windows: ws.data.N(), Updated: o.Model}
	var pre eval.Prequential
	var p []float64
	for i := range ws.data.N() {
		if i&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if o.FeedbackOnly && !ws.analyst[i] {
			continue
		}
		x, y := ws.data.Row(i), ws.data.Y[i]
		p = tree.Proba(p, x)
		s := 0.0
		if len(p) > 1 {
			s = p[1]
		}
		pre.Add(y, tree.Predict(x), s)
		tree.Learn(x, y)
		rep.Learned++
		if y == 1 {
			rep.Bad++
		}
	}
	pre.Finish()
	if rep.Learned == 0 {
		return errors.New("no windows to learn (with --feedback-only, give --labels that cover archived windows)")
	}
	rep.Accuracy, rep.AUC = round4(pre.Accuracy()), round4(pre.AUC())
	if math.IsNaN(rep.AUC) { // one class only
		rep.AUC = 0
	}
	scores, bad := pre.Scores()
	threshold := 0.5
	if rep.Bad > 0 && rep.Bad < rep.Learned {
		pt, th := eval.MinCost(eval.ROC(scores, bad), eval.Costs{BlockGood: o.CostFP, MissBad: o.CostFN})
		threshold = math.Min(math.Max(th, 0), 1)
		rep.TPR, rep.FPR = round4(pt.TPR()), round4(pt.FPR())
	}
	rep.Threshold = round4(threshold)
	rep.Nodes, rep.Leaves, rep.Depth = tree.Size()
	if o.Out != "" {
		h := modelfile.Header{Type: vfdt.ModelType, TypeVersion: vfdt.PayloadVersion, Schema: schema, Site: o.Site,
			Producer: o.Version, Created: time.Now().UTC(), Meta: map[string]string{
				"threshold": strconv.FormatFloat(threshold, 'g', -1, 64), "windows": strconv.Itoa(rep.Learned),
				"prequential_accuracy": fmt.Sprintf("%.4f", rep.Accuracy), "data": rep.Data}}
		if err := modelfile.WriteFile(o.Out, h, tree.Encode()); err != nil {
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
	w := o.Stdout
	verb := "trained"
	if o.Model != "" {
		verb = "updated " + o.Model
	}
	fmt.Fprintf(w, "Hoeffding tree %s on %s: %d of %d windows learned (%d bad), in event-time order (%.1fs)\n",
		verb, rep.Data, rep.Learned, rep.Windows, rep.Bad, rep.Seconds)
	fmt.Fprintf(w, "features: %s\n", schema)
	fmt.Fprintf(w, "prequential (test-then-train): accuracy %.4f, ROC AUC %.4f\n", rep.Accuracy, rep.AUC)
	fmt.Fprintf(w, "threshold %.4f (least cost on prequential scores): TPR %.4f, FPR %.4f\n", rep.Threshold, rep.TPR, rep.FPR)
	fmt.Fprintf(w, "tree: %d nodes, %d leaves, depth %d\n", rep.Nodes, rep.Leaves, rep.Depth)
	if rep.Model != "" {
		fmt.Fprintf(w, "model written to %s\n", rep.Model)
	}
	return nil
}
