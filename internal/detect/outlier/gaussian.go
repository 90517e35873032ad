package outlier

import "math"

// WindowedGaussian is NAB's windowed Gaussian baseline detector
// (nab/detectors/gaussian, the version behind NAB's published results:
// a window of 6400 points slid in steps of 100). A point's score is the
// normal CDF of its |z| against the mean and (population) deviation of
// the window before it, 0 for the first point. It is here to check
// winnow's NAB pipeline end to end against NAB's published results, not
// as a detector of its own.
type WindowedGaussian struct {
	Window, Step int
	data         []float64 // the window, oldest first
	buf          []float64 // points waiting for the next step
	shift        float64
	sum, sq      float64
	mean, std    float64
}

// NewWindowedGaussian returns the baseline with NAB's settings.
func NewWindowedGaussian() *WindowedGaussian {
	return &WindowedGaussian{Window: 6400, Step: 100, std: 1}
}

// Update scores x and adds it to the window.
func (g *WindowedGaussian) Update(x float64) float64 {
	score := 0.0
	if len(g.data) > 0 {
		v := x
		if v < g.mean { // mirrored, as nupic's normalProbability does
			v = 2*g.mean - v
		}
		score = 1 - 0.5*math.Erfc((v-g.mean)/g.std/1.4142)
	}
	if len(g.data) == 0 {
		g.shift = x
	}
	if len(g.data) < g.Window {
		g.data = append(g.data, x)
		y := x - g.shift
		g.sum += y
		g.sq += y * y
		g.update()
		return score
	}
	g.buf = append(g.buf, x)
	if len(g.buf) == g.Step {
		for _, o := range g.data[:g.Step] {
			y := o - g.shift
			g.sum -= y
			g.sq -= y * y
		}
		g.data = append(g.data[g.Step:], g.buf...)
		for _, n := range g.buf {
			y := n - g.shift
			g.sum += y
			g.sq += y * y
		}
		g.buf = g.buf[:0]
		g.update()
	}
	return score
}

func (g *WindowedGaussian) update() {
	n := float64(len(g.data))
	m := g.sum / n
	g.mean = m + g.shift
	g.std = math.Sqrt(max(g.sq/n-m*m, 0))
	if g.std == 0 {
		g.std = 0.000001
	}
}
