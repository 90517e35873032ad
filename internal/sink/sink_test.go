package sink_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/sink"
	"winnow/internal/sink/sinktest"
)

// memory is a sink that records incident ids.
func memory(id string) (*sink.Func, func() []string) {
	var mu sync.Mutex
	var got []string
	s := &sink.Func{ID: id, F: func(f *sink.Finding) error {
		mu.Lock()
		got = append(got, f.Incident)
		mu.Unlock()
		return nil
	}}
	return s, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), got...) }
}

func TestFanoutConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) (sink.Sink, func() []string) {
		a, gotA := memory("a")
		b, gotB := memory("b")
		return sink.NewFanout(a, b), func() []string {
			ga, gb := gotA(), gotB()
			if len(ga) != len(gb) {
				t.Errorf("sinks disagree: %v vs %v", ga, gb)
			}
			return ga
		}
	})
}

// One failing sink does not keep findings from the others.
func TestFanoutIsolation(t *testing.T) {
	bad := &sink.Func{ID: "bad", F: func(*sink.Finding) error { return errors.New("disk full") }}
	good, got := memory("good")
	fo := sink.NewFanout(bad, good)
	err := fo.Write(sinktest.Finding("x"))
	if err == nil || !errors.Is(err, err) || len(got()) != 1 {
		t.Fatalf("err %v, good got %v", err, got())
	}
	if e := fo.WriteErrors(); e[0] != 1 || e[1] != 0 {
		t.Fatalf("WriteErrors %v", e)
	}
}

// Concurrent writers (detector shards) are serialised.
func TestFanoutConcurrent(t *testing.T) {
	m, got := memory("m")
	fo := sink.NewFanout(m)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_ = fo.Write(sinktest.Finding("x"))
			}
		}()
	}
	wg.Wait()
	if n := len(got()); n != 800 {
		t.Fatalf("%d findings, want 800", n)
	}
	_ = fo.Close(context.Background())
}

func TestIncidents(t *testing.T) {
	var mu sync.Mutex
	var got []sink.Finding
	out := &sink.Func{ID: "m", F: func(f *sink.Finding) error {
		mu.Lock()
		got = append(got, *f)
		mu.Unlock()
		return nil
	}}
	in := sink.NewIncidents(out, 10)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ip := event.Entity{Type: event.EntityIP, Value: "192.0.2.1"}
	bf := func(open bool, end time.Duration) event.Alert {
		return event.Alert{Rule: "auth.brute_force", Entity: ip, Start: t0, End: t0.Add(end), Severity: 73, Score: 1, Open: open}
	}
	in.Emit(bf(true, time.Minute))
	in.Emit(bf(true, 2*time.Minute))
	in.Emit(bf(false, 3*time.Minute))
	in.Emit(event.Alert{Rule: "auth.root_login", Entity: ip, Start: t0, Severity: 47, Score: 1})
	if len(got) != 4 {
		t.Fatalf("%d reports", len(got))
	}
	id := got[0].Incident
	for i, want := range []struct {
		update int
		open   bool
	}{{0, true}, {1, true}, {2, false}, {0, false}} {
		if got[i].Update != want.update || got[i].Open != want.open {
			t.Errorf("report %d: update %d open %v, want %d %v", i, got[i].Update, got[i].Open, want.update, want.open)
		}
	}
	if got[1].Incident != id || got[2].Incident != id || got[3].Incident == id {
		t.Errorf("incident ids %v", got)
	}
	if r := got[3].Risk; r < 0.85 || r > 0.86 { // 1-(1-.73)(1-.47)
		t.Errorf("risk %v, want 0.857", r)
	}
	if open, _ := in.OpenCount(); open != 0 {
		t.Errorf("%d open after the close", open)
	}
	// Bounded: 100 episodes left open keep at most 10.
	for i := range 100 {
		a := bf(true, 0)
		a.Start = t0.Add(time.Duration(i) * time.Hour)
		in.Emit(a)
	}
	if open, forgotten := in.OpenCount(); open != 10 || forgotten != 90 {
		t.Errorf("open %d forgotten %d, want 10 and 90", open, forgotten)
	}
}
