package rules

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"winnow/internal/modelfile"
)

// brute counts every itemset of up to maxLen items by enumeration.
func brute(txs [][]int32, minCount, maxLen int) map[string]int {
	out := map[string]int{}
	for _, tx := range txs {
		var rec func(start int, cur []int32)
		rec = func(start int, cur []int32) {
			if len(cur) > 0 {
				out[key(cur)]++
			}
			if len(cur) == maxLen {
				return
			}
			for i := start; i < len(tx); i++ {
				rec(i+1, append(slices.Clone(cur), tx[i]))
			}
		}
		rec(0, nil)
	}
	for k, c := range out {
		if c < minCount {
			delete(out, k)
		}
	}
	return out
}

func TestFrequentMatchesEnumeration(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for trial := range 20 {
		var txs [][]int32
		for range 60 + r.IntN(60) {
			var tx []int32
			for it := range int32(12) {
				// Skewed item frequencies and a planted pattern {1,2,3}.
				if r.Float64() < 0.6/float64(it+1) || (it <= 3 && it >= 1 && r.Float64() < 0.3) {
					tx = append(tx, it)
				}
			}
			txs = append(txs, sorted(slices.Compact(tx)))
		}
		o := Options{MinSupport: 0.05, MinCount: 3, MaxLen: 4}
		sets, minCount, err := Frequent(txs, o)
		if err != nil {
			t.Fatal(err)
		}
		want := brute(txs, minCount, 4)
		got := map[string]int{}
		for _, s := range sets {
			got[key(s.Items)] = s.Count
		}
		if len(got) != len(want) {
			t.Fatalf("trial %d: %d itemsets, enumeration finds %d", trial, len(got), len(want))
		}
		for k, c := range want {
			if got[k] != c {
				t.Fatalf("trial %d: itemset %s count %d, want %d", trial, k, got[k], c)
			}
		}
	}
}

func TestRules(t *testing.T) {
	// 100 transactions: 30 hold a wordlist {a,b,c,d}, the rest random
	// items; a → b etc. must come out with confidence 1 and lift ≈ 3.3.
	d := NewDict()
	r := rand.New(rand.NewPCG(4, 4))
	b := NewBuilder(time.Hour, 0)
	b.Dict = d
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 100 {
		src := fmt.Sprintf("10.0.0.%d", i)
		if i < 30 {
			b.Add(src, t0, "user=a", "user=b", "user=c", "user=d")
		}
		for range 3 {
			b.Add(src, t0, fmt.Sprintf("user=x%d", r.IntN(40)))
		}
	}
	txs := b.Transactions()
	sets, _, err := Frequent(txs, Options{MinSupport: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	rs := Rules(sets, len(txs), Options{MinConfidence: 0.9, MinLift: 2})
	if len(rs) == 0 {
		t.Fatal("no rules")
	}
	for _, r := range rs {
		if r.Confidence < 0.9 || r.Lift < 3 {
			t.Errorf("rule %s", r.Text(d))
		}
		for _, it := range append(slices.Clone(r.If), r.Then...) {
			if n := d.Name(it); n != "user=a" && n != "user=b" && n != "user=c" && n != "user=d" {
				t.Errorf("rule outside the wordlist: %s", r.Text(d))
			}
		}
		if len(r.If) != 1 {
			t.Errorf("redundant rule kept: %s", r.Text(d))
		}
	}
	if div := Diverse(rs, 2); len(div) > 8 || len(div) < 4 {
		t.Errorf("%d diverse rules from %d", len(div), len(rs))
	}
}

func TestTooMany(t *testing.T) {
	var txs [][]int32
	for range 50 {
		txs = append(txs, []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	}
	if _, _, err := Frequent(txs, Options{MaxItemsets: 100, MaxLen: 12}); !errors.Is(err, ErrTooMany) {
		t.Errorf("err %v", err)
	}
}

func TestModel(t *testing.T) {
	m := &Model{Kind: KindAuth, Window: 24 * time.Hour, Transactions: 123, Rules: []NamedRule{
		{If: []string{"user=a", "user=b"}, Then: []string{"user=c"}, Count: 30, Support: 0.3, Confidence: 1, Lift: 3.3}}}
	b := m.Encode()
	got, err := Decode(b)
	if err != nil || !bytes.Equal(got.Encode(), b) || got.Schema() != "transactions-v1/auth/24h0m0s" {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	for n := range len(b) {
		if _, err := Decode(b[:n]); !errors.Is(err, modelfile.ErrFormat) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	m := &Model{Kind: KindHTTP, Window: time.Hour, Transactions: 9, Rules: []NamedRule{
		{If: []string{"path=/x"}, Then: []string{"ua=y"}, Count: 3, Support: 0.3, Confidence: 0.9, Lift: 2}}}
	f.Add(m.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(b)
		if err != nil {
			if !errors.Is(err, modelfile.ErrFormat) {
				t.Fatalf("%v", err)
			}
			return
		}
		if !bytes.Equal(got.Encode(), b) {
			t.Fatal("round trip differs")
		}
	})
}

func BenchmarkFrequent(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	var txs [][]int32
	for range 5000 {
		var tx []int32
		for range 15 {
			tx = append(tx, int32(r.ExpFloat64()*30))
		}
		txs = append(txs, sorted(slices.Compact(sorted(tx))))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Frequent(txs, Options{MinSupport: 0.01}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(txs)*b.N)/b.Elapsed().Seconds(), "transactions/s")
}
