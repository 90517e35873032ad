package app

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"winnow/internal/detect/bayes"
	"winnow/internal/eval"
)

// Plots of 'winnow train --plot' and 'winnow learn --plot' (gonum/plot
// PNGs).

var (
	curveColor  = color.NRGBA{R: 30, G: 90, B: 160, A: 255}
	markerColor = color.NRGBA{R: 200, G: 40, B: 40, A: 255}
)

// plotTraining writes roc.png (ROC curve with the chosen operating point)
// and cost.png (validation cost against threshold) into dir.
func plotTraining(dir string, k bayes.Kind, rep *bayes.Report) error {
	if rep.Points == nil {
		return fmt.Errorf("cannot plot: no validation split with both classes")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot plot: %w", err)
	}
	final := eval.At(rep.Scores, rep.Labels, rep.Threshold)
	title := fmt.Sprintf("%s model: validation ROC (AUC %.4f)", k, rep.AUC)
	if err := savePlot(rocPlot(title, rep.Points, &final), filepath.Join(dir, "roc.png")); err != nil {
		return err
	}
	p := gplot.New()
	p.Title.Text = fmt.Sprintf("validation cost (block good %g, miss bad %g)", rep.Costs.BlockGood, rep.Costs.MissBad)
	p.X.Label.Text = "threshold (score ≥ threshold is bad)"
	p.Y.Label.Text = "cost"
	costs := eval.CostCurve(rep.Points, rep.Costs)
	var xy plotter.XYs
	for i, pt := range rep.Points {
		if math.IsInf(pt.Threshold, 0) {
			continue
		}
		xy = append(xy, plotter.XY{X: pt.Threshold, Y: costs[i]})
	}
	if len(xy) > 0 {
		l, err := plotter.NewLine(xy)
		if err != nil {
			return fmt.Errorf("cannot plot: %w", err)
		}
		l.Color = curveColor
		p.Add(l)
	}
	mark, err := plotter.NewScatter(plotter.XYs{{X: rep.Threshold, Y: final.Cost(rep.Costs)}})
	if err != nil {
		return fmt.Errorf("cannot plot: %w", err)
	}
	mark.Color = markerColor
	mark.Radius = vg.Points(4)
	p.Add(mark)
	p.Legend.Add(fmt.Sprintf("chosen threshold %.4f", rep.Threshold), mark)
	p.Add(plotter.NewGrid())
	return savePlot(p, filepath.Join(dir, "cost.png"))
}

// rocPlot draws a ROC curve (FPR on x, TPR on y) and, if at is set, the
// operating point.
func rocPlot(title string, pts []eval.ROCPoint, at *eval.Confusion) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.X.Label.Text = "false-positive rate (good called bad)"
	p.Y.Label.Text = "true-positive rate (bad caught)"
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	xy := make(plotter.XYs, 0, len(pts))
	for _, pt := range pts {
		xy = append(xy, plotter.XY{X: pt.FPR(), Y: pt.TPR()})
	}
	if l, err := plotter.NewLine(xy); err == nil {
		l.Color = curveColor
		p.Add(l)
	}
	diag, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if diag != nil {
		diag.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(diag)
	}
	if at != nil {
		if mark, err := plotter.NewScatter(plotter.XYs{{X: at.FPR(), Y: at.TPR()}}); err == nil {
			mark.Color = markerColor
			mark.Radius = vg.Points(4)
			p.Add(mark)
			p.Legend.Add(fmt.Sprintf("operating point: TPR %.4f at FPR %.4f", at.TPR(), at.FPR()), mark)
			p.Legend.Left, p.Legend.Top = false, false
		}
	}
	p.Add(plotter.NewGrid())
	return p
}

// plotPrequential writes accuracy (and AUC, where known) over the stream.
func plotPrequential(path, title string, curve []eval.PrequentialPoint) error {
	p := gplot.New()
	p.Title.Text = title
	p.X.Label.Text = "items seen"
	p.Y.Label.Text = "prequential accuracy / AUC"
	p.Y.Min, p.Y.Max = 0, 1
	var acc, win, auc plotter.XYs
	for _, pt := range curve {
		acc = append(acc, plotter.XY{X: float64(pt.N), Y: pt.Accuracy})
		win = append(win, plotter.XY{X: float64(pt.N), Y: pt.Window})
		if !math.IsNaN(pt.AUC) {
			auc = append(auc, plotter.XY{X: float64(pt.N), Y: pt.AUC})
		}
	}
	for _, s := range []struct {
		xy    plotter.XYs
		name  string
		color color.Color
	}{{acc, "cumulative accuracy", curveColor}, {win, "accuracy over the last window", color.NRGBA{R: 120, G: 160, B: 200, A: 255}},
		{auc, "cumulative AUC", markerColor}} {
		if len(s.xy) == 0 {
			continue
		}
		l, err := plotter.NewLine(s.xy)
		if err != nil {
			return fmt.Errorf("cannot plot: %w", err)
		}
		l.Color = s.color
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	p.Legend.Left, p.Legend.Top = false, false
	p.Add(plotter.NewGrid())
	return savePlot(p, path)
}

func savePlot(p *gplot.Plot, path string) error {
	if err := p.Save(7*vg.Inch, 5*vg.Inch, path); err != nil {
		return fmt.Errorf("cannot write plot %s: %w", path, err)
	}
	return nil
}
