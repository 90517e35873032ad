package source

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestIsBinaryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c < 0x20 && !strings.ContainsRune("\t\n\v\f\r\x1b", rune(c))
		if got := isBinaryByte(byte(c)); got != want {
			t.Errorf("isBinaryByte(%#x) = %v", c, got)
		}
	}
}

// TestBinaryMaskExhaustive checks the SWAR mask against isBinaryByte for
// every byte value in every lane, next to neighbours that could leak a
// borrow or carry into it.
func TestBinaryMaskExhaustive(t *testing.T) {
	neighbours := []byte{0x00, 0x01, 0x09, 0x1b, 0x20, 0x7f, 0x80, 0xff}
	var w [8]byte
	for c := 0; c < 256; c++ {
		for lane := 0; lane < 8; lane++ {
			for _, nb := range neighbours {
				for i := range w {
					w[i] = nb
				}
				w[lane] = byte(c)
				m := binaryMask(binary.LittleEndian.Uint64(w[:]))
				for i := range w {
					got := m>>(8*i)&0xff == 0x80
					if m>>(8*i)&0x7f != 0 {
						t.Fatalf("mask %#x has low bits set", m)
					}
					if got != isBinaryByte(w[i]) {
						t.Fatalf("word % x: lane %d flagged %v", w, i, got)
					}
				}
			}
		}
	}
}

func TestBinaryFrom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 2000; n++ {
		b := make([]byte, rng.IntN(100))
		for i := range b {
			b[i] = byte(' ' + rng.IntN(90))
			if rng.IntN(40) == 0 {
				b[i] = byte(rng.IntN(256))
			}
		}
		pos := 0
		if len(b) > 0 {
			pos = rng.IntN(len(b) + 1)
		}
		want := len(b)
		for i := pos; i < len(b); i++ {
			if isBinaryByte(b[i]) {
				want = i
				break
			}
		}
		if got := binaryFrom(b, pos); got != want {
			t.Fatalf("binaryFrom(% x, %d) = %d, want %d", b, pos, got, want)
		}
	}
}

func TestLooksBinary(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 8192)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	noNUL := bytes.ReplaceAll(random, []byte{0}, []byte{1})
	var gzbuf bytes.Buffer
	zw := gzip.NewWriter(&gzbuf)
	zw.Write([]byte(strings.Repeat("Dec  1 10:00:00 host sshd[1]: Failed password for root\n", 200)))
	zw.Close()
	utf8Text := strings.Repeat("Jan  5 héllo wörld — ünïcödé 日本語 ✓\n", 200)
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"empty", nil, false},
		{"ascii log", []byte("Dec  1 10:00:00 host sshd[1]: Accepted password for bob\n"), false},
		{"utf8", []byte(utf8Text), false},
		{"utf8 cut mid-character", []byte(utf8Text)[:len("Jan  5 h")+1], false},
		{"ansi colours and tabs", []byte("\x1b[31mERROR\x1b[0m\tfield\tfield\r\n"), false},
		{"latin1 accents", []byte("caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve r\xe9sum\xe9 of the d\xe9j\xe0 vu\n"), false},
		{"one NUL", []byte("text text\x00 text"), true},
		{"utf16", []byte("h\x00e\x00l\x00l\x00o\x00"), true},
		{"random", random, true},
		{"random without NUL", noNUL, true},
		{"gzip bytes", gzbuf.Bytes(), true},
		{"control bytes", bytes.Repeat([]byte("ab\x01\x02\x03\x04"), 100), true},
		{"a few control bytes", []byte(strings.Repeat("normal text line ", 50) + "\x07\x08"), false},
	}
	for _, tc := range tests {
		if got := LooksBinary(tc.in); got != tc.want {
			t.Errorf("%s: LooksBinary = %v, want %v", tc.name, got, tc.want)
		}
	}
}
