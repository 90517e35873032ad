package weblog

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
)

func generate(t testing.TB, cfg Config) ([]byte, Truth) {
	t.Helper()
	var b bytes.Buffer
	tr, err := Generate(&b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), tr
}

// TestDayParsesInOrder: every line parses as an access log, times never go
// backwards, the truth's line counts add up, and every attack and benign
// source appears with its addresses.
func TestDayParsesInOrder(t *testing.T) {
	out, tr := generate(t, DefaultConfig())
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(lines) != tr.Lines || tr.Lines < 150000 || tr.Lines > 260000 {
		t.Fatalf("%d lines, truth says %d (natural day expected ≈ 200k)", len(lines), tr.Lines)
	}
	if s := access.Sniff(lines[:32]); s != 1 {
		t.Errorf("sniff %.2f", s)
	}
	p := access.New(parse.Options{Location: time.UTC})
	var prev time.Time
	seen := map[string]int{}
	invalid := 0
	for i, l := range lines {
		var ev event.Event
		if err := p.Parse(l, &ev); err != nil {
			t.Fatalf("line %d: %v: %q", i+1, err, l)
		}
		if ev.Time.Before(prev) {
			t.Fatalf("line %d goes back in time: %v < %v", i+1, ev.Time, prev)
		}
		prev = ev.Time
		seen[ev.SrcIP.String()]++
		if ev.HTTP.Invalid {
			invalid++
		}
	}
	if invalid == 0 {
		t.Error("no TLS junk among the noise")
	}
	sum := 0
	for _, a := range tr.Attacks {
		sum += a.Lines
		for _, ip := range a.SourceIPs {
			if seen[ip] == 0 {
				t.Errorf("attack %s: no line from %s", a.Name, ip)
			}
		}
		if len(a.Rules) == 0 || a.Lines == 0 || a.Start.IsZero() {
			t.Errorf("attack %+v incomplete", a)
		}
	}
	for _, b := range tr.Benign {
		sum += b.Lines
		if b.Name == "visitors" {
			continue
		}
		for _, ip := range b.SourceIPs {
			if seen[ip] == 0 {
				t.Errorf("benign %s: no line from %s", b.Name, ip)
			}
		}
	}
	if sum > tr.Lines || sum < tr.Lines*95/100 {
		t.Errorf("truth accounts for %d of %d lines (noise is the rest)", sum, tr.Lines)
	}
	if len(tr.Attacks) != 7 {
		t.Errorf("%d attacks", len(tr.Attacks))
	}
}

// TestDeterministic: the same seed gives the same bytes; another seed
// another log.
func TestDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Duration = 3 * time.Hour
	a, _ := generate(t, cfg)
	b, _ := generate(t, cfg)
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Error("same seed, different output")
	}
	cfg.Seed = 2
	c, _ := generate(t, cfg)
	if bytes.Equal(a, c) {
		t.Error("different seed, same output")
	}
}

// TestLinesScale: --lines scales the background to the target.
func TestLinesScale(t *testing.T) {
	for _, n := range []int{100000, 400000} {
		_, tr := generate(t, Config{Seed: 3, Lines: n})
		if d := float64(tr.Lines-n) / float64(n); d < -0.15 || d > 0.15 {
			t.Errorf("--lines %d gave %d", n, tr.Lines)
		}
	}
}

func TestOptions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Duration = 2 * time.Hour
	cfg.ScannerIP = "198.51.100.77"
	cfg.Site = "shop.example.com"
	out, tr := generate(t, cfg)
	if !bytes.HasPrefix(out, []byte("shop.example.com:443 ")) {
		t.Errorf("vhost_combined expected: %.80q", out)
	}
	if tr.Attacks[0].SourceIPs[0] != "198.51.100.77" {
		t.Errorf("scanner IP %v", tr.Attacks[0].SourceIPs)
	}
	cfg.ScannerIP = "not an address"
	if _, err := Generate(io.Discard, cfg); err == nil {
		t.Error("bad scanner address accepted")
	}
	if _, err := Generate(io.Discard, Config{Duration: time.Minute}); err == nil {
		t.Error("a one-minute day accepted")
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n += len(p); w.n > 1<<20 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteErrorSurfaces(t *testing.T) {
	if _, err := Generate(&failWriter{}, DefaultConfig()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %v", err)
	}
}

// BenchmarkGenerate measures lines per second of generation.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	lines := 0
	for i := 0; i < b.N; i++ {
		tr, err := Generate(io.Discard, Config{Seed: 1, Lines: 200000})
		if err != nil {
			b.Fatal(err)
		}
		lines += tr.Lines
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}
