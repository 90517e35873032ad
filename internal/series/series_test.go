package series

import (
	"math"
	"strconv"
	"testing"
	"time"
)

func TestRing(t *testing.T) {
	r := NewRing(Resolution{time.Minute, 5})
	t0 := time.Date(2026, 3, 30, 15, 54, 10, 0, time.UTC)
	r.Add(t0, 1)
	r.Add(t0.Add(20*time.Second), 2) // same minute
	r.Add(t0.Add(2*time.Minute), 4)  // one idle minute between
	ts, vs := r.Points(nil, nil)
	want := []float64{3, 0, 4}
	if len(vs) != 3 || vs[0] != want[0] || vs[1] != want[1] || vs[2] != want[2] {
		t.Fatalf("values %v", vs)
	}
	if !ts[0].Equal(t0.Truncate(time.Minute)) || !ts[2].Equal(t0.Truncate(time.Minute).Add(2*time.Minute)) {
		t.Fatalf("times %v", ts)
	}
	r.Add(t0.Add(10*time.Minute), 7) // ring of 5 wraps
	ts, vs = r.Points(nil, nil)
	if len(vs) != 5 || vs[4] != 7 || vs[0] != 0 || !ts[0].Equal(t0.Truncate(time.Minute).Add(6*time.Minute)) {
		t.Fatalf("after wrap: %v %v", ts, vs)
	}
	r.Add(t0, 1) // left the ring
	if r.Late != 1 {
		t.Fatalf("late %d", r.Late)
	}
	r.Add(t0.Add(8*time.Minute), 1) // still inside: out of order is fine
	if _, vs = r.Points(nil, nil); vs[2] != 1 {
		t.Fatalf("out of order: %v", vs)
	}
	r.Add(t0.Add(1000*time.Minute), 1) // a gap longer than the ring
	if _, vs = r.Points(nil, nil); len(vs) != 5 || vs[4] != 1 || vs[3] != 0 {
		t.Fatalf("long gap: %v", vs)
	}
}

func TestSeriesResolutionsAndMemory(t *testing.T) {
	res, err := ParseResolutions("1m:2880, 30m:4032")
	if err != nil || len(res) != 2 || res[1].Step != 30*time.Minute || res[0].Span() != 48*time.Hour {
		t.Fatalf("%v %v", res, err)
	}
	for _, bad := range []string{"", "1m", "x:2", "1m:0", "-1m:5"} {
		if _, err := ParseResolutions(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	s := New(res)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 100000; i++ {
		s.Add(t0.Add(time.Duration(i)*time.Second*7), 1)
	}
	if got := s.Bytes(); got > 4*(2880+4032)+256 {
		t.Fatalf("memory %d bytes", got)
	}
	_, v1, _ := s.Rings[0].Last()
	_, v30, _ := s.Rings[1].Last()
	if v1 < 1 || v1 > 9 || v30 < 1 || v30 > 258 { // the newest buckets may be partial
		t.Fatalf("last minute %v, last half hour %v", v1, v30)
	}
	// Totals agree across resolutions over the common span.
	_, a := s.Rings[0].Points(nil, nil)
	_, b := s.Rings[1].Points(nil, nil)
	sa, sb := 0.0, 0.0
	for _, v := range a {
		sa += v
	}
	for _, v := range b[len(b)-96:] { // last 48 hours
		sb += v
	}
	if math.Abs(sa-sb) > 260 { // the oldest half hour may be partial
		t.Fatalf("1m total %v vs 30m total %v", sa, sb)
	}
}

func TestDistinct(t *testing.T) {
	d := NewDistinct(1)
	for i := 0; i < 20; i++ {
		d.AddString("a" + strconv.Itoa(i%10))
	}
	if d.Count() != 10 {
		t.Fatalf("exact: %d", d.Count())
	}
	for i := 0; i < 50000; i++ {
		d.AddString("sub" + strconv.Itoa(i) + ".tunnel.example")
	}
	if c := float64(d.Count()); math.Abs(c-50010)/50010 > 0.03 {
		t.Fatalf("sketch: %v", c)
	}
	d.Reset()
	d.AddBytes([]byte("x"))
	if d.Count() != 1 {
		t.Fatalf("after reset: %d", d.Count())
	}
}

func BenchmarkRingAdd(b *testing.B) {
	r := NewRing(Resolution{time.Minute, 2880})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Add(t0.Add(time.Duration(i)*time.Second), 1)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "adds/s")
}
