package tally

import (
	"fmt"
	"reflect"
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
