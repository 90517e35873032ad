package bayes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"winnow/internal/eval"
)

func TestChi2Q(t *testing.T) {
	for _, c := range []struct {
		x2   float64
		v    int
		want float64
	}{
		{0, 2, 1}, {2, 2, math.Exp(-1)}, {10, 10, 0.44049328506}, {3.94, 10, 0.95},
		{1400, 1400, 0.49497}, // log-space branch: P(χ²₁₄₀₀ ≥ 1400) ≈ ½
		{3000, 1400, 0},
	} {
		if got := chi2Q(c.x2, c.v); math.Abs(got-c.want) > 2e-3 {
			t.Errorf("chi2Q(%v, %d) = %v, want %v", c.x2, c.v, got, c.want)
		}
	}
	// Continuity across the branch.
	if a, b := chi2Q(1399.9, 1500), chi2Q(1400.1, 1500); math.Abs(a-b) > 1e-3 {
		t.Errorf("branch discontinuity %v vs %v", a, b)
	}
}

// toy trains a model on synthetic requests: good ones browse a shop, bad
// ones carry SQL injection in a parameter or ask for backup files.
func toy(t testing.TB) *Model {
	t.Helper()
	tr := NewTrainer(KindHTTP, Split{Seed: 1, Fraction: 0.25})
	tok := NewTokens()
	goods := []HTTPRequest{
		{Method: "GET", Path: "/shop/item.jsp", Query: "id=1&name=Red+Wine"},
		{Method: "GET", Path: "/shop/item.jsp", Query: "id=22&name=Blue+Cheese"},
		{Method: "POST", Path: "/shop/cart.jsp", Body: []byte("id=3&qty=2"), ContentType: "application/x-www-form-urlencoded"},
		{Method: "GET", Path: "/shop/index.jsp"},
		{Method: "GET", Path: "/img/logo.gif"},
	}
	bads := []HTTPRequest{
		{Method: "GET", Path: "/shop/item.jsp", Query: "id=1%27+or+%271%27%3D%271&name=Red+Wine"},
		{Method: "GET", Path: "/shop/item.jsp", Query: "id=22&name=%3Cscript%3Ealert(1)%3C/script%3E"},
		{Method: "POST", Path: "/shop/cart.jsp", Body: []byte("id=3;DROP+TABLE+users&qty=2")},
		{Method: "GET", Path: "/shop/index.jsp.bak"},
		{Method: "GET", Path: "/shop/../../etc/passwd"},
	}
	for i := 0; i < 400; i++ {
		for j, set := range [][]HTTPRequest{goods, bads} {
			r := set[i%len(set)]
			tok.Reset()
			tok.HTTP(&r)
			tr.Add("toy", int64(2*i+j), tok, j == 1)
		}
	}
	if _, err := tr.Finish(eval.Costs{BlockGood: 1, MissBad: 1}); err != nil {
		t.Fatal(err)
	}
	return tr.Model
}

