package dns

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestModelRoundTrip(t *testing.T) {
	m := DefaultModel()
	if len(m.Comment) == 0 || m.Weight("bpc") <= 0 || m.DGAThreshold() <= 0.5 {
		t.Fatalf("embedded model: comments %v, weights %v", m.Comment, m.Weights())
	}
	var b bytes.Buffer
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	m2, err := ReadModel(&b)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"google", "xjkqwpzvbnmtr", "a", ""} {
		if a, b := m.DGAScore(l), m2.DGAScore(l); a != b {
			t.Errorf("%q: %v after a round trip, %v before", l, b, a)
		}
	}
	for _, bad := range []string{"", "not a model\n", "winnow-dga-model 2\naaa 1\n", "winnow-dga-model 1\nab 1\n", "winnow-dga-model 1\nweights x\naaa 1\n"} {
		if _, err := ReadModel(strings.NewReader(bad)); err == nil {
			t.Errorf("%q read without error", bad)
		}
	}
}

// TestDGAGeneralises checks kinds of generator the training data has
// little of (random hex, random alphanumerics, random letters) and
// ordinary names.
func TestDGAGeneralises(t *testing.T) {
	m := DefaultModel()
	thr := m.DGAThreshold()
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(alpha string, lo, hi int) string {
		n := lo + rng.IntN(hi-lo+1)
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[rng.IntN(len(alpha))]
		}
		return string(b)
	}
	for _, c := range []struct {
		name  string
		alpha string
		lo    int
		hi    int
		min   float64
	}{
		{"hex", "0123456789abcdef", 12, 32, 0.95},
		{"alphanumeric", "abcdefghijklmnopqrstuvwxyz0123456789", 10, 25, 0.95},
		{"letters", "abcdefghijklmnopqrstuvwxyz", 10, 20, 0.85},
	} {
		hit := 0
		for i := 0; i < 1000; i++ {
			if m.DGAScore(gen(c.alpha, c.lo, c.hi)) >= thr {
				hit++
			}
		}
		if r := float64(hit) / 1000; r < c.min {
			t.Errorf("%s: recall %.3f, want ≥ %.2f", c.name, r, c.min)
		}
	}
	for _, n := range []string{"google", "facebook", "wikipedia", "github", "stackoverflow", "microsoft", "debian", "kernel",
		"cloudflare", "amazonaws", "akamaiedge", "googleusercontent", "bbc", "nytimes", "office365", "mozilla", "ubuntu"} {
		if s := m.DGAScore(n); s >= thr {
			t.Errorf("%s: DGA score %.3f", n, s)
		}
	}
}

func TestTunnelScoreTerms(t *testing.T) {
	m := DefaultModel()
	for _, c := range []struct {
		name  string
		qtype string
		hi    bool
	}{
		{"www.example.com", "A", false},
		{"mail.google.com", "A", false},
		{"r3---sn-5hne6nzk.googlevideo.com", "A", false},
		{"e6858.dsce9.akamaiedge.net", "A", false},
		{"selector1._domainkey.example.org", "TXT", false},
		{"_ldap._tcp.dc._msdcs.corp.example.com", "SRV", false},
		{"compile-command-annotations.nicoulaj.net", "A", false},
		{"mzxw6ytboi2dcnbtgqztcmjwgi3tsmzsha3dgnjvge2dmnzxgu4tsmbw.evil.com", "TXT", true},
		{"6b7ac3d9e0f14a2b8c5d6e7f8091a2b3c4d5e6f70819.2a3b4c5d6e7f8091.exfil.net", "A", true},
		{"aGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Q/+abcdEFGH.t.example.org", "NULL", true},
	} {
		f := Analyze(m, c.name)
		te := TunnelScore(&f, c.qtype, true)
		if (te.Score >= TunnelThreshold) != c.hi {
			t.Errorf("%s: score %.3f terms %v (bits %.0f over %d bytes)", c.name, te.Score, te.Terms, f.SubBits, f.SubLen)
		}
	}
}

func TestFeatures(t *testing.T) {
	m := DefaultModel()
	f := Analyze(m, `AbC\.d\255.Www.example.co.uk`)
	if f.Registered != "example.co.uk" || f.Label != "example" || f.Labels != 2 || f.Special != 2 || !f.Mixed {
		t.Errorf("%+v", f)
	}
	// 0x20 randomisation (the registered part mixes case too) is not "mixed".
	if f := Analyze(m, "wWw.ExAmPlE.cOm"); f.Mixed {
		t.Errorf("0x20: %+v", f)
	}
	if f := Analyze(m, "a..b.hidemyself.org"); f.Registered != "hidemyself.org" {
		t.Errorf("empty label: %+v", f)
	}
	for _, c := range []struct{ l, want string }{
		{"0123456789abcdef0123", "hex"}, {"mzxw6ytboi2dcnbtgq", "base32"}, {"aGVsbG8gd29ybGQgdGhp", "base64"}, {"thisisjustalongword", ""},
	} {
		if s := shape(c.l); s != c.want {
			t.Errorf("shape(%q) = %q, want %q", c.l, s, c.want)
		}
	}
	if !Scoreable("example.com") || Scoreable("foo.lan") || Scoreable("1.168.192.in-addr.arpa") || Scoreable("localhost") || !Scoreable("abc.ddns.net") {
		t.Error("Scoreable")
	}
}
