package tally

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"testing"
)

func TestCounted(t *testing.T) {
	var c Counted[string]
	for i, k := range []string{"a", "b", "a", "c", "d", "e", "a", "f"} {
		isNew := c.Add(k, int32(i+1), 5)
		if want := k != "a" || i == 0; isNew != want {
			t.Errorf("Add(%s) new = %v, want %v", k, isNew, want)
		}
	}
	// a: 1+3+7, b 2, c 4, d 5, e 6 (the map's first key), f beyond the cap of 5
	if c.Get("a") != 11 || c.Get("e") != 6 || c.Get("f") != 0 || c.Distinct() != 6 {
		t.Errorf("a=%d e=%d f=%d distinct=%d", c.Get("a"), c.Get("e"), c.Get("f"), c.Distinct())
	}
	c.Reset("a")
	c.Reset("e")
	if c.Get("a") != 0 || c.Get("e") != 0 || c.Distinct() != 6 {
		t.Error("Reset")
	}
	got := Top(&c, 3, func(s string) string { return s })
	want := []KV{{"d", 5}, {"c", 4}, {"b", 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Top = %v, want %v", got, want)
	}
	if n := Names(got); fmt.Sprint(n) != "[d c b]" {
		t.Errorf("Names = %v", n)
	}
}

func BenchmarkAddFew(b *testing.B) {
	var c Counted[string]
	keys := []string{"root", "admin", "root", "test"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Add(keys[i%len(keys)], 1, 4096)
	}
}

// TestTopMatchesSort checks the bounded selection against sorting every key.
func TestTopMatchesSort(t *testing.T) {
	for seed := 0; seed < 200; seed++ {
		var c Counted[int]
		nkeys := seed % 40
		for i := 0; i < nkeys*3; i++ {
			k := (i*7919 + seed*31) % (nkeys + 1)
			c.Add(k, int32(1+(i*seed)%3), 1000)
		}
		str := func(k int) string { return fmt.Sprintf("k%03d", k) }
		var all []KV
		c.Each(func(k int, v int32) { all = append(all, KV{str(k), v}) })
		sort.Slice(all, func(i, j int) bool {
			if all[i].Count != all[j].Count {
				return all[i].Count > all[j].Count
			}
			return all[i].Key < all[j].Key
		})
		for _, n := range []int{0, 1, 3, 5, 50} {
			want := all
			if len(want) > n {
				want = want[:n]
			}
			if len(want) == 0 {
				want = []KV{}
			}
			got := Top(&c, n, str)
			if len(got) == 0 {
				got = []KV{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d n %d: Top = %v, want %v", seed, n, got, want)
			}
			// Keys rendered with leading zeros sort like the ints.
			gotF := TopFunc(&c, n, func(a, b int) int { return a - b }, str)
			if len(gotF) == 0 {
				gotF = []KV{}
			}
			if !reflect.DeepEqual(gotF, want) {
				t.Fatalf("seed %d n %d: TopFunc = %v, want %v", seed, n, gotF, want)
			}
		}
	}
}

func BenchmarkTopAddresses(b *testing.B) {
	var c Counted[[16]byte]
	for i := 0; i < 256; i++ {
		c.Add([16]byte{10: 0xff, 11: 0xff, 12: 10, 13: byte(i >> 8), 14: byte(i), 15: 1}, 1, 256)
	}
	str := func(k [16]byte) string { return fmt.Sprint(k[12:]) }
	b.ReportAllocs()
	b.Run("Top", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			Top(&c, 5, str)
		}
	})
	b.Run("TopFunc", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			TopFunc(&c, 5, func(x, y [16]byte) int { return bytes.Compare(x[:], y[:]) }, str)
		}
	})
}
