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
	feats := flag.String("features", strings.Join(dns.DefaultDGAFeatures, ","), "DGA score inputs to fit (others get weight 0): "+strings.Join(dns.DGAFeatureNames(), ","))
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

func run(data, out string, feats []string) error {
	tunnelBenign, err := readTunnelBenign(filepath.Join(data, "dns-tunneling", "train.csv"))
	if err != nil {
		return err
	}
	chrmor, err := readChrmor(filepath.Join(data, "dga-domains", "chrmor", "dga_domains_sample.csv"))
	if err != nil {
		return err
	}
	ts := dns.DGATrainingSet{Words: strings.Fields(stripComments(subdomainWords)), Features: feats}
	for _, n := range tunnelBenign {
		ts.Benign = append(ts.Benign, dns.Analyze(dnsEmpty, n).Label)
	}
	ndga := 0
	for _, e := range chrmor {
		if e.dga {
			ts.DGA = append(ts.DGA, e.label)
			ndga++
		} else {
			ts.Benign = append(ts.Benign, e.label)
		}
	}
	nbenign := len(dedupe(append([]string(nil), ts.Benign...)))
	ts.Comment = []string{
		"winnow DGA model: benign character trigram counts and DGA logistic weights.",
		"Built by: go run ./internal/detect/dns/cmd/builddga -data ../shared/data",
		fmt.Sprintf("Benign labels: %d (dns-tunneling/train.csv label 0: %d names; chrmor legit, training half; %d subdomain words for the character model).",
			nbenign, len(tunnelBenign), len(ts.Words)),
		fmt.Sprintf("Logistic examples: %d benign, %d DGA (chrmor's training half), classes weighted equally, 2-fold cross-fitted.", nbenign, ndga),
		"Inputs: " + strings.Join(feats, ", ") + ".",
		"Data: Cucchiarelli et al. 2021 (chrmor DGA sample), comnet24s DNS tunneling set; see the README.",
	}
	m, err := dns.BuildDGAModel(ts)
	if err != nil {
		return err
	}
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
	fmt.Fprintf(os.Stderr, "builddga: wrote %s (%d benign labels, %d DGA, weights %v)\n", out, nbenign, ndga, fmtWeights(m.Weights()))
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
