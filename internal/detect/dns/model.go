package dns

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The character model of benign names: a trigram Markov chain over the
// letters, digits and hyphen of DNS labels (other bytes share one symbol),
// with interpolated (Jelinek–Mercer) smoothing down to unigrams, so every
// string has a finite probability. Trained on benign names only, it scores
// how "word-like" a label is: DGA labels and encoded payloads are
// improbable under it. The DGA score combines its per-character
// surprisal with a few shape features through a logistic model whose
// weights are stored with the counts (see cmd/builddga).
//
// The model file is plain text, versioned:
//
//	winnow-dga-model 1
//	# comments: sources, counts, the command that built it
//	weights <name>=<float> ...
//	<trigram> <count>          one per line; '^' and '$' mark label ends
//
// It is embedded in the binary (dga_model.txt beside this file).

//go:embed dga_model.txt
var defaultModelText string

// ModelVersion is the model file format version this code reads.
const ModelVersion = 1

// symbols: a–z, 0–9, '-', other, '^' (start), '$' (end).
const (
	symOther = 37
	symStart = 38
	symEnd   = 39
	nSym     = 40
)

// Interpolation weights of trigram, bigram and unigram estimates.
const (
	lambda3 = 0.6
	lambda2 = 0.3
	lambda1 = 0.1
)

var symOf = func() (t [256]uint8) {
	for i := range t {
		t[i] = symOther
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = uint8(c - 'a')
		t[c-'a'+'A'] = uint8(c - 'a')
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(26 + c - '0')
	}
	t['-'] = 36
	return
}()

func symChar(s uint8) byte {
	switch {
	case s < 26:
		return 'a' + s
	case s < 36:
		return '0' + s - 26
	case s == 36:
		return '-'
	case s == symStart:
		return '^'
	case s == symEnd:
		return '$'
	}
	return '?'
}

func charSym(c byte) (uint8, bool) {
	switch c {
	case '^':
		return symStart, true
	case '$':
		return symEnd, true
	case '?':
		return symOther, true
	}
	s := symOf[c]
	return s, s != symOther
}

// Model is a loaded character model. It is immutable and safe for
// concurrent use.
type Model struct {
	logp    [nSym * nSym * nSym]float32 // log2 P(c | a b), smoothed
	weights map[string]float64
	tri     map[[3]uint8]float64 // counts, kept for Write
	Comment []string
}

// Counts accumulates trigram counts from training names.
type Counts struct {
	tri map[[3]uint8]float64
}

// NewCounts returns empty counts.
func NewCounts() *Counts { return &Counts{tri: make(map[[3]uint8]float64)} }

// AddLabel counts a label (weight w).
func (c *Counts) AddLabel(label string, w float64) {
	a, b := uint8(symStart), uint8(symStart)
	for i := 0; i < len(label); i++ {
		s := symOf[label[i]]
		c.tri[[3]uint8{a, b, s}] += w
		a, b = b, s
	}
	c.tri[[3]uint8{a, b, symEnd}] += w
}

// Model turns counts into a model with the given logistic weights.
func (c *Counts) Model(weights map[string]float64, comment []string) *Model {
	m := &Model{tri: c.tri, weights: weights, Comment: comment}
	m.compile()
	return m
}

func (m *Model) compile() {
	var uni [nSym]float64
	var bi [nSym * nSym]float64
	var biCtx [nSym]float64
	var triCtx [nSym * nSym]float64
	total := 0.0
	for k, n := range m.tri {
		uni[k[2]] += n
		bi[int(k[1])*nSym+int(k[2])] += n
		biCtx[k[1]] += n
		triCtx[int(k[0])*nSym+int(k[1])] += n
		total += n
	}
	// Add-one on unigrams so that unseen symbols keep a small mass
	// (never the start symbol: it is not emitted).
	for s := 0; s < nSym; s++ {
		if s != symStart {
			uni[s]++
			total++
		}
	}
	for a := 0; a < nSym; a++ {
		for b := 0; b < nSym; b++ {
			for s := 0; s < nSym; s++ {
				p := lambda1 * uni[s] / total
				if biCtx[b] > 0 {
					p += lambda2 * bi[b*nSym+s] / biCtx[b]
				} else {
					p += lambda2 * uni[s] / total
				}
				ctx := triCtx[a*nSym+b]
				if ctx > 0 {
					p += lambda3 * m.tri[[3]uint8{uint8(a), uint8(b), uint8(s)}] / ctx
				} else if biCtx[b] > 0 {
					p += lambda3 * bi[b*nSym+s] / biCtx[b]
				} else {
					p += lambda3 * uni[s] / total
				}
				m.logp[(a*nSym+b)*nSym+s] = float32(math.Log2(p))
			}
		}
	}
}

