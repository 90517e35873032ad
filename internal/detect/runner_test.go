package detect

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"testing"
	"time"

	"winnow/internal/event"
)

// counter counts events per key value and emits one alert per value at
// Flush. It checks the Runner's contract: per-instance order by time and
// single-goroutine use.
type counter struct {
	key      Key
	counts   map[string]int
	last     time.Time
	advances int
	busy     sync.Mutex // TryLock fails if two goroutines enter at once
	t        *testing.T
}

func (c *counter) Observe(ev *event.Event, emit Emit) {
	if !c.busy.TryLock() {
		c.t.Error("detector used from two goroutines at once")
		return
	}
	defer c.busy.Unlock()
	if ev.Time.Before(c.last) {
		c.t.Errorf("events out of order: %v after %v", ev.Time, c.last)
	}
	c.last = ev.Time
	v, _ := KeyValue(c.key, ev)
	c.counts[v]++
}

func (c *counter) Advance(time.Time, Emit) { c.advances++ }

func (c *counter) Flush(emit Emit) {
	for v, n := range c.counts {
		emit(event.Alert{Rule: "test." + c.key.String(), Entity: event.Entity{Type: event.EntityIP, Value: v},
			Evidence: map[string]any{"n": n}})
	}
}

func (c *counter) Stats() Stats { return Stats{Entities: len(c.counts)} }

func counterSpec(t *testing.T, name string, key Key, actions ...event.Action) Spec {
	return Spec{Name: name, Key: key, Kinds: []event.Kind{event.KindAuth}, Actions: actions,
		New: func(Params) (Detector, error) { return &counter{key: key, counts: map[string]int{}, t: t}, nil }}
}

func enable(t *testing.T, specs ...Spec) []Enabled {
	var r Registry
	var out []Enabled
	for _, s := range specs {
		r.MustRegister(s)
		sp, _ := r.Get(s.Name)
		p, err := NewParams(sp, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Enabled{Spec: sp, Params: p})
	}
	return out
}

func genEvents(n int) []event.Event {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{
			Time:   t0.Add(time.Duration(i) * time.Second),
			Kind:   event.KindAuth,
			Action: event.ActLoginFailure,
			SrcIP:  netip.AddrFrom4([4]byte{10, 0, byte(i % 7), byte(i % 13)}),
			User:   fmt.Sprintf("u%d", i%11),
		}
		if i%5 == 0 {
			evs[i].Action = event.ActLoginSuccess
		}
	}
	return evs
}

func collect() (Emit, func() []event.Alert) {
	var mu sync.Mutex
	var got []event.Alert
	return func(a event.Alert) {
			mu.Lock()
			got = append(got, a)
			mu.Unlock()
		}, func() []event.Alert {
			mu.Lock()
			defer mu.Unlock()
			sort.Slice(got, func(i, j int) bool {
				if got[i].Rule != got[j].Rule {
					return got[i].Rule < got[j].Rule
				}
				return got[i].Entity.Value < got[j].Entity.Value
			})
			return got
		}
}

