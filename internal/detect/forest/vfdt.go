package forest

import (
	"math"
	"slices"
	"strconv"

	"winnow/internal/detect/vfdt"
	"winnow/internal/learn/forest"
)

// VFDTModel adapts a Hoeffding tree (class 1 = bad). The tree is not
// trained while the model is applied; each call predicts with its own
// Reader, so calls are safe concurrently.
type VFDTModel struct{ T *vfdt.Tree }

// Score implements Model.
func (m VFDTModel) Score(x []float64) float64 {
	var buf [4]float64
	p := m.T.Reader().Proba(buf[:0], x)
	if len(p) < 2 {
		return 0
	}
	return p[1]
}

// Explain implements Model: the change of the bad-class probability at
// each split on x's path, credited to the split's attribute.
func (m VFDTModel) Explain(x []float64, n int) []forest.Contribution {
	attrs := m.T.Attrs()
	eff := map[int]float64{}
	for _, st := range m.T.Path(x, 1) {
		eff[st.Attr] += st.After - st.Before
	}
	out := make([]forest.Contribution, 0, len(eff))
	for a, e := range eff {
		shown := "missing"
		if !math.IsNaN(x[a]) {
			shown = strconv.FormatFloat(x[a], 'g', 4, 64)
		}
		out = append(out, forest.Contribution{Attr: a, Name: attrs[a].Name, Value: x[a], Shown: shown, Effect: e})
	}
	slices.SortFunc(out, func(p, q forest.Contribution) int {
		if d := math.Abs(q.Effect) - math.Abs(p.Effect); d != 0 {
			if d > 0 {
				return 1
			}
			return -1
		}
		return p.Attr - q.Attr
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Path implements Model.
func (m VFDTModel) Path(x []float64) []forest.Step {
	var out []forest.Step
	for _, st := range m.T.Path(x, 1) {
		out = append(out, forest.Step{Attr: st.Attr, Name: m.T.Attrs()[st.Attr].Name, Value: x[st.Attr], Test: st.Test, Score: st.After})
	}
	if out == nil {
		out = []forest.Step{}
	}
	return out
}
