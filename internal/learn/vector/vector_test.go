package vector

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func authEv(sec int, ip, user string, ok bool) event.Event {
	ev := event.Event{Time: t0.Add(time.Duration(sec) * time.Second), Kind: event.KindAuth, Action: event.ActLoginFailure,
		Outcome: event.OutcomeFailure, SrcIP: netip.MustParseAddr(ip), User: user, Host: "h1", Raw: []byte("line")}
	if ok {
		ev.Action, ev.Outcome = event.ActLoginSuccess, event.OutcomeSuccess
	}
	return ev
}

func httpEv(sec int, ip, path string, status int) event.Event {
	return event.Event{Time: t0.Add(time.Duration(sec) * time.Second), Kind: event.KindHTTP, Action: event.ActHTTPRequest,
		SrcIP: netip.MustParseAddr(ip), HTTP: &event.HTTP{Method: "GET", Path: path, PathDecoded: path, Status: status, UserAgent: "curl/8", Ext: "php"}}
}

func TestFeatures(t *testing.T) {
	w := NewWindower(Options{Spec: Spec{Key: detect.KeySourceIP, Window: 10 * time.Minute}, Samples: 2})
	var got []*Window
	emit := func(w *Window) { got = append(got, w) }
	evs := []event.Event{
		authEv(0, "10.0.0.1", "root", false), authEv(10, "10.0.0.1", "admin", false), authEv(20, "10.0.0.1", "bob", true),
		httpEv(30, "10.0.0.1", "/a.php", 404), httpEv(40, "10.0.0.1", "/b.php", 200),
		authEv(5, "10.0.0.2", "alice", true),
	}
	for i := range evs {
		w.Add(&evs[i], emit)
	}
	if len(got) != 0 {
		t.Fatalf("windows closed early: %d", len(got))
	}
	w.Advance(t0.Add(9*time.Minute), emit)
	if len(got) != 0 {
		t.Fatal("Advance inside the window closed it")
	}
	w.Advance(t0.Add(10*time.Minute), emit)
	if len(got) != 2 {
		t.Fatalf("%d windows after the window end, want 2", len(got))
	}
	var a *Window
	for _, g := range got {
		if g.Entity == "10.0.0.1" {
			a = g
		}
	}
	x := a.Vector
	f := func(i int, want float64) {
		t.Helper()
		if math.Abs(x[i]-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", Names[i], x[i], want)
		}
	}
	f(FEvents, 5)
	f(FAuth, 3)
	f(FHTTP, 2)
	f(FFailures, 2)
	f(FSuccesses, 1)
	f(FFailureRatio, 2.0/3)
	f(FDistinctUsers, 3)
	f(FRootRatio, 0.2)
	f(F404Ratio, 0.5)
	f(FDistinctPaths, 2)
	f(FScriptExtRatio, 1)
	f(FDuration, 40)
	f(FMeanGap, 10)
	f(FGapCV, 0)
	f(FActiveMinutes, 1)
	if !math.IsNaN(x[FNXDomainRatio]) {
		t.Errorf("DNS ratio without DNS events = %v, want NaN (missing)", x[FNXDomainRatio])
	}
	if len(a.Samples) != 2 || a.Events != 5 || !a.Start.Equal(t0) || !a.End.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("window meta: %d samples, %d events, %v–%v", len(a.Samples), a.Events, a.Start, a.End)
	}
	// The next event of an entity in a later window closes its window.
	got = nil
	e1 := authEv(700, "10.0.0.3", "x", false)
	e2 := authEv(1300, "10.0.0.3", "x", false)
	w.Add(&e1, emit)
	w.Add(&e2, emit)
	if len(got) != 1 || got[0].Events != 1 {
		t.Errorf("later-window event: %d windows", len(got))
	}
	w.Flush(emit)
	if len(got) != 2 || w.Stats().Entities != 0 {
		t.Errorf("flush: %d windows, %d open", len(got), w.Stats().Entities)
	}
}

func TestCaps(t *testing.T) {
	w := NewWindower(Options{Spec: Spec{Key: detect.KeySourceIP, Window: time.Hour, Kinds: []event.Kind{event.KindAuth}}, MaxEntities: 10})
	n := 0
	emit := func(*Window) { n++ }
	for i := range 100 {
		ev := authEv(i, netip.AddrFrom4([4]byte{10, 1, byte(i / 256), byte(i)}).String(), "u", false)
		w.Add(&ev, emit)
	}
	h := httpEv(1, "10.9.9.9", "/", 200)
	w.Add(&h, emit) // not a wanted kind
	st := w.Stats()
	if st.Entities != 10 || st.Deferred != 90 {
		t.Errorf("stats %+v, want 10 entities and 90 deferred", st)
	}
	// Distinct sets saturate.
	acc := NewAcc(w.seed)
	for i := range 5000 {
		ev := httpEv(i, "10.0.0.1", "/p"+string(rune('a'+i%26))+string(rune(i)), 404)
		acc.Add(&ev)
	}
	if v := acc.Vector(nil)[FDistinctPaths]; v != maxDistinct {
		t.Errorf("distinct paths %v, want the cap %d", v, maxDistinct)
	}
}

func TestSchema(t *testing.T) {
	for _, s := range []Spec{
		{Key: detect.KeySourceIP, Window: 10 * time.Minute},
		{Key: detect.KeyUser, Window: time.Hour, Kinds: []event.Kind{event.KindAuth, event.KindHTTP}},
	} {
		got, err := ParseSchema(s.Schema())
		if err != nil || got.Schema() != s.Schema() {
			t.Errorf("%s: %v %v", s.Schema(), got, err)
		}
	}
	for _, bad := range []string{"", "entity-v0/source.ip/10m0s/all", "entity-v1/nokey/10m/all", "entity-v1/source.ip/x/all", "entity-v1/source.ip/1m/zzz"} {
		if _, err := ParseSchema(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	w := NewWindower(Options{Spec: Spec{Key: detect.KeySourceIP, Window: 10 * time.Minute}})
	evs := make([]event.Event, 1024)
	for i := range evs {
		if i%2 == 0 {
			evs[i] = authEv(i, netip.AddrFrom4([4]byte{10, 0, byte(i % 7), byte(i % 13)}).String(), "root", false)
		} else {
			evs[i] = httpEv(i, netip.AddrFrom4([4]byte{10, 0, byte(i % 7), byte(i % 13)}).String(), "/x", 404)
		}
	}
	emit := func(*Window) {}
	b.SetBytes(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.Add(&evs[i%len(evs)], emit)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
