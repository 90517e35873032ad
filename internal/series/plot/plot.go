// Package plot draws a time series with its anomaly score and labelled
// anomaly windows as PNG or SVG (gonum/plot), for `winnow series plot` and
// reports.
package plot

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Window is a shaded time range (a labelled anomaly window).
type Window struct{ Start, End time.Time }

// Input is what to draw.
type Input struct {
	Title  string
	Times  []time.Time
	Values []float64
	Scores []float64 // anomaly scores in [0, 1]; nil draws the series alone
	// Threshold, if > 0, is drawn as a line on the score panel and the
	// points at or above it are marked on the series.
	Threshold float64
	Windows   []Window
}

// Format is an output format.
type Format string

// Formats.
const (
	PNG Format = "png"
	SVG Format = "svg"
)

// FormatOf picks the format from a file name's extension (PNG default).
func FormatOf(name string) Format {
	if strings.HasSuffix(strings.ToLower(name), ".svg") {
		return SVG
	}
	return PNG
}

var (
	windowFill = color.NRGBA{R: 255, G: 200, B: 80, A: 90}
	valueColor = color.NRGBA{R: 30, G: 90, B: 160, A: 255}
	scoreColor = color.NRGBA{R: 200, G: 40, B: 40, A: 255}
)

// Write renders in to w, width × height points.
func Write(w io.Writer, in Input, f Format, width, height vg.Length) error {
	if len(in.Times) != len(in.Values) || (in.Scores != nil && len(in.Scores) != len(in.Times)) {
		return fmt.Errorf("cannot plot: %d times, %d values, %d scores", len(in.Times), len(in.Values), len(in.Scores))
	}
	if len(in.Times) == 0 {
		return fmt.Errorf("cannot plot: empty series")
	}
	top, err := seriesPlot(in)
	if err != nil {
		return err
	}
	plots := [][]*gplot.Plot{{top}}
	if in.Scores != nil {
		bottom, err := scorePlot(in)
		if err != nil {
			return err
		}
		plots = append(plots, []*gplot.Plot{bottom})
	}
	var cw vg.CanvasWriterTo
	switch f {
	case SVG:
		cw = vgsvg.New(width, height)
	default:
		cw = vgimg.PngCanvas{Canvas: vgimg.New(width, height)}
	}
	dc := draw.New(cw)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter, PadY: 2 * vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: 2 * vg.Millimeter}
	canvases := gplot.Align(plots, tiles, dc)
	for j := range plots {
		plots[j][0].Draw(canvases[j][0])
	}
	if _, err := cw.WriteTo(w); err != nil {
		return fmt.Errorf("cannot write plot: %w", err)
	}
	return nil
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func newTimePlot(title string, in Input) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.X.Tick.Marker = gplot.TimeTicks{Format: "2006-01-02\n15:04"}
	p.X.Min, p.X.Max = unix(in.Times[0]), unix(in.Times[len(in.Times)-1])
	p.Add(plotter.NewGrid())
	return p
}

// shade adds the windows as filled rectangles spanning [lo, hi].
func shade(p *gplot.Plot, ws []Window, lo, hi float64) error {
	for _, w := range ws {
		a, b := unix(w.Start), unix(w.End)
		poly, err := plotter.NewPolygon(plotter.XYs{{X: a, Y: lo}, {X: b, Y: lo}, {X: b, Y: hi}, {X: a, Y: hi}})
		if err != nil {
			return err
		}
		poly.Color = windowFill
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	return nil
}

func seriesPlot(in Input) (*gplot.Plot, error) {
	p := newTimePlot(in.Title, in)
	p.Y.Label.Text = "value"
	lo, hi := math.Inf(1), math.Inf(-1)
	xys := make(plotter.XYs, len(in.Times))
	for i, t := range in.Times {
		xys[i] = plotter.XY{X: unix(t), Y: in.Values[i]}
		lo, hi = math.Min(lo, in.Values[i]), math.Max(hi, in.Values[i])
	}
	if hi == lo {
		lo, hi = lo-1, hi+1
	}
	pad := (hi - lo) * 0.05
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	if err := shade(p, in.Windows, lo-pad, hi+pad); err != nil {
		return nil, err
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	line.Color = valueColor
	line.Width = vg.Points(0.7)
	p.Add(line)
	if in.Threshold > 0 && in.Scores != nil {
		var hits plotter.XYs
		for i, s := range in.Scores {
			if s >= in.Threshold {
				hits = append(hits, xys[i])
			}
		}
		if len(hits) > 0 {
			sc, err := plotter.NewScatter(hits)
			if err != nil {
				return nil, err
			}
			sc.GlyphStyle.Color = scoreColor
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			sc.GlyphStyle.Radius = vg.Points(2.5)
			p.Add(sc)
		}
	}
	return p, nil
}

func scorePlot(in Input) (*gplot.Plot, error) {
	p := newTimePlot("", in)
	p.Y.Label.Text = "anomaly score"
	p.Y.Min, p.Y.Max = 0, 1.05
	if err := shade(p, in.Windows, 0, 1.05); err != nil {
		return nil, err
	}
	xys := make(plotter.XYs, len(in.Times))
	for i, t := range in.Times {
		xys[i] = plotter.XY{X: unix(t), Y: math.Max(0, math.Min(1, in.Scores[i]))}
	}
	line, err := plotter.NewLine(xys)
	if err != nil {
		return nil, err
	}
	line.Color = scoreColor
	line.Width = vg.Points(0.7)
	p.Add(line)
	if in.Threshold > 0 {
		th, err := plotter.NewLine(plotter.XYs{{X: unix(in.Times[0]), Y: in.Threshold}, {X: unix(in.Times[len(in.Times)-1]), Y: in.Threshold}})
		if err != nil {
			return nil, err
		}
		th.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		th.Color = color.Gray{Y: 80}
		p.Add(th)
	}
	return p, nil
}
