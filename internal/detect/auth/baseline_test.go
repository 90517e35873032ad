package auth

import (
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/state/codec"
)

func newBaseline(t *testing.T, floor int) *baseline {
	t.Helper()
	s := bruteForceSpec()
	p, err := detect.NewParams(&s, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := readBaseline(p, floor)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBaselineBar: a quiet server (Internet background of 1–5 tries per
// address) keeps the bar at the floor; a server that bots hammer with
// 30–50 tries raises it above them; until enough episodes are seen the bar
// is twice the floor.
func TestBaselineBar(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	quiet := newBaseline(t, 10)
	quiet.refresh()
	if quiet.bar != 20 || quiet.learned() {
		t.Errorf("cold bar %v learned %v", quiet.bar, quiet.learned())
	}
	for i := 0; i < 500; i++ {
		quiet.add(int64(1+i%5), t0+int64(i)*int64(time.Minute))
	}
	quiet.refresh()
	if quiet.bar != 10 || !quiet.learned() {
		t.Errorf("quiet server: bar %v, want the floor 10", quiet.bar)
	}
	noisy := newBaseline(t, 10)
	for i := 0; i < 500; i++ {
		v := int64(1 + i%5)
		if i%4 == 0 {
			v = 28 + int64(i%23) // a botnet's 28–50 tries
		}
		noisy.add(v, t0+int64(i)*int64(time.Minute))
	}
	noisy.refresh()
	if noisy.bar < 56 || noisy.bar > 200 {
		t.Errorf("noisy server: bar %v, want above its bots' 50 tries", noisy.bar)
	}
	// snapshot round trip keeps the bar; two former shards merge
	var e codec.Enc
	noisy.MarshalState(&e)
	back := newBaseline(t, 10)
	if err := back.UnmarshalState(codec.NewDec(e.Bytes())); err != nil || back.bar != noisy.bar || back.total != noisy.total {
		t.Errorf("round trip: %v bar %v total %v", err, back.bar, back.total)
	}
	if err := back.UnmarshalState(codec.NewDec(e.Bytes())); err != nil || back.total != 2*noisy.total || back.bar != noisy.bar {
		t.Errorf("merge: %v bar %v total %v", err, back.bar, back.total)
	}
	if err := back.UnmarshalState(codec.NewDec([]byte{5, 99})); err == nil {
		t.Error("corrupt blob accepted")
	}
}

func TestLadder(t *testing.T) {
	f := func(floor, v, want float64) {
		t.Helper()
		if got := ladder(floor, v); got != want {
			t.Errorf("ladder(%v, %v) = %v, want %v", floor, v, got, want)
		}
	}
	f(10, 4, 10)
	f(10, 10, 10)
	f(10, 11, 14)
	f(10, 20, 20)
	f(10, 21, 28)
	f(10, 100, 113)
}