// Surprisal returns the label's total surprisal in bits (−log2 of its
// probability, end marker included) and the number of symbols scored.
func (m *Model) Surprisal(label string) (bits float64, n int) {
	a, b := uint8(symStart), uint8(symStart)
	for i := 0; i < len(label); i++ {
		s := symOf[label[i]]
		bits -= float64(m.logp[(int(a)*nSym+int(b))*nSym+int(s)])
		a, b = b, s
	}
	bits -= float64(m.logp[(int(a)*nSym+int(b))*nSym+symEnd])
	return bits, len(label) + 1
}

// symbolCosts returns how many of the label's symbols (end marker
// included) cost at least rareBits bits, and the costliest symbol's bits.
func (m *Model) symbolCosts(label string) (rare int, maxBits float64) {
	a, b := uint8(symStart), uint8(symStart)
	for i := 0; i <= len(label); i++ {
		s := uint8(symEnd)
		if i < len(label) {
			s = symOf[label[i]]
		}
		c := -float64(m.logp[(int(a)*nSym+int(b))*nSym+int(s)])
		if c >= rareBits {
			rare++
		}
		maxBits = max(maxBits, c)
		a, b = b, s
	}
	return rare, maxBits
}

// rareBits is the surprisal from which a symbol counts as rare.
const rareBits = 8

// Weight returns a logistic weight by name (0 if absent).
func (m *Model) Weight(name string) float64 { return m.weights[name] }

// Weights returns a copy of the logistic weights.
func (m *Model) Weights() map[string]float64 {
	out := make(map[string]float64, len(m.weights))
	for k, v := range m.weights {
		out[k] = v
	}
	return out
}

// DefaultModel returns the embedded model. It panics if the embedded file
// is broken (a build problem, caught by the package tests).
func DefaultModel() *Model {
	m, err := ReadModel(strings.NewReader(defaultModelText))
	if err != nil {
		panic("dns: embedded DGA model: " + err.Error())
	}
	return m
}

// ReadModel reads a model file.
func ReadModel(r io.Reader) (*Model, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	m := &Model{tri: make(map[[3]uint8]float64), weights: map[string]float64{}}
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		switch {
		case line == 1:
			f := strings.Fields(s)
			if len(f) != 2 || f[0] != "winnow-dga-model" {
				return nil, fmt.Errorf("cannot read DGA model: not a winnow-dga-model file")
			}
			if v, err := strconv.Atoi(f[1]); err != nil || v != ModelVersion {
				return nil, fmt.Errorf("cannot read DGA model: version %s, this build reads %d", f[1], ModelVersion)
			}
		case s == "":
		case strings.HasPrefix(s, "#"):
			m.Comment = append(m.Comment, strings.TrimSpace(strings.TrimPrefix(s, "#")))
		case strings.HasPrefix(s, "weights "):
			for _, kv := range strings.Fields(s)[1:] {
				k, v, ok := strings.Cut(kv, "=")
				f, err := strconv.ParseFloat(v, 64)
				if !ok || err != nil {
					return nil, fmt.Errorf("cannot read DGA model: line %d: bad weight %q", line, kv)
				}
				m.weights[k] = f
			}
		default:
			g, n, ok := strings.Cut(s, " ")
			cnt, err := strconv.ParseFloat(n, 64)
			if !ok || len(g) != 3 || err != nil || cnt < 0 {
				return nil, fmt.Errorf("cannot read DGA model: line %d: bad trigram line %q", line, s)
			}
			var k [3]uint8
			for i := 0; i < 3; i++ {
				sym, ok := charSym(g[i])
				if !ok {
					return nil, fmt.Errorf("cannot read DGA model: line %d: bad symbol %q", line, g[i])
				}
				k[i] = sym
			}
			m.tri[k] += cnt
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read DGA model: %w", err)
	}
	if line == 0 || len(m.tri) == 0 {
		return nil, fmt.Errorf("cannot read DGA model: no trigrams")
	}
	m.compile()
	return m, nil
}

// Write writes the model file (deterministic: sorted).
func (m *Model) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "winnow-dga-model %d\n", ModelVersion)
	for _, c := range m.Comment {
		fmt.Fprintf(bw, "# %s\n", c)
	}
	keys := make([]string, 0, len(m.weights))
	for k := range m.weights {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bw.WriteString("weights")
	for _, k := range keys {
		fmt.Fprintf(bw, " %s=%s", k, strconv.FormatFloat(m.weights[k], 'g', 6, 64))
	}
	bw.WriteByte('\n')
	grams := make([]string, 0, len(m.tri))
	for k, n := range m.tri {
		if n <= 0 {
			continue
		}
		grams = append(grams, fmt.Sprintf("%c%c%c %s", symChar(k[0]), symChar(k[1]), symChar(k[2]), strconv.FormatFloat(n, 'g', 6, 64)))
	}
	sort.Strings(grams)
	for _, g := range grams {
		bw.WriteString(g)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
