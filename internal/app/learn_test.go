package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"winnow/internal/detect/bayes"
	"winnow/internal/generate"
	"winnow/internal/parse/httpraw"
	"winnow/internal/testdata"
)

// writeRaw writes requests in the CSIC format.
func writeRaw(t *testing.T, path string, reqs []*httpraw.Request) {
	t.Helper()
	var b bytes.Buffer
	for _, r := range reqs {
		fmt.Fprintf(&b, "%s %s %s\r\n", r.Method, r.Target, r.Proto)
		for _, h := range r.Headers {
			fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
		}
		b.WriteString("\r\n")
		if len(r.Body) > 0 {
			b.Write(r.Body)
			b.WriteString("\r\n")
		}
		b.WriteString("\r\n")
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readRaw(t *testing.T, rel string) []*httpraw.Request {
	t.Helper()
	f, err := os.Open(testdata.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := httpraw.NewReader(f)
	var out []*httpraw.Request
	for {
		req, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, req)
	}
}

// split puts every k-th request (from offset 0) in test, the rest in
// train: a deterministic interleaved split.
func split(reqs []*httpraw.Request, k int) (train, test []*httpraw.Request) {
	for i, r := range reqs {
		if i%k == 0 {
			test = append(test, r)
		} else {
			train = append(train, r)
		}
	}
	return
}

// TestCSICHeldOut runs the CLI path on CSIC 2010: train on 80 % of the
// normal requests and 50 % of the attacks, score the rest with 'score
// http', and check the verdicts: ≥ 98 % of attacks caught at ≤ 1 % false
// positives.
func TestCSICHeldOut(t *testing.T) {
	normal := readRaw(t, "csic2010/normalTrafficTraining.txt")
	attacks := readRaw(t, "csic2010/anomalousTrafficTraining.txt")
	nTrain, nTest := split(normal, 5)
	aTrain, aTest := split(attacks, 2)
	dir := t.TempDir()
	for name, reqs := range map[string][]*httpraw.Request{"good.txt": nTrain, "bad.txt": aTrain, "test-good.txt": nTest, "test-bad.txt": aTest} {
		writeRaw(t, filepath.Join(dir, name), reqs)
	}
	model := filepath.Join(dir, "csic.wnm")
	var out, errb bytes.Buffer
	code, err := Train(context.Background(), TrainOptions{Kind: "http", Good: []string{filepath.Join(dir, "good.txt")},
		Bad: []string{filepath.Join(dir, "bad.txt")}, CostBlockGood: 1, CostMissBad: 1, Validation: 0.2, Seed: 1,
		Out: model, Plot: filepath.Join(dir, "plots"), Stdout: &out, Stderr: &errb})
	if err != nil || code != ExitOK {
		t.Fatalf("train: code %d err %v\n%s", code, err, errb.String())
	}
	for _, want := range []string{"ROC AUC", "operating point: threshold", "called good", "strongest bad tokens"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("train report lacks %q:\n%s", want, out.String())
		}
	}
	for _, p := range []string{"roc.png", "cost.png"} {
		if fi, err := os.Stat(filepath.Join(dir, "plots", p)); err != nil || fi.Size() < 1000 {
			t.Errorf("plot %s: %v", p, err)
		}
	}
	out.Reset()
	code, err = ScoreHTTP(context.Background(), ScoreHTTPOptions{Model: model,
		Args: []string{filepath.Join(dir, "test-good.txt"), filepath.Join(dir, "test-bad.txt")}, Stdout: &out, Stderr: &errb})
	if err != nil || code != ExitOK {
		t.Fatalf("score: code %d err %v", code, err)
	}
	var tp, fp, n int
	sc := bufio.NewScanner(&out)
	for i := 0; sc.Scan(); i++ {
		var l struct {
			Index   *int64   `json:"index"`
			Score   *float64 `json:"score"`
			Verdict string   `json:"verdict"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Index == nil || l.Score == nil {
			t.Fatalf("line %d %q: %v", i, sc.Text(), err)
		}
		if *l.Index != int64(i) || *l.Score < 0 || *l.Score > 1 || (l.Verdict != "good" && l.Verdict != "bad") {
			t.Fatalf("line %d: %q", i, sc.Text())
		}
		bad := i >= len(nTest)
		if l.Verdict == "bad" {
			if bad {
				tp++
			} else {
				fp++
			}
		}
		n++
	}
	if n != len(nTest)+len(aTest) {
		t.Fatalf("%d lines for %d requests", n, len(nTest)+len(aTest))
	}
	tpr, fpr := float64(tp)/float64(len(aTest)), float64(fp)/float64(len(nTest))
	t.Logf("CSIC held out (%d normal, %d attacks): TPR %.4f, FPR %.4f", len(nTest), len(aTest), tpr, fpr)
	if tpr < 0.98 || fpr > 0.01 {
		t.Errorf("TPR %.4f FPR %.4f, want ≥ 0.98 and ≤ 0.01", tpr, fpr)
	}
}

// TestAnalyzeModelAndFeedback trains a web model (a public site's access
// log as good, a scanner's as bad), runs analyze --model over another
// scanner's log and the site's log, then marks the findings good and
// checks the model learned it.
func TestAnalyzeModelAndFeedback(t *testing.T) {
	site := testdata.File(t, "elastic-examples/apache_logs/apache_access.log")
	acunetix := testdata.File(t, "apache-scanner-logs/acunetix.txt")
	netsparker := testdata.File(t, "apache-scanner-logs/netsparker.txt")
	dir := t.TempDir()
	model := filepath.Join(dir, "web.wnm")
	var out, errb bytes.Buffer
	if code, err := Train(context.Background(), TrainOptions{Kind: "http", Good: []string{site}, Bad: []string{acunetix},
		CostBlockGood: 1, CostMissBad: 1, Validation: 0.2, Seed: 1, Out: model, Stdout: &out, Stderr: &errb}); err != nil || code != ExitOK {
		t.Fatalf("train: %d %v %s", code, err, errb.String())
	}
	r := analyze(t, []string{netsparker, site}, func(o *AnalyzeOptions) {
		o.Models = []string{model}
		o.Only = []string{"bayes."}
	})
	if r.err != nil || r.code != ExitOK {
		t.Fatalf("analyze: %d %v %s", r.code, r.err, r.stderr)
	}
	var scanner *doc
	falsePos := 0
	incs := incidents(r.docs)
	for i := range incs {
		d := &incs[i]
		if d.Rule.Name != "bayes.http" {
			t.Errorf("unexpected rule %s", d.Rule.Name)
			continue
		}
		if d.Winnow.Entity.Value == "192.168.4.164" {
			scanner = d
		} else {
			falsePos++
		}
	}
	if scanner == nil {
		t.Fatalf("the scanner was not reported: %s", r.stdout)
	}
	if n, _ := scanner.Winnow.Evidence["bad_events"].(float64); n < 6000 {
		t.Errorf("scanner: %v bad events of 7192 lines", scanner.Winnow.Evidence["bad_events"])
	}
	if toks, _ := scanner.Winnow.Evidence["top_tokens"].([]any); len(toks) == 0 || len(scanner.Winnow.Samples) == 0 {
		t.Errorf("scanner finding without tokens or samples: %+v", scanner.Winnow)
	}
	if falsePos > 20 {
		// The site's log holds a few real probes (wp-login.php,
		// /administrator/) and trackback spam, which a scanner-trained
		// model rightly flags; most of its 1,700 clients must stay quiet
		// (≤ 20, about 1 %). Measured 13 alone and 16 once in a loaded full
		// run: the count is not yet deterministic across runs.
		t.Errorf("%d other entities reported; the site's own traffic was the good training data", falsePos)
	}
	t.Logf("analyze --model: scanner %v bad events; %d other entities", scanner.Winnow.Evidence["bad_events"], falsePos)

	// Feedback: the analyst says the site's findings are false positives.
	findings := filepath.Join(dir, "f.jsonl")
	var site2 strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.Contains(line, "192.168.4.164") {
			site2.WriteString(line + "\n")
		}
	}
	if site2.Len() == 0 {
		t.Skip("no site findings to give feedback on")
	}
	if err := os.WriteFile(findings, []byte(site2.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	before, err := bayes.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code, err := Feedback(context.Background(), FeedbackOptions{Model: model, Findings: findings, Verdict: "good", Stdout: &out, Stderr: &errb})
	if err != nil || code != ExitOK {
		t.Fatalf("feedback: %d %v", code, err)
	}
	after, err := bayes.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if after.Good <= before.Good || after.Bad != before.Bad || after.Threshold != before.Threshold {
		t.Errorf("feedback: good %d → %d, bad %d → %d", before.Good, after.Good, before.Bad, after.Bad)
	}
	if !strings.Contains(out.String(), "learned") {
		t.Errorf("feedback output: %s", out.String())
	}
	// A selector by line.
	out.Reset()
	if code, err := Feedback(context.Background(), FeedbackOptions{Model: model, Bad: []string{netsparker + ":1-5"},
		Out: filepath.Join(dir, "web2.wnm"), Stdout: &out, Stderr: &errb}); err != nil || code != ExitOK {
		t.Fatalf("feedback by line: %d %v", code, err)
	}
	if !strings.Contains(out.String(), "learned 5 bad items") {
		t.Errorf("feedback by line: %s", out.String())
	}
}

// TestTrainAuthBadAfter labels a generated day "bad from noon on one
// host" and runs the model in analyze.
func TestTrainAuthBadAfter(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "auth.log")
	var buf bytes.Buffer
	if _, err := generate.Auth(&buf, generate.DefaultAuthConfig()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(log, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "auth.wnm")
	var out, errb bytes.Buffer
	code, err := Train(context.Background(), TrainOptions{Kind: "auth", Good: []string{log}, BadAfter: "2026-11-21T12:00:00Z",
		CostBlockGood: 1, CostMissBad: 1, Validation: 0.2, Out: model, Year: 2026, TZ: "UTC", Stdout: &out, Stderr: &errb})
	if err != nil || code != ExitOK {
		t.Fatalf("train: %d %v %s", code, err, errb.String())
	}
	m, err := bayes.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != bayes.KindAuth || m.Good == 0 || m.Bad == 0 {
		t.Fatalf("model %+v", m)
	}
	r := analyze(t, []string{log}, func(o *AnalyzeOptions) { o.Models = []string{model}; o.Only = []string{"bayes.auth"} })
	if r.err != nil || r.code != ExitOK || len(r.docs) == 0 {
		t.Fatalf("analyze: %d %v, %d findings", r.code, r.err, len(r.docs))
	}
	// Usage errors.
	for _, o := range []TrainOptions{
		{Kind: "smtp", Good: []string{log}, Bad: []string{log}, Out: model},
		{Kind: "auth", Good: []string{log}, Bad: []string{log}},
		{Kind: "auth", Good: []string{log}, Out: model, CostBlockGood: 1, CostMissBad: 1},
		{Kind: "auth", Good: []string{log}, BadAfter: "noon", Out: model, CostBlockGood: 1, CostMissBad: 1},
		{Kind: "auth", Good: []string{log}, Bad: []string{log}, Out: model, CostBlockGood: -1, CostMissBad: 1},
	} {
		o.Stdout, o.Stderr = io.Discard, io.Discard
		if code, err := Train(context.Background(), o); code != ExitUsage || err == nil {
			t.Errorf("%+v: code %d err %v", o, code, err)
		}
	}
	if code, err := ScoreHTTP(context.Background(), ScoreHTTPOptions{Model: model, Args: []string{log}, Stdout: io.Discard, Stderr: io.Discard}); code != ExitUsage || err == nil {
		t.Errorf("score http with an auth model: %d %v", code, err)
	}
	r = analyze(t, []string{log}, func(o *AnalyzeOptions) { o.Models = []string{model, model} })
	if r.code != ExitUsage {
		t.Errorf("two models of one kind: code %d", r.code)
	}
}

// TestLearnNSLKDD runs 'winnow learn vfdt' and 'learn hst' on NSL-KDD.
func TestLearnNSLKDD(t *testing.T) {
	train := testdata.File(t, "nsl-kdd/KDDTrain+_20Percent.txt")
	test := testdata.File(t, "nsl-kdd/KDDTest+.txt")
	dir := t.TempDir()
	for _, algo := range []string{"vfdt", "hst"} {
		var out, errb bytes.Buffer
		o := LearnOptions{Algo: algo, Data: train, Test: test, Label: "42", Ignore: []string{"43"}, Normal: "normal",
			Format: "json", Every: 5000, Plot: dir, Stdout: &out, Stderr: &errb}
		if algo == "hst" {
			o.TrainNormal = true
		}
		code, err := Learn(context.Background(), o)
		if err != nil || code != ExitOK {
			t.Fatalf("%s: %d %v %s", algo, code, err, errb.String())
		}
		var res LearnResult
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("%s: %v\n%s", algo, err, out.String())
		}
		if res.Rows != 25192 || res.Features != 41 || res.Test == nil || res.Test.Rows != 22544 || res.Test.AUC == nil {
			t.Fatalf("%s: %+v", algo, res)
		}
		switch algo {
		case "vfdt":
			t.Logf("vfdt: prequential accuracy %.4f on KDDTrain+ 20%%; KDDTest+ accuracy %.4f AUC %.4f",
				*res.Accuracy, *res.Test.Accuracy, *res.Test.AUC)
			if *res.Test.Accuracy < 0.75 || *res.Accuracy < 0.95 {
				t.Errorf("vfdt: test accuracy %.4f, prequential %.4f", *res.Test.Accuracy, *res.Accuracy)
			}
		case "hst":
			t.Logf("hst: KDDTest+ AUC %.4f", *res.Test.AUC)
			if *res.Test.AUC < 0.8 {
				t.Errorf("hst: AUC %.4f", *res.Test.AUC)
			}
		}
	}
	for _, p := range []string{"vfdt-prequential.png", "vfdt-test-roc.png", "hst-test-roc.png"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Error(err)
		}
	}
	var out bytes.Buffer
	if code, err := Learn(context.Background(), LearnOptions{Algo: "hst", Data: train, Label: "42", Ignore: []string{"43"},
		Normal: "normal", Stdout: &out, Stderr: io.Discard}); err != nil || code != ExitOK ||
		!strings.Contains(out.String(), "ROC AUC") {
		t.Errorf("hst unsupervised text: %d %v %s", code, err, out.String())
	}
	if code, _ := Learn(context.Background(), LearnOptions{Algo: "forest", Data: train}); code != ExitUsage {
		t.Errorf("unknown algorithm: code %d", code)
	}
}