// TestRunnerShardsByKey checks that every event reaches exactly one
// instance per key, so per-key counts equal the true counts whatever the
// number of workers, and that action filters apply.
func TestRunnerShardsByKey(t *testing.T) {
	evs := genEvents(10000)
	want := map[string]int{}
	wantSucc := map[string]int{}
	for i := range evs {
		want[evs[i].SrcIP.String()]++
		if evs[i].Action == event.ActLoginSuccess {
			wantSucc[evs[i].User]++
		}
	}
	for _, workers := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			emit, got := collect()
			en := enable(t, counterSpec(t, "a.ip", KeySourceIP), counterSpec(t, "b.user", KeyUser, event.ActLoginSuccess))
			r, err := NewRunner(context.Background(), RunnerConfig{Workers: workers, BatchSize: 7}, en, emit)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(evs); i += 333 {
				if err := r.Submit(evs[i:min(i+333, len(evs))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			ip, user := map[string]int{}, map[string]int{}
			for _, a := range got() {
				switch a.Rule {
				case "test.source.ip":
					ip[a.Entity.Value] += a.Evidence["n"].(int)
				case "test.user.name":
					user[a.Entity.Value] += a.Evidence["n"].(int)
				}
			}
			if fmt.Sprint(ip) != fmt.Sprint(want) {
				t.Errorf("per-IP counts:\n got %v\nwant %v", ip, want)
			}
			if fmt.Sprint(user) != fmt.Sprint(wantSucc) {
				t.Errorf("per-user success counts:\n got %v\nwant %v", user, wantSucc)
			}
			st := r.Stats()
			if st["a.ip"].Entities != len(want) || st["b.user"].Entities != len(wantSucc) {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// TestRunnerAdvancesWatermark checks that shards are told event time moved.
func TestRunnerAdvancesWatermark(t *testing.T) {
	var made []*counter
	var mu sync.Mutex
	spec := Spec{Name: "a.ip", Key: KeySourceIP, Kinds: []event.Kind{event.KindAuth},
		New: func(Params) (Detector, error) {
			c := &counter{key: KeySourceIP, counts: map[string]int{}, t: t}
			mu.Lock()
			made = append(made, c)
			mu.Unlock()
			return c, nil
		}}
	emit, _ := collect()
	r, err := NewRunner(context.Background(), RunnerConfig{Workers: 2, Tick: time.Minute}, enable(t, spec), emit)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Submit(genEvents(3600)); err != nil { // one hour of events
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(made) != 2 {
		t.Fatalf("%d instances for 2 workers", len(made))
	}
	for _, c := range made {
		if c.advances < 50 {
			t.Errorf("shard saw %d advances over an hour of events, want ≥ 50", c.advances)
		}
	}
}

// TestRunnerCancel checks that a cancelled context stops Submit and Close.
func TestRunnerCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	block := make(chan struct{})
	spec := Spec{Name: "a.ip", Key: KeySourceIP, Kinds: []event.Kind{event.KindAuth},
		New: func(Params) (Detector, error) { return &blocker{block: block}, nil }}
	emit, _ := collect()
	r, err := NewRunner(ctx, RunnerConfig{Workers: 1, BatchSize: 1, QueueDepth: 1}, enable(t, spec), emit)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Submit(genEvents(100)) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	close(block)
	select {
	case err := <-done:
		if err == nil {
			t.Error("Submit after cancel returned nil, want context error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Submit did not return after cancel")
	}
	if err := r.Close(); err == nil {
		t.Error("Close after cancel returned nil")
	}
}

type blocker struct{ block chan struct{} }

func (b *blocker) Observe(*event.Event, Emit) { <-b.block }
func (b *blocker) Advance(time.Time, Emit)    {}
func (b *blocker) Flush(Emit)                 {}
func (b *blocker) Stats() Stats               { return Stats{} }

func BenchmarkRunnerRoute(b *testing.B) {
	evs := genEvents(4096)
	spec := Spec{Name: "a.ip", Key: KeySourceIP, Kinds: []event.Kind{event.KindAuth},
		New: func(Params) (Detector, error) { return nopDet{}, nil }}
	spec2 := spec
	spec2.Name, spec2.Key = "b.user", KeyUser
	var r0 Registry
	r0.MustRegister(spec)
	r0.MustRegister(spec2)
	var en []Enabled
	for _, s := range r0.Specs() {
		p, _ := NewParams(s, nil)
		en = append(en, Enabled{Spec: s, Params: p})
	}
	r, err := NewRunner(context.Background(), RunnerConfig{Workers: 2}, en, func(event.Alert) {})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		_ = r.Submit(evs)
	}
	_ = r.Close()
	b.ReportMetric(float64(b.N*len(evs))/time.Since(start).Seconds(), "events/s")
}

type nopDet struct{}

func (nopDet) Observe(*event.Event, Emit) {}
func (nopDet) Advance(time.Time, Emit)    {}
func (nopDet) Flush(Emit)                 {}
func (nopDet) Stats() Stats               { return Stats{} }
