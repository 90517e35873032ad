package bayes

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"winnow/internal/eval"
	"winnow/internal/event"
	"winnow/internal/generate"
	"winnow/internal/parse"
	"winnow/internal/parse/authlog"
	"winnow/internal/testdata"
)

// readNames reads "label,name" lines.
func readNames(t testing.TB, rel string) (names []string, bad []bool) {
	t.Helper()
	f, err := os.Open(testdata.File(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		label, name, ok := strings.Cut(strings.TrimSpace(sc.Text()), ",")
		if !ok || (label != "0" && label != "1") {
			continue
		}
		names = append(names, name)
		bad = append(bad, label == "1")
	}
	return
}

// TestDNSTunnelNames trains the DNS filter on dns-tunneling/train.csv
// (dns2tcp, dnscapy and iodine names against plain names) and scores
// validate.csv.
func TestDNSTunnelNames(t *testing.T) {
	names, bad := readNames(t, "dns-tunneling/train.csv")
	tr := NewTrainer(KindDNS, Split{Seed: 1, Fraction: 0.2})
	tok := NewTokens()
	for i, n := range names {
		tok.Reset()
		tok.DNSName(n, "")
		tr.Add("train.csv", int64(i), tok, bad[i])
	}
	if _, err := tr.Finish(DefaultCosts); err != nil {
		t.Fatal(err)
	}
	m := tr.Model
	vn, vb := readNames(t, "dns-tunneling/validate.csv")
	var scores []float64
	for _, n := range vn {
		tok.Reset()
		tok.DNSName(n, "")
		scores = append(scores, m.Score(tok))
	}
	c := eval.At(scores, vb, m.Threshold)
	auc := eval.AUCOf(scores, vb)
	t.Logf("dns-tunneling validate.csv: %d names, AUC %.5f, at threshold %.4f TPR %.4f FPR %.4f", len(vn), auc, m.Threshold, c.TPR(), c.FPR())
	if auc < 0.99 || c.TPR() < 0.97 || c.FPR() > 0.02 {
		t.Errorf("AUC %.4f TPR %.4f FPR %.4f, want ≥ 0.99, ≥ 0.97, ≤ 0.02", auc, c.TPR(), c.FPR())
	}
}

// TestAuthEvents trains the auth filter on a generated day whose attacks
// are known (events from an attack's source addresses are bad) and scores
// another day generated with a different seed.
func TestAuthEvents(t *testing.T) {
	day := func(seed int64) ([]event.Event, map[string]bool) {
		var buf bytes.Buffer
		cfg := generate.DefaultAuthConfig()
		cfg.Seed = seed
		truth, err := generate.Auth(&buf, cfg)
		if err != nil {
			t.Fatal(err)
		}
		attackers := map[string]bool{}
		for _, a := range truth.Attacks {
			for _, ip := range a.SourceIPs {
				attackers[ip] = true
			}
		}
		p := authlog.New(parse.Options{Year: 2026, Location: time.UTC})
		var evs []event.Event
		for i, line := range bytes.Split(buf.Bytes(), []byte("\n")) {
			var ev event.Event
			ev.Ref = event.Ref{File: "gen", Line: int64(i + 1)}
			if p.Parse(line, &ev) != nil || ev.Kind != event.KindAuth {
				continue
			}
			evs = append(evs, ev)
		}
		return evs, attackers
	}
	train, attackers := day(1)
	tr := NewTrainer(KindAuth, Split{Seed: 1, Fraction: 0.2})
	tok := NewTokens()
	for i := range train {
		tok.Reset()
		tok.Auth(&train[i])
		tr.Add("day1", int64(i), tok, train[i].SrcIP.IsValid() && attackers[train[i].SrcIP.String()])
	}
	rep, err := tr.Finish(DefaultCosts)
	if err != nil {
		t.Fatal(err)
	}
	m := tr.Model
	test, attackers2 := day(2)
	var scores []float64
	var bad []bool
	for i := range test {
		tok.Reset()
		tok.Auth(&test[i])
		scores = append(scores, m.Score(tok))
		bad = append(bad, test[i].SrcIP.IsValid() && attackers2[test[i].SrcIP.String()])
	}
	c := eval.At(scores, bad, m.Threshold)
	auc := eval.AUCOf(scores, bad)
	t.Logf("auth: trained on %d good %d bad events (validation AUC %.4f); other day: %d events, AUC %.4f, TPR %.4f FPR %.4f",
		rep.TrainGood, rep.TrainBad, rep.AUC, len(test), auc, c.TPR(), c.FPR())
	if auc < 0.9 {
		t.Errorf("auth AUC on another day %.4f, want ≥ 0.9", auc)
	}
}
