// Command builddga builds winnow's DGA model file (the benign character
// model and the DGA score's logistic weights) from benign and labelled
// names. It is reproducible: the same inputs give the same file.
//
//	go run ./internal/detect/dns/cmd/builddga                   # ../shared/data → internal/detect/dns/dga_model.txt
//	go run ./internal/detect/dns/cmd/builddga -data DIR -o FILE
//
// Inputs (see the README's DNS section):
//   - DIR/dns-tunneling/train.csv, label 0: benign registered domains
//     (the training file only; validate.csv stays unseen)
//   - DIR/dga-domains/chrmor/dga_domains_sample.csv, the training half
//     (dns.InTrainSplit): legit names as benign, dga names as positives for
//     the logistic weights; the other half is kept for evaluation
//   - subdomains.txt beside this file: common host/subdomain labels,
//     written for winnow
//
// The character model is fitted on the benign names; the logistic weights
// are fitted with two-fold cross-fitting (each half's features come from
// a character model trained on the other half) so that they see
// surprisals of unseen benign names, as in real use.
package main

import (
	"bufio"
	_ "embed"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"winnow/internal/detect/dns"
)

//go:embed subdomains.txt
var subdomainWords string

func main() {
	data := flag.String("data", "../shared/data", "the shared data directory")
	out := flag.String("o", "internal/detect/dns/dga_model.txt", "model file to write")
	feats := flag.String("features", defaultFeatures, "DGA score inputs to fit (others get weight 0)")
	flag.Parse()
	if err := run(*data, *out, strings.Split(*feats, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "builddga:", err)
		os.Exit(1)
	}
}

type labelled struct {
	label string
	dga   bool
}

// defaultFeatures are the inputs fitted. Digit and hyphen shares are left
// out on purpose: in the training families digits and hyphens are rarer
// in DGA names than in benign ones, and a negative weight learnt from that
// would wave through hex and alphanumeric generators never seen in
// training; the character model's surprisal already prices them.
const defaultFeatures = "bpc,loglen,vowels,consrun,unique"

func run(data, out string, feats []string) error {
	tunnelBenign, err := readTunnelBenign(filepath.Join(data, "dns-tunneling", "train.csv"))
	if err != nil {
		return err
	}
	chrmor, err := readChrmor(filepath.Join(data, "dga-domains", "chrmor", "dga_domains_sample.csv"))
	if err != nil {
		return err
	}
	words := strings.Fields(stripComments(subdomainWords))

	// Benign labels for the character model.
	var benign []string
	for _, n := range tunnelBenign {
		benign = append(benign, dns.Analyze(dnsEmpty, n).Label)
	}
	var examples []labelled
	for _, e := range chrmor {
		examples = append(examples, e)
		if !e.dga {
			benign = append(benign, e.label)
		}
	}
	for _, n := range tunnelBenign {
		examples = append(examples, labelled{label: dns.Analyze(dnsEmpty, n).Label})
	}
	benign = dedupe(benign)

	// Two-fold cross-fitting of the logistic inputs.
	fold := func(s string) int { return int(hash(s) >> 7 % 2) }
	var models [2]*dns.Model
	for k := 0; k < 2; k++ {
		c := dns.NewCounts()
		for _, l := range benign {
			if fold(l) != k {
				c.AddLabel(l, 1)
			}
		}
		for _, w := range words {
			c.AddLabel(w, 1)
		}
		models[k] = c.Model(nil, nil)
	}
	var X [][]float64
	var y []float64
	idx := map[string]int{}
	for i, n := range dns.DGAFeatureNames() {
		idx[n] = i
	}
	for _, f := range feats {
		if _, ok := idx[f]; !ok {
			return fmt.Errorf("unknown feature %q (known: %v)", f, dns.DGAFeatureNames())
		}
	}
	for _, e := range examples {
		m := models[fold(e.label)] // trained without this label's fold
		all := dns.LabelInputs(m, e.label).Vector()
		x := make([]float64, len(feats))
		for i, f := range feats {
			x[i] = all[idx[f]]
		}
		X = append(X, x)
		if e.dga {
			y = append(y, 1)
		} else {
			y = append(y, 0)
		}
	}
	w := fitLogistic(X, y, 0.001, 4000)
	weights := map[string]float64{"bias": w[0]}
	for i, n := range feats {
		weights[n] = w[i+1]
	}

	// The shipped threshold: 1% false positives on the (cross-fitted)
	// benign training labels.
	var negScores []float64
	for i, x := range X {
		if y[i] == 0 {
			z := w[0]
			for j, v := range x {
				z += w[j+1] * v
			}
			negScores = append(negScores, 1/(1+math.Exp(-z)))
		}
	}
	sort.Float64s(negScores)
	weights["threshold"] = math.Round(negScores[len(negScores)*99/100]*1000) / 1000

	// The final character model, on all benign labels.
	c := dns.NewCounts()
	for _, l := range benign {
		c.AddLabel(l, 1)
	}
	for _, wd := range words {
		c.AddLabel(wd, 1)
	}
	ndga := 0
	for _, e := range examples {
		if e.dga {
			ndga++
		}
	}
	comment := []string{
		"winnow DGA model: benign character trigram counts and DGA logistic weights.",
		"Built by: go run ./internal/detect/dns/cmd/builddga -data ../shared/data",
		fmt.Sprintf("Benign labels: %d (dns-tunneling/train.csv label 0: %d names; chrmor legit, training half; %d subdomain words).",
			len(benign), len(tunnelBenign), len(words)),
		fmt.Sprintf("Logistic examples: %d (%d DGA from chrmor's training half), 2-fold cross-fitted.", len(examples), ndga),
		"Data: Cucchiarelli et al. 2021 (chrmor DGA sample), comnet24s DNS tunneling set; see the README.",
	}
	m := c.Model(weights, comment)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := m.Write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "builddga: wrote %s (%d benign labels, %d examples, weights %v)\n", out, len(benign), len(examples), fmtWeights(weights))
	return nil
}

