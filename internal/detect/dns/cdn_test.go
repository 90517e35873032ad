package dns

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// cdnNames generates host names of the kinds big benign services use, with
// random parts: the per-query tunnel score must stay below the threshold
// for nearly all of them and the domains must not be judged tunnels.
func cdnNames(rng *rand.Rand, n int) []string {
	alnum := "abcdefghijklmnopqrstuvwxyz0123456789"
	hex := "0123456789abcdef"
	r := func(alpha string, k int) string {
		b := make([]byte, k)
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return string(b)
	}
	forms := []func() string{
		func() string { return fmt.Sprintf("r%d---sn-%s.googlevideo.com", 1+rng.IntN(9), r(alnum, 8)) },
		func() string {
			return fmt.Sprintf("rr%d.sn-%s-%s.googlevideo.com", 1+rng.IntN(9), r(alnum, 6), r(alnum, 4))
		},
		func() string { return fmt.Sprintf("e%d.dscb.akamaiedge.net", 1000+rng.IntN(9000)) },
		func() string { return fmt.Sprintf("a%d.dscd.akamai.net", rng.IntN(100000)) },
		func() string { return fmt.Sprintf("d%s.cloudfront.net", r(alnum, 13)) },
		func() string { return fmt.Sprintf("%s.s3.amazonaws.com", r("abcdefghijklmnopqrstuvwxyz-", 12)) },
		func() string { return fmt.Sprintf("%s.blob.core.windows.net", r(alnum, 12)) },
		func() string { return fmt.Sprintf("%s-%s.edge.example-cdn.net", r(hex, 8), r(hex, 4)) },
		func() string { return fmt.Sprintf("ssl-%s.cdn.example.org", r(alnum, 10)) },
		func() string { return fmt.Sprintf("%s.safeframe.googlesyndication.com", r(hex, 32)) },
	}
	out := make([]string, n)
	for i := range out {
		out[i] = forms[i%len(forms)]()
	}
	return out
}

func TestBenignCDNNames(t *testing.T) {
	m := DefaultModel()
	names := cdnNames(rand.New(rand.NewPCG(3, 4)), 5000)
	perQuery := map[int]int{}
	for i, n := range names {
		f := Analyze(m, n)
		if TunnelScore(&f, "A", false).Score >= TunnelThreshold {
			perQuery[i%10]++
		}
	}
	tunnels := 0
	for _, s := range ScoreNames(m, names) {
		if s.Verdict == "tunnel" {
			tunnels++
		}
	}
	if tunnels > 5 {
		t.Errorf("%d of %d names judged tunnels with their domains", tunnels, len(names))
	}
	t.Logf("per-query tunnel verdicts by form (of 500 each): %v; tunnel verdicts with domain context: %d", perQuery, tunnels)
	for form, n := range perQuery {
		if n > 2 {
			t.Errorf("form %d (%s): %d of 500 scored as tunnels per query", form, names[form], n)
		}
	}
}
