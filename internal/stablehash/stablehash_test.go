package stablehash

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// TestStable pins values: they must never change (snapshots and
// partitions depend on them).
func TestStable(t *testing.T) {
	f := func(seed uint64, s string, want uint64) {
		t.Helper()
		if got := Sum64(seed, s); got != want {
			t.Errorf("Sum64(%d, %q) = %#x, want %#x", seed, s, got, want)
		}
		if got := Sum64(seed, []byte(s)); got != want {
			t.Errorf("Sum64(%d, []byte(%q)) differs from the string's", seed, s)
		}
	}
	f(0, "", 0xf490368aba8bfeac)
	f(0, "a", 0xbab90de67758b01c)
	f(0, "203.0.113.9", 0x588d0cde50b6d08a)
	f(7, "www.example.com", 0x271f0f654bf56fac)
}

func TestSpread(t *testing.T) {
	var buckets [16]int
	for i := 0; i < 16000; i++ {
		buckets[Sum64(1, fmt.Sprintf("10.0.%d.%d", i/256, i%256))%16]++
	}
	for i, n := range buckets {
		if n < 800 || n > 1200 {
			t.Errorf("bucket %d holds %d of 16000 keys", i, n)
		}
	}
}

func BenchmarkSum64(b *testing.B) {
	k := []byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xcb\x00\x71\x09")
	b.SetBytes(int64(len(k)))
	b.ReportAllocs()
	for b.Loop() {
		Sum64(42, k)
	}
}

func BenchmarkMaphash(b *testing.B) {
	k := []byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xcb\x00\x71\x09")
	seed := maphash.MakeSeed()
	b.SetBytes(int64(len(k)))
	b.ReportAllocs()
	for b.Loop() {
		maphash.Bytes(seed, k)
	}
}