// dnsEmpty is a model used only to split names (Analyze needs one).
var dnsEmpty = func() *dns.Model {
	c := dns.NewCounts()
	c.AddLabel("a", 1)
	return c.Model(nil, nil)
}()

func fmtWeights(w map[string]float64) string {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%.3f ", k, w[k])
	}
	return b.String()
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func hash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func readTunnelBenign(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		label, name, ok := strings.Cut(sc.Text(), ",")
		if ok && label == "0" {
			out = append(out, strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), ".")))
		}
	}
	return dedupe(out), sc.Err()
}

func readChrmor(path string) ([]labelled, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var out []labelled
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != 3 || !dns.InTrainSplit(rec[2]) {
			continue
		}
		name := strings.ToLower(strings.TrimSpace(rec[2]))
		out = append(out, labelled{label: dns.Analyze(dnsEmpty, name).Label, dga: rec[0] == "dga"})
	}
	return out, nil
}

// fitLogistic fits weights (bias first) by batch gradient descent on
// standardised inputs with L2 penalty lambda, then maps them back.
func fitLogistic(X [][]float64, y []float64, lambda float64, iters int) []float64 {
	d := len(X[0])
	mean, sd := make([]float64, d), make([]float64, d)
	for _, x := range X {
		for j, v := range x {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(X))
	}
	for _, x := range X {
		for j, v := range x {
			sd[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(len(X)))
		if sd[j] == 0 {
			sd[j] = 1
		}
	}
	w := make([]float64, d+1)
	g := make([]float64, d+1)
	lr := 0.5
	for it := 0; it < iters; it++ {
		clear(g)
		for i, x := range X {
			z := w[0]
			for j, v := range x {
				z += w[j+1] * (v - mean[j]) / sd[j]
			}
			e := 1/(1+math.Exp(-z)) - y[i]
			g[0] += e
			for j, v := range x {
				g[j+1] += e * (v - mean[j]) / sd[j]
			}
		}
		for j := range w {
			reg := 0.0
			if j > 0 {
				reg = lambda * w[j]
			}
			w[j] -= lr * (g[j]/float64(len(X)) + reg)
		}
	}
	// Back to raw inputs: z = b + Σ w_j (x_j − m_j)/s_j.
	out := make([]float64, d+1)
	out[0] = w[0]
	for j := 0; j < d; j++ {
		out[j+1] = w[j+1] / sd[j]
		out[0] -= w[j+1] * mean[j] / sd[j]
	}
	return out
}
