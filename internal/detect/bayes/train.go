package bayes

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"

	"winnow/internal/eval"
)

// DefaultCosts are the costs a threshold is chosen with when the user
// states none: blocking one good item costs as much as missing one bad
// item, so the threshold minimises validation errors.
var DefaultCosts = eval.Costs{BlockGood: 1, MissBad: 1}

// Split decides deterministically which items go to the validation split:
// an item is identified by its source (file name) and index in it, hashed
// with the seed, so the same inputs give the same split on every run and
// machine.
type Split struct {
	Seed     uint64
	Fraction float64 // share of items held out for validation (0 = none)
}

// Validation reports whether item index of source is held out.
func (s Split) Validation(source string, index int64) bool {
	if s.Fraction <= 0 {
		return false
	}
	return s.unit(source, index) < s.Fraction
}

// unit maps an item to [0, 1).
func (s Split) unit(source string, index int64) float64 {
	h := fnv.New64a()
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(s.Seed >> (8 * i))
		b[8+i] = byte(uint64(index) >> (8 * i))
	}
	_, _ = h.Write(b[:])
	_, _ = h.Write([]byte(source))
	u := finish(h.Sum64())
	return float64(u>>11) / float64(1<<53)
}

// Trainer trains a model on labelled items and keeps a validation split to
// choose the threshold from costs.
type Trainer struct {
	Model *Model
	Split Split
	// KeepText keeps the text of up to MaxText distinct tokens so the
	// report can name the strongest ones (tokeniser must be Verbose).
	KeepText bool

	val      []valItem
	text     map[uint64]string
	trainN   [2]int
	valN     [2]int
	hashPool []uint64
	clsPool  []Class
	grpPool  []uint8
}

type valItem struct {
	off, n int // into hashPool / clsPool / grpPool
	bad    bool
}

// MaxText bounds the token texts a Trainer keeps.
const MaxText = 1 << 18

// NewTrainer returns a trainer for a new model of kind k.
func NewTrainer(k Kind, split Split) *Trainer {
	return &Trainer{Model: New(k), Split: split}
}

// Add routes one item to training or validation.
func (tr *Trainer) Add(source string, index int64, t *Tokens, bad bool) {
	b := 0
	if bad {
		b = 1
	}
	if tr.Split.Validation(source, index) {
		tr.addValidation(t, bad)
		return
	}
	tr.trainN[b]++
	tr.Model.Learn(t, bad)
	if tr.KeepText && len(t.Text) == len(t.Hashes) {
		if tr.text == nil {
			tr.text = make(map[uint64]string)
		}
		for i, h := range t.Hashes {
			if len(tr.text) >= MaxText {
				break
			}
			if _, ok := tr.text[h]; !ok {
				tr.text[h] = t.Text[i]
			}
		}
	}
}

// addValidation keeps a copy of t's tokens in the validation split.
func (tr *Trainer) addValidation(t *Tokens, bad bool) {
	tr.val = append(tr.val, valItem{off: len(tr.hashPool), n: len(t.Hashes), bad: bad})
	tr.hashPool = append(tr.hashPool, t.Hashes...)
	tr.clsPool = append(tr.clsPool, t.Classes...)
	tr.grpPool = append(tr.grpPool, t.groups()...)
	if bad {
		tr.valN[1]++
	} else {
		tr.valN[0]++
	}
}

// Report is what training found on the validation split.
type Report struct {
	TrainGood, TrainBad int
	ValGood, ValBad     int
	Tokens              int
	Points              []eval.ROCPoint // ROC on validation
	Scores              []float64       // validation scores
	Labels              []bool          // validation labels (true = bad)
	AUC                 float64
	Costs               eval.Costs
	Chosen              eval.ROCPoint // least-cost operating point
	Threshold           float64       // the threshold stored in the model
	TopBad, TopGood     []TokenStat   // strongest tokens (when KeepText)
}

// TokenStat is a learned token with its counts and probability.
type TokenStat struct {
	Class string
	Token string
	Good  uint32
	Bad   uint32
	Prob  float64
}

// ErrNoData is returned by Finish when a class has no training items.
var ErrNoData = errors.New("no training data")

// Finish compiles the model, scores the validation split, and sets the
// model's threshold to the least-cost operating point under k (the
// default 0.5 when there is no validation data of both classes).
func (tr *Trainer) Finish(k eval.Costs) (*Report, error) {
	m := tr.Model
	if m.Good == 0 || m.Bad == 0 {
		return nil, fmt.Errorf("%w: %d good and %d bad items trained (both are needed)", ErrNoData, m.Good, m.Bad)
	}
	if !(k.BlockGood > 0) || !(k.MissBad > 0) || math.IsInf(k.BlockGood, 0) || math.IsInf(k.MissBad, 0) {
		return nil, fmt.Errorf("costs must be positive: %+v", k)
	}
	m.Compile()
	r := &Report{TrainGood: tr.trainN[0], TrainBad: tr.trainN[1], ValGood: tr.valN[0], ValBad: tr.valN[1],
		Tokens: m.Tokens(), Costs: k}
	t := &Tokens{}
	for _, v := range tr.val {
		t.Hashes = tr.hashPool[v.off : v.off+v.n]
		t.Classes = tr.clsPool[v.off : v.off+v.n]
		t.Groups = tr.grpPool[v.off : v.off+v.n]
		r.Scores = append(r.Scores, m.Score(t))
		r.Labels = append(r.Labels, v.bad)
	}
	m.Costs = k
	if r.ValGood > 0 && r.ValBad > 0 {
		r.Points = eval.ROC(r.Scores, r.Labels)
		r.AUC = eval.AUC(r.Points)
		r.Chosen, r.Threshold = eval.MinCostCentred(r.Points, k)
		m.Threshold = r.Threshold
		c := eval.At(r.Scores, r.Labels, m.Threshold)
		m.Validation = Validation{Good: r.ValGood, Bad: r.ValBad, AUC: r.AUC, TPR: c.TPR(), FPR: c.FPR()}
	} else {
		r.Threshold = m.Threshold
	}
	if tr.text != nil {
		r.TopBad, r.TopGood = tr.top(20)
	}
	return r, nil
}

// top returns the n strongest bad and good tokens whose text is known,
// among tokens seen in at least 5 items.
func (tr *Trainer) top(n int) (bad, good []TokenStat) {
	m := tr.Model
	tb := m.table
	var all []TokenStat
	for h, c := range m.tokens {
		if c.good+c.bad < 5 {
			continue
		}
		txt, ok := tr.text[h]
		if !ok {
			continue
		}
		f := m.prob(c, tb.x[c.class], float64(m.Good), float64(m.Bad))
		all = append(all, TokenStat{Class: m.Kind.ClassName(c.class), Token: txt, Good: c.good, Bad: c.bad, Prob: f})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Prob != all[j].Prob {
			return all[i].Prob > all[j].Prob
		}
		if all[i].Bad+all[i].Good != all[j].Bad+all[j].Good {
			return all[i].Bad+all[i].Good > all[j].Bad+all[j].Good
		}
		return all[i].Token < all[j].Token
	})
	for i := 0; i < len(all) && len(bad) < n && all[i].Prob > 0.5; i++ {
		bad = append(bad, all[i])
	}
	for i := len(all) - 1; i >= 0 && len(good) < n && all[i].Prob < 0.5; i-- {
		good = append(good, all[i])
	}
	return bad, good
}
