package bayes

import (
	"bytes"
	"encoding/csv"
	"os"
	"testing"

	"winnow/internal/eval"
	"winnow/internal/testdata"
)

// readLines reads a file's lines.
func readLines(t testing.TB, rel string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(testdata.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
}

// readParams reads payload,length,attack_type,label rows.
func readParams(t testing.TB, rel string) (payloads, types []string, bad []bool) {
	t.Helper()
	f, err := os.Open(testdata.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows[1:] {
		if len(row) < 4 {
			continue
		}
		payloads = append(payloads, row[0])
		types = append(types, row[2])
		bad = append(bad, row[3] == "anom")
	}
	return
}

// TestHTTPParams trains on payload_train.csv (benign CSIC values against
// sqlmap, XSS, command-injection and traversal payloads) and reports the
// false-positive rate on payload_test_lexical.csv: benign English text
// (and SQL/JS code) that looks like an attack to a keyword matcher.
func TestHTTPParams(t *testing.T) {
	vals, _, bad := readParams(t, "http-params-dataset/payload_train.csv")
	tr := NewTrainer(KindHTTP, Split{Seed: 1, Fraction: 0.2})
	tok := NewTokens()
	for i, v := range vals {
		tok.Reset()
		tok.ParamValue("value", v)
		tr.Add("payload_train", int64(i), tok, bad[i])
	}
	rep, err := tr.Finish(DefaultCosts)
	if err != nil {
		t.Fatal(err)
	}
	m := tr.Model
	c := eval.At(rep.Scores, rep.Labels, m.Threshold)
	t.Logf("payload_train validation: AUC %.5f, threshold %.4f, TPR %.4f, FPR %.4f", rep.AUC, m.Threshold, c.TPR(), c.FPR())
	lex, types, _ := readParams(t, "http-params-dataset/payload_test_lexical.csv")
	var prose, code eval.Confusion
	for i, v := range lex {
		tok.Reset()
		tok.ParamValue("value", v)
		called := m.IsBad(m.Score(tok))
		if types[i] == "norm" {
			prose.Add(false, called)
		} else {
			code.Add(false, called)
		}
	}
	t.Logf("payload_test_lexical: benign text FPR %.4f (%d of %d); SQL/JS-syntax text flagged %.4f (%d of %d)",
		prose.FPR(), prose.FP, prose.N(), code.FPR(), code.FP, code.N())
	if c.TPR() < 0.97 || c.FPR() > 0.01 {
		t.Errorf("validation TPR %.4f FPR %.4f, want ≥ 0.97 and ≤ 0.01", c.TPR(), c.FPR())
	}
	if prose.FPR() > 0.012 {
		t.Errorf("false positives on benign look-alike text %.4f, want ≤ 0.012", prose.FPR())
	}
}

func TestHTTPParamsFPs(t *testing.T) {
	if os.Getenv("WINNOW_PARAMS_FP") == "" {
		t.Skip("set WINNOW_PARAMS_FP=1")
	}
	vals, _, bad := readParams(t, "http-params-dataset/payload_train.csv")
	tr := NewTrainer(KindHTTP, Split{Seed: 1, Fraction: 0.2})
	tok := NewTokens()
	for i, v := range vals {
		tok.Reset()
		tok.ParamValue("value", v)
		tr.Add("payload_train", int64(i), tok, bad[i])
	}
	if _, err := tr.Finish(DefaultCosts); err != nil {
		t.Fatal(err)
	}
	m := tr.Model
	lex, types, _ := readParams(t, "http-params-dataset/payload_test_lexical.csv")
	tok.Verbose = true
	for i, v := range lex {
		tok.Reset()
		tok.ParamValue("value", v)
		if s := m.Score(tok); m.IsBad(s) && types[i] == "norm" {
			var cl []string
			for _, c := range m.Explain(tok, 5, true) {
				cl = append(cl, c.Class+":"+c.Token)
			}
			t.Logf("%.3f %q %v", s, v, cl)
		}
	}
}
