package bayes

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"winnow/internal/eval"
)

// Kind is the kind of item a model scores.
type Kind uint8

// Kinds.
const (
	KindHTTP Kind = 1 // HTTP requests (access-log events, raw requests)
	KindAuth Kind = 2 // auth events
	KindDNS  Kind = 3 // DNS query names
)

func (k Kind) String() string {
	switch k {
	case KindHTTP:
		return "http"
	case KindAuth:
		return "auth"
	case KindDNS:
		return "dns"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind maps "http", "auth" or "dns" to a Kind.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(s) {
	case "http":
		return KindHTTP, nil
	case "auth":
		return KindAuth, nil
	case "dns":
		return KindDNS, nil
	}
	return 0, fmt.Errorf("unknown model kind %q (want http, auth or dns)", s)
}

// classCount is the number of token classes of a kind (classes are
// 1..classCount-1).
func (k Kind) classCount() int {
	switch k {
	case KindHTTP:
		return int(httpClasses)
	case KindAuth:
		return int(authClasses)
	case KindDNS:
		return int(dnsClasses)
	}
	return 0
}

// ClassName names a token class of the kind (for explanations).
func (k Kind) ClassName(c Class) string {
	var names []string
	switch k {
	case KindHTTP:
		names = httpClassNames[:]
	case KindAuth:
		names = authClassNames[:]
	case KindDNS:
		names = dnsClassNames[:]
	}
	if int(c) < len(names) && c > 0 {
		return names[c]
	}
	return fmt.Sprintf("class%d", c)
}

// Params are the filter's constants (Robinson's and SpamBayes' names in
// parentheses).
type Params struct {
	// Strength is how many messages' worth of weight the prior x of a
	// token's class has against its observed frequency (s; SpamBayes'
	// unknown_word_strength 0.45).
	Strength float64
	// MinDist: tokens whose probability is within MinDist of 0.5 are
	// ignored as uninformative (SpamBayes' minimum_prob_strength 0.1).
	MinDist float64
	// UnknownLo and UnknownHi bound the learned probability that an unknown
	// token of a class is bad (x per class, see Model), so that no class of
	// unseen tokens decides a verdict on its own.
	UnknownLo, UnknownHi float64
}

// DefaultParams: SpamBayes' strength; only strong clues (f < 0.12 or
// f > 0.88) are combined, and unknown tokens count only where their class
// says novelty is strong evidence (x at the 0.1/0.9 bounds). On CSIC 2010
// a looser MinDist (SpamBayes' 0.1) lets the many mildly-good tokens that
// an attack request shares with normal ones (every parameter but the one
// attacked) outvote the few that mark it: 97 % of attacks detected at 1 %
// false positives, against 99.5 % with these constants.
func DefaultParams() Params {
	return Params{Strength: 0.45, MinDist: 0.38, UnknownLo: 0.1, UnknownHi: 0.9}
}

func (p Params) valid() error {
	if !(p.Strength > 0 && p.Strength < 1e6) || !(p.MinDist >= 0 && p.MinDist < 0.5) ||
		!(p.UnknownLo > 0 && p.UnknownLo <= p.UnknownHi && p.UnknownHi < 1) {
		return fmt.Errorf("invalid filter parameters %+v", p)
	}
	return nil
}

// Validation summarises how the model did on the held-out split it was
// calibrated on (zero when it was not).
type Validation struct {
	Good, Bad int     // validation items
	AUC       float64 // ROC AUC
	TPR, FPR  float64 // at Threshold
}

// counts are a token's training counts: how many good and bad items
// contained it.
type counts struct {
	good, bad uint32
	class     Class
}

// Model is a Bayesian good/bad filter: per token, how many good and how
// many bad training items contained it; combined at scoring time with
// Robinson's method and Fisher's chi-square (as in SpamBayes).
//
// For a token w seen in g good and b bad items out of G good and B bad:
//
//	p(w) = (b/B) / (b/B + g/G)
//	f(w) = (s·x + n·p(w)) / (s + n)        n = b + g
//
// where x is the prior for w's class. Unknown tokens (n = 0) get f = x.
// x is learned per class by Good–Turing: the rate of tokens of the class
// seen exactly once in bad items (per bad token occurrence) against that
// rate in good items, so a class whose novel tokens mark attacks (an
// unseen parameter name, a value shape never seen for a parameter) makes
// unknown tokens of that class suspicious, while a class where novelty is
// normal (free-text words) leaves them neutral. x is bounded by
// Params.UnknownLo/Hi. Tokens with |f − 0.5| < MinDist are ignored; the
// rest are combined:
//
//	S = 1 − C⁻¹(−2 Σ ln(1 − f), 2n)     evidence of bad
//	H = 1 − C⁻¹(−2 Σ ln f, 2n)          evidence of good
//	score = (1 + S − H) / 2
//
// with C⁻¹ the chi-square survival function. The score is 0–1; ≥
// Threshold means bad. Threshold is chosen from costs on a validation
// split (see Trainer).
//
// A Model is trained with Learn (incrementally: feedback adds items to a
// loaded model). Scoring uses a compiled table built by Compile; Learn
// invalidates it. After Compile, Score and Explain are safe for concurrent
// use as long as nothing calls Learn.
type Model struct {
	Kind       Kind
	Params     Params
	Good, Bad  uint64 // items trained
	Threshold  float64
	Costs      eval.Costs // the costs Threshold was chosen with
	Validation Validation

	tokens map[uint64]counts
	table  *table
}

// New returns an empty model of a kind with the default parameters and
// threshold 0.5.
func New(k Kind) *Model {
	return &Model{Kind: k, Params: DefaultParams(), Threshold: 0.5, Costs: eval.Costs{BlockGood: 1, MissBad: 1},
		tokens: make(map[uint64]counts)}
}

// Tokens returns the number of distinct tokens learned.
func (m *Model) Tokens() int { return len(m.tokens) }

// Learn adds one item's tokens as good or bad.
func (m *Model) Learn(t *Tokens, bad bool) {
	m.table = nil
	if bad {
		m.Bad++
	} else {
		m.Good++
	}
	for i, h := range t.Hashes {
		c := m.tokens[h]
		c.class = t.Classes[i]
		if bad {
			if c.bad < math.MaxUint32 {
				c.bad++
			}
		} else if c.good < math.MaxUint32 {
			c.good++
		}
		m.tokens[h] = c
	}
}

// Unlearn removes an item learned earlier with the same label (for
// feedback that corrects a label). Counts never go below zero.
func (m *Model) Unlearn(t *Tokens, bad bool) {
	m.table = nil
	if bad && m.Bad > 0 {
		m.Bad--
	} else if !bad && m.Good > 0 {
		m.Good--
	}
	for _, h := range t.Hashes {
		c, ok := m.tokens[h]
		if !ok {
			continue
		}
		if bad && c.bad > 0 {
			c.bad--
		} else if !bad && c.good > 0 {
			c.good--
		}
		if c.good == 0 && c.bad == 0 {
			delete(m.tokens, h)
		} else {
			m.tokens[h] = c
		}
	}
}

// entry is a compiled token: the logs of its probability f, ln f and
// ln(1−f), or lnf = +1 (impossible for a log of a probability) when the
// token is ignored (|f − 0.5| < MinDist). 16 bytes, so the table of a
// model with 100k tokens stays within a few MB of cache.
type entry struct {
	key       uint64
	lnf, ln1f float32
}

// skip reports whether the token is ignored.
func (e *entry) skip() bool { return e.lnf > 0 }

// table is the compiled scoring table: open addressing on the token hash.
type table struct {
	slots   []entry
	mask    uint64
	unknown [256]entry // per class
	x       [256]float64
}

// Compile builds the scoring table. Score compiles on first use; call it
// explicitly before sharing the model between goroutines.
func (m *Model) Compile() {
	if m.table != nil {
		return
	}
	p := m.Params
	tb := &table{}
	// Good–Turing per class: hapaxes and occurrences in each corpus.
	var hapG, hapB, occG, occB [256]float64
	for _, c := range m.tokens {
		occG[c.class] += float64(c.good)
		occB[c.class] += float64(c.bad)
		if c.good+c.bad == 1 {
			if c.bad == 1 {
				hapB[c.class]++
			} else {
				hapG[c.class]++
			}
		}
	}
	for c := range 256 {
		x := 0.5
		if m.Good > 0 && m.Bad > 0 {
			rb := (hapB[c] + 1) / (occB[c] + 2)
			rg := (hapG[c] + 1) / (occG[c] + 2)
			x = rb / (rb + rg)
		}
		x = math.Max(p.UnknownLo, math.Min(p.UnknownHi, x))
		tb.x[c] = x
		tb.unknown[c] = makeEntry(0, x, p.MinDist)
	}
	size := 16
	for size < 2*len(m.tokens) {
		size <<= 1
	}
	tb.slots = make([]entry, size)
	tb.mask = uint64(size - 1)
	G, B := float64(m.Good), float64(m.Bad)
	for h, c := range m.tokens {
		f := m.prob(c, tb.x[c.class], G, B)
		i := h & tb.mask
		for tb.slots[i].key != 0 {
			i = (i + 1) & tb.mask
		}
		tb.slots[i] = makeEntry(h, f, p.MinDist)
	}
	m.table = tb
}

// prob is f(w) for a token with counts c and class prior x.
func (m *Model) prob(c counts, x, G, B float64) float64 {
	n := float64(c.good) + float64(c.bad)
	var pw float64
	switch {
	case B == 0 && G == 0:
		pw = 0.5
	case B == 0:
		pw = 0
	case G == 0:
		pw = 1
	default:
		bf, gf := float64(c.bad)/B, float64(c.good)/G
		if bf+gf == 0 {
			pw = x
		} else {
			pw = bf / (bf + gf)
		}
	}
	s := m.Params.Strength * classStrength(m.Kind, c.class)
	return (s*x + n*pw) / (s + n)
}

func makeEntry(key uint64, f, minDist float64) entry {
	e := entry{key: key}
	if math.Abs(f-0.5) < minDist {
		e.lnf = 1
		return e
	}
	e.lnf, e.ln1f = float32(math.Log(f)), float32(math.Log1p(-f))
	return e
}

func (tb *table) lookup(h uint64) (*entry, bool) {
	i := h & tb.mask
	for {
		e := &tb.slots[i]
		if e.key == h {
			return e, true
		}
		if e.key == 0 {
			return nil, false
		}
		i = (i + 1) & tb.mask
	}
}

// Score combines the tokens' evidence into a 0–1 score (1 = bad).
//
// Tokens are combined per group (see Tokens.Groups: the item as a whole,
// and each HTTP parameter on its own) and the score is the highest
// group's: an item is as bad as its worst part. Evidence does not cancel
// across parts — the many ordinary parameters of a form do not outvote
// the one that carries an injection — and within a part, good and bad
// clues are weighed against each other as SpamBayes does. Items with one
// group (auth, DNS, tokens rebuilt without groups) get Fisher's score
// over all their tokens.
func (m *Model) Score(t *Tokens) float64 {
	m.Compile()
	tb := m.table
	grouped := len(t.Groups) == len(t.Hashes)
	if t.sums == nil {
		t.sums = new([maxGroups]groupSum)
	}
	sums := t.sums
	used := 0 // highest group index seen + 1
	for i, h := range t.Hashes {
		e, ok := tb.lookup(h)
		if !ok {
			e = &tb.unknown[t.Classes[i]]
		}
		if e.skip() {
			continue
		}
		g := 0
		if grouped {
			g = int(t.Groups[i])
		}
		s := &sums[g]
		s.lnf += float64(e.lnf)
		s.ln1f += float64(e.ln1f)
		s.n++
		used = max(used, g+1)
	}
	if used == 0 {
		return 0.5
	}
	best := -1.0
	for g := 0; g < used; g++ {
		if s := &sums[g]; s.n > 0 {
			best = max(best, combine(s.lnf, s.ln1f, s.n))
			*s = groupSum{}
		}
	}
	return best
}

// Unknown counts the tokens of t that the model never saw in training,
// and all of t's tokens. A model applied to data unlike what it was
// trained on (another site's requests) sees mostly unknown tokens, and
// its scores then rest on priors, not evidence.
func (m *Model) Unknown(t *Tokens) (unknown, total int) {
	m.Compile()
	for _, h := range t.Hashes {
		if _, ok := m.table.lookup(h); !ok {
			unknown++
		}
	}
	return unknown, len(t.Hashes)
}

// maxGroups bounds the groups of an item (Tokens.Groups is a uint8).
const maxGroups = 256

type groupSum struct {
	lnf, ln1f float64
	n         int
}

// combine is Fisher's method on both tails (see Model).
func combine(sumLnF, sumLn1F float64, n int) float64 {
	if n == 0 {
		return 0.5
	}
	qBad := chi2Q(-2*sumLn1F, 2*n) // small when tokens are bad
	qGood := chi2Q(-2*sumLnF, 2*n) // small when tokens are good
	return (1 + qGood - qBad) / 2
}

// Clue is one token's part in a verdict.
type Clue struct {
	Class   string  `json:"class"`
	Token   string  `json:"token"`
	Prob    float64 `json:"prob"`  // f: probability the token marks a bad item
	Known   bool    `json:"known"` // seen in training
	Good    uint32  `json:"good"`  // training items with the token
	Bad     uint32  `json:"bad"`
	Ignored bool    `json:"-"`
}

// Explain returns the n tokens that pushed t most towards bad (highest f),
// or towards good when toward is false. t must have been built with
// Verbose set for the token text to be filled.
func (m *Model) Explain(t *Tokens, n int, towardBad bool) []Clue {
	m.Compile()
	tb := m.table
	clues := make([]Clue, 0, len(t.Hashes))
	for i, h := range t.Hashes {
		e, known := tb.lookup(h)
		if !known {
			e = &tb.unknown[t.Classes[i]]
		}
		if e.skip() {
			continue
		}
		c := Clue{Class: m.Kind.ClassName(t.Classes[i]), Prob: math.Exp(float64(e.lnf)), Known: known}
		if i < len(t.Text) {
			c.Token = t.Text[i]
		}
		if known {
			cc := m.tokens[h]
			c.Good, c.Bad = cc.good, cc.bad
		}
		if towardBad && c.Prob > 0.5 || !towardBad && c.Prob < 0.5 {
			clues = append(clues, c)
		}
	}
	sort.SliceStable(clues, func(a, b int) bool {
		if towardBad {
			return clues[a].Prob > clues[b].Prob
		}
		return clues[a].Prob < clues[b].Prob
	})
	if len(clues) > n {
		clues = clues[:n]
	}
	return clues
}

// Bad reports whether a score is at or above the model's threshold.
func (m *Model) IsBad(score float64) bool { return score >= m.Threshold }

// chi2Q is the chi-square survival function P(χ² ≥ x2) for even degrees
// of freedom v: e^(−m) Σ_{i<k} m^i/i!, m = x2/2, k = v/2 (a Poisson
// lower tail). When e^(−m) would underflow, the sum is taken around its
// largest term with ratios (one Lgamma and one Log per call, no
// allocation); when k ≤ m/2 the tail is below e^(−0.15m) < 1e-45 and 0 is
// returned.
func chi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	k := v / 2
	if m <= 0 {
		return 1
	}
	if m < 700 {
		sum, term := math.Exp(-m), math.Exp(-m)
		for i := 1; i < k; i++ {
			term *= m / float64(i)
			sum += term
		}
		return math.Min(sum, 1)
	}
	if float64(k) <= m/2 {
		return 0
	}
	top := k - 1 // the largest term: i = min(k−1, ⌊m⌋)
	if fm := math.Floor(m); float64(top) > fm {
		top = int(fm)
	}
	lg, _ := math.Lgamma(float64(top) + 1)
	logTop := -m + float64(top)*math.Log(m) - lg
	sum, t := 1.0, 1.0
	for i := top; i > 0; i-- { // t_{i−1} = t_i · i/m
		t *= float64(i) / m
		sum += t
		if t < 1e-17*sum {
			break
		}
	}
	t = 1
	for i := top + 1; i < k; i++ { // t_i = t_{i−1} · m/i
		t *= m / float64(i)
		sum += t
		if t < 1e-17*sum {
			break
		}
	}
	return math.Min(math.Exp(logTop+math.Log(sum)), 1)
}