func TestToyScores(t *testing.T) {
	m := toy(t)
	tok := NewTokens()
	tok.Verbose = true
	for _, c := range []struct {
		r   HTTPRequest
		bad bool
	}{
		{HTTPRequest{Method: "GET", Path: "/shop/item.jsp", Query: "id=7&name=Green+Tea"}, false},
		{HTTPRequest{Method: "GET", Path: "/shop/item.jsp", Query: "id=7%27+or+1%3D1--&name=Green+Tea"}, true},
		{HTTPRequest{Method: "GET", Path: "/shop/cart.jsp.old"}, true},
	} {
		tok.Reset()
		tok.HTTP(&c.r)
		s := m.Score(tok)
		if m.IsBad(s) != c.bad {
			t.Errorf("%+v: score %.4f threshold %.4f, want bad=%v; clues %+v", c.r, s, m.Threshold, c.bad, m.Explain(tok, 5, c.bad))
		}
		if cl := m.Explain(tok, 3, true); c.bad && (len(cl) == 0 || cl[0].Token == "") {
			t.Errorf("%+v: no explanation", c.r)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	m := toy(t)
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := m.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Fatal("encoding is not deterministic")
	}
	var n Model
	if err := n.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if n.Kind != m.Kind || n.Good != m.Good || n.Bad != m.Bad || n.Threshold != m.Threshold || n.Params != m.Params ||
		n.Costs != m.Costs || n.Validation != m.Validation || len(n.tokens) != len(m.tokens) {
		t.Fatalf("round trip differs: %+v vs %+v", n, m)
	}
	for h, c := range m.tokens {
		if n.tokens[h] != c {
			t.Fatalf("token %x: %+v vs %+v", h, n.tokens[h], c)
		}
	}
	tok := NewTokens()
	r := HTTPRequest{Method: "GET", Path: "/shop/item.jsp", Query: "id=1%27--"}
	tok.HTTP(&r)
	if a, b := m.Score(tok), n.Score(tok); a != b {
		t.Errorf("scores differ after round trip: %v vs %v", a, b)
	}
	// Every truncation and every single-byte corruption is an error.
	for i := 0; i < len(b); i++ {
		if err := n.UnmarshalBinary(b[:i]); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated at %d: %v", i, err)
		}
	}
	for i := 0; i < len(b); i += 7 {
		c := bytes.Clone(b)
		c[i] ^= 0x40
		if err := n.UnmarshalBinary(c); !errors.Is(err, ErrFormat) {
			t.Fatalf("corrupted at %d: %v", i, err)
		}
	}
	// Save and Load through a file; incremental training continues.
	p := filepath.Join(t.TempDir(), "m.wnm")
	if err := m.Save(p); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	before := l.Score(tok)
	for i := 0; i < 50; i++ {
		l.Learn(tok, false)
	}
	if after := l.Score(tok); !(after < before) {
		t.Errorf("learning the item as good did not lower its score: %v → %v", before, after)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file loaded")
	}
	if err := os.WriteFile(p, []byte("WNMB junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); !errors.Is(err, ErrFormat) {
		t.Errorf("junk: %v", err)
	}
}

// TestLoadChecksMagicFirst (issue 10 item 24): a file that is not a model
// is refused on its first bytes, before the rest is read. A FIFO whose
// writer never closes shows it: reading on would block forever.
func TestLoadChecksMagicFirst(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("no FIFO: %v", err)
	}
	w := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			w <- nil
			return
		}
		f.Write([]byte("\x00\x00\x00\x00 and more to come"))
		w <- f // left open: no EOF
	}()
	done := make(chan error, 1)
	go func() {
		_, err := Load(p)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrFormat) {
			t.Errorf("err = %v, want ErrFormat", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Load read on past a bad magic")
	}
	if f := <-w; f != nil {
		f.Close()
	}
}

// FuzzDecode: the decoder never panics, and what it accepts re-encodes to
// the same bytes (the format has one encoding per model). Each input is
// decoded as is and with its checksum recomputed, so that mutations reach
// the field checks behind the CRC.
func FuzzDecode(f *testing.F) {
	b, err := toy(f).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:headerSize+4])
	empty, _ := New(KindDNS).MarshalBinary()
	f.Add(empty)
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeCheck(t, data)
		if len(data) >= 4 {
			fixed := bytes.Clone(data)
			binary.LittleEndian.PutUint32(fixed[len(fixed)-4:], crc32.Checksum(fixed[:len(fixed)-4], crcTable))
			decodeCheck(t, fixed)
		}
	})
}

func decodeCheck(t *testing.T, data []byte) {
	t.Helper()
	var m Model
	if err := m.UnmarshalBinary(data); err != nil {
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
		return
	}
	out, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("accepted input does not re-encode identically")
	}
	tok := NewTokens()
	r := HTTPRequest{Method: "GET", Path: "/x", Query: "a=1"}
	tok.HTTP(&r)
	if s := m.Score(tok); !(s >= 0 && s <= 1) {
		t.Fatalf("score %v", s)
	}
}
