package rules

import (
	"fmt"
	"math"
	"strings"
	"time"

	"winnow/internal/modelfile"
)

// ModelType is the container type of mined rules applied as a detector.
const ModelType = "rules"

// PayloadVersion is the version of Model's encoding.
const PayloadVersion = 1

// NamedRule is a rule with its items as text.
type NamedRule struct {
	If         []string `json:"if"`
	Then       []string `json:"then"`
	Count      int      `json:"count"`
	Support    float64  `json:"support"`
	Confidence float64  `json:"confidence"`
	Lift       float64  `json:"lift"`
}

// String renders the rule.
func (r NamedRule) String() string {
	return fmt.Sprintf("{%s} → {%s} (support %.4f, confidence %.2f, lift %.1f)",
		strings.Join(r.If, ", "), strings.Join(r.Then, ", "), r.Support, r.Confidence, r.Lift)
}

// Named converts rules to text items.
func Named(rs []Rule, d *Dict) []NamedRule {
	out := make([]NamedRule, len(rs))
	for i, r := range rs {
		nr := NamedRule{Count: r.Count, Support: r.Support, Confidence: r.Confidence, Lift: r.Lift}
		for _, id := range r.If {
			nr.If = append(nr.If, d.Name(id))
		}
		for _, id := range r.Then {
			nr.Then = append(nr.Then, d.Name(id))
		}
		out[i] = nr
	}
	return out
}

// Model is a set of mined rules over event transactions, applied in the
// stream: a source whose transaction holds every item of a rule matches
// the signature the rule describes.
type Model struct {
	Kind         string // KindAuth or KindHTTP
	Window       time.Duration
	Transactions int
	Rules        []NamedRule
}

const (
	maxRules     = 100_000
	maxRuleItems = 64
)

// Encode writes the model's payload.
func (m *Model) Encode() []byte {
	var e modelfile.Enc
	e.String(m.Kind)
	e.Varint(int64(m.Window / time.Second))
	e.Uvarint(uint64(m.Transactions))
	e.Uvarint(uint64(len(m.Rules)))
	for _, r := range m.Rules {
		for _, side := range [][]string{r.If, r.Then} {
			e.Uvarint(uint64(len(side)))
			for _, it := range side {
				e.String(it)
			}
		}
		e.Uvarint(uint64(r.Count))
		e.Float64(r.Support)
		e.Float64(r.Confidence)
		e.Float64(r.Lift)
	}
	return e.Data()
}

// Decode reads a payload written by Encode.
func Decode(p []byte) (*Model, error) {
	d := modelfile.NewDec(p)
	m := &Model{Kind: d.String()}
	if d.Err() == nil && m.Kind != KindAuth && m.Kind != KindHTTP {
		d.Fail("transactions of kind %q cannot be applied to events", m.Kind)
	}
	w := d.Varint()
	if d.Err() == nil && (w < 1 || w > 366*86400) {
		d.Fail("window %ds", w)
	}
	m.Window = time.Duration(w) * time.Second
	m.Transactions = d.Int(math.MaxInt32)
	n := d.Count(4 + 24)
	if d.Err() == nil && n > maxRules {
		d.Fail("%d rules", n)
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		var r NamedRule
		for side := range 2 {
			k := d.Count(1)
			if d.Err() == nil && (k < 1 || k > maxRuleItems) {
				d.Fail("rule %d: %d items", i, k)
			}
			for j := 0; j < k && d.Err() == nil; j++ {
				it := d.String()
				if side == 0 {
					r.If = append(r.If, it)
				} else {
					r.Then = append(r.Then, it)
				}
			}
		}
		r.Count = d.Int(math.MaxInt32)
		r.Support, r.Confidence, r.Lift = d.Float64(false), d.Float64(false), d.Float64(false)
		if d.Err() == nil && !(r.Support >= 0 && r.Support <= 1 && r.Confidence >= 0 && r.Confidence <= 1 && r.Lift >= 0) {
			d.Fail("rule %d: bad figures", i)
		}
		m.Rules = append(m.Rules, r)
	}
	if d.Err() == nil && d.Len() != 0 {
		d.Fail("%d trailing bytes", d.Len())
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("cannot decode rules: %w", err)
	}
	return m, nil
}

// Schema is the feature schema of a rules model: its transaction kind
// and window.
func (m *Model) Schema() string { return fmt.Sprintf("transactions-v1/%s/%s", m.Kind, m.Window) }
