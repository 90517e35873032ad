package detect

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"testing"
	"time"

	"winnow/internal/event"
	"winnow/internal/state/codec"
)

// tally is a Snapshotter: per source address an episode (count, first and
// last time) in a Table that expires after gap, plus a doorkeeper as
// shard state. It reports each episode when it ends.
type tally struct {
	tab  *Table[tallyEp]
	door *Doorkeeper
	gap  time.Duration
}

type tallyEp struct {
	n           int
	first, last time.Time
	users       map[string]int32
}

var tallyCodec = codec.MustFor[tallyEp]()

func (d *tally) Observe(ev *event.Event, emit Emit) {
	key := RouteAddr(ev.SrcIP)
	d.door.AdmitString(key, ev.Time)
	e, created := d.tab.Upsert(key, ev.Time)
	if !created && ev.Time.Sub(e.last) > d.gap {
		d.end(key, e, emit)
		*e = tallyEp{}
		created = true
	}
	if created {
		e.first = ev.Time
	}
	e.last = ev.Time
	e.n++
	if e.users == nil {
		e.users = map[string]int32{}
	}
	e.users[ev.User]++
}

func (d *tally) end(key string, e *tallyEp, emit Emit) {
	var a [16]byte
	copy(a[:], key)
	emit(event.Alert{Rule: "test.tally", Entity: event.Entity{Type: event.EntityIP, Value: netip.AddrFrom16(a).Unmap().String()},
		Start: e.first, End: e.last, Evidence: map[string]any{"n": e.n, "users": len(e.users)}})
}

func (d *tally) Advance(t time.Time, emit Emit) {
	d.tab.Expire(t, d.gap, func(k string, e *tallyEp) { d.end(k, e, emit) })
}
func (d *tally) Flush(emit Emit) { d.tab.Drain(func(k string, e *tallyEp) { d.end(k, e, emit) }) }
func (d *tally) Stats() Stats    { return d.tab.Stats() }

func (d *tally) Snapshot(w *SnapshotWriter) error {
	d.tab.Snapshot(w, 0, tallyCodec, nil)
	var e codec.Enc
	d.door.MarshalState(&e)
	w.Shard(e.Bytes())
	return nil
}

func (d *tally) Restore(r *SnapshotReader) error {
	for _, b := range r.Shards() {
		if err := d.door.UnmarshalState(codec.NewDec(b)); err != nil {
			return err
		}
	}
	return d.tab.Restore(r, 0, tallyCodec, nil)
}

func tallySpec() Spec {
	return Spec{Name: "test.tally", Key: KeySourceIP, Kinds: []event.Kind{event.KindAuth},
		New: func(Params) (Detector, error) {
			return &tally{tab: NewTable[tallyEp](1000, TableOptions[tallyEp]{}), door: NewDoorkeeper(12, time.Hour), gap: 10 * time.Minute}, nil
		}}
}

// tallyEvents: 40 addresses, bursts separated by idle gaps so that
// episodes end mid-stream.
func tallyEvents(n int) []event.Event {
	t0 := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	evs := make([]event.Event, n)
	at := t0
	for i := range evs {
		step := 7 * time.Second
		if i%500 == 499 {
			step = 20 * time.Minute
		}
		at = at.Add(step)
		evs[i] = event.Event{Time: at, Kind: event.KindAuth, Action: event.ActLoginFailure,
			SrcIP: netip.AddrFrom4([4]byte{10, 0, byte(i % 5), byte(i % 8)}), User: fmt.Sprintf("u%d", i%3)}
	}
	return evs
}

type collector struct {
	mu  sync.Mutex
	out []string
}

func (c *collector) emit(a event.Alert) {
	c.mu.Lock()
	c.out = append(c.out, fmt.Sprintf("%s %s %s..%s %v", a.Rule, a.Entity.Value, a.Start.Format(time.TimeOnly), a.End.Format(time.TimeOnly), a.Evidence))
	c.mu.Unlock()
}

func (c *collector) sorted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), c.out...)
	sort.Strings(out)
	return out
}

func runTally(t *testing.T, workers int, evs []event.Event, snapAt int, restoreWorkers int) []string {
	t.Helper()
	en := enable(t, tallySpec())
	var c collector
	ctx := context.Background()
	ctx1, crash := context.WithCancel(ctx)
	defer crash()
	r, err := NewRunner(ctx1, RunnerConfig{Workers: workers, BatchSize: 16}, en, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if snapAt < 0 {
		if err := r.Submit(evs); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		return c.sorted()
	}
	if err := r.Submit(evs[:snapAt]); err != nil {
		t.Fatal(err)
	}
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// The first runner is abandoned as a crash would: no Flush.
	crash()
	r2, err := NewRunner(ctx, RunnerConfig{Workers: restoreWorkers, BatchSize: 16}, en, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if err := r2.Submit(evs[snapAt:]); err != nil {
		t.Fatal(err)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	return c.sorted()
}

// TestRunnerSnapshotRestore: a run cut at any point, snapshotted and
// resumed in a new Runner (with the same or another number of shards),
// reports exactly what one uninterrupted run reports.
func TestRunnerSnapshotRestore(t *testing.T) {
	evs := tallyEvents(3000)
	want := runTally(t, 2, evs, -1, 0)
	if len(want) < 40 {
		t.Fatalf("only %d findings: the test data does not end episodes mid-stream", len(want))
	}
	for _, cut := range []int{0, 1, 499, 500, 1234, 2999, 3000} {
		for _, w := range [][2]int{{2, 2}, {2, 3}, {3, 1}} {
			got := runTally(t, w[0], evs, cut, w[1])
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("cut at %d, %d→%d shards: %d findings differ from one run's %d\n got %v\nwant %v", cut, w[0], w[1], len(got), len(want), got, want)
			}
		}
	}
}

func TestRunnerRestoreRefusesLayoutAndLateCall(t *testing.T) {
	en := enable(t, tallySpec())
	ctx := context.Background()
	r, _ := NewRunner(ctx, RunnerConfig{Workers: 2}, en, func(event.Alert) {})
	evs := tallyEvents(100)
	if err := r.Submit(evs); err != nil {
		t.Fatal(err)
	}
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Restore(snap); err == nil {
		t.Error("Restore after Submit succeeded")
	}
	r.Close()
	snap.Detectors[0].Parts[0].Layout++
	r2, _ := NewRunner(ctx, RunnerConfig{Workers: 2}, en, func(event.Alert) {})
	defer r2.Close()
	if err := r2.Restore(snap); !errors.Is(err, codec.ErrLayout) {
		t.Errorf("changed layout: err %v, want ErrLayout", err)
	}
}

func TestDoorkeeperStateRoundTrip(t *testing.T) {
	d := NewDoorkeeper(12, time.Hour)
	t0 := time.Unix(1e9, 0)
	for i := 0; i < 200; i++ {
		d.AdmitString(fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second))
	}
	var e codec.Enc
	d.MarshalState(&e)
	d2 := NewDoorkeeper(12, time.Hour)
	if err := d2.UnmarshalState(codec.NewDec(e.Bytes())); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if !d2.AdmitString(fmt.Sprint(i), t0.Add(300*time.Second)) {
			t.Fatalf("key %d forgotten", i)
		}
	}
	// Truncated input: an error, and the receiver keeps its bits.
	d3 := NewDoorkeeper(12, time.Hour)
	b := e.Bytes()
	if err := d3.UnmarshalState(codec.NewDec(b[:len(b)-3])); !errors.Is(err, codec.ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	for _, w := range d3.cur {
		if w != 0 {
			t.Fatal("receiver changed after an error")
		}
	}
}

// TestRouteOfMatchesRunner: the route of an event for each key hashes to
// the shard the Runner sends the event to (restored entries must land
// where their entity's events go).
func TestRouteOfMatchesRunner(t *testing.T) {
	r := &Runner{seed: 99}
	ev := event.Event{SrcIP: netip.MustParseAddr("192.0.2.1"), DstIP: netip.MustParseAddr("2001:db8::2"), User: "alice",
		Host: "web-01", HTTP: &event.HTTP{Site: "example.org"}, DNS: &event.DNS{Registered: "example.com"}}
	for k := Key(1); k < keyCount; k++ {
		route, ok := RouteOf(k, &ev)
		h, ok2 := r.keyHash(k, &ev)
		if ok != ok2 || (ok && RouteHash(99, route) != h) {
			t.Errorf("key %v: route %q (ok %v) hashes to %x, the runner's hash is %x (ok %v)", k, route, ok, RouteHash(99, route), h, ok2)
		}
	}
}

// TestSnapshotSelectPartitions: a snapshot split into partitions by route,
// each restored into its own Runner that is then fed the events of its
// partitions only, reports — all partitions together — what one Runner
// reports over everything (the scale-out path: each process owns some
// partitions and restores their entities).
func TestSnapshotSelectPartitions(t *testing.T) {
	evs := tallyEvents(3000)
	want := runTally(t, 2, evs, -1, 0)
	en := enable(t, tallySpec())
	const parts = 3
	const seed = 7
	part := func(route string) uint64 { return RouteHash(seed, route) % parts }
	var c collector
	ctx, crash := context.WithCancel(context.Background())
	defer crash()
	r, err := NewRunner(ctx, RunnerConfig{Workers: 2, Seed: seed}, en, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	cut := 1500
	if err := r.Submit(evs[:cut]); err != nil {
		t.Fatal(err)
	}
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	crash()
	for p := uint64(0); p < parts; p++ {
		sub := snap.Select(func(_ Key, route string) bool { return part(route) == p })
		rp, err := NewRunner(context.Background(), RunnerConfig{Workers: 1}, en, c.emit)
		if err != nil {
			t.Fatal(err)
		}
		if err := rp.Restore(sub); err != nil {
			t.Fatal(err)
		}
		var mine []event.Event
		for _, ev := range evs[cut:] {
			if part(RouteAddr(ev.SrcIP)) == p {
				mine = append(mine, ev)
			}
		}
		if err := rp.Submit(mine); err != nil {
			t.Fatal(err)
		}
		if err := rp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.sorted(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("partitions together: %d findings, one runner %d", len(got), len(want))
	}
}

// FuzzDoorkeeperState: any bytes either decode into a doorkeeper — and a
// doorkeeper holding the result encodes to bytes that decode to the same
// bits — or fail with codec.ErrCorrupt, leaving the receiver unchanged.
func FuzzDoorkeeperState(f *testing.F) {
	d := NewDoorkeeper(10, time.Hour)
	for i := 0; i < 50; i++ {
		d.AdmitString(fmt.Sprint(i), time.Unix(1e9, 0))
	}
	var e codec.Enc
	d.MarshalState(&e)
	f.Add(e.Bytes())
	f.Add(e.Bytes()[:len(e.Bytes())/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewDoorkeeper(10, time.Hour)
		r.AdmitString("sentinel", time.Unix(5, 0))
		before := append(append([]uint64(nil), r.cur...), r.old...)
		rotated := r.rotated
		err := r.UnmarshalState(codec.NewDec(b))
		if err != nil {
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if fmt.Sprint(append(append([]uint64(nil), r.cur...), r.old...)) != fmt.Sprint(before) || r.rotated != rotated {
				t.Fatal("receiver changed after an error")
			}
			return
		}
		var e1, e2 codec.Enc
		r.MarshalState(&e1)
		r2 := NewDoorkeeper(10, time.Hour)
		if err := r2.UnmarshalState(codec.NewDec(e1.Bytes())); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		r2.MarshalState(&e2)
		if string(e1.Bytes()) != string(e2.Bytes()) {
			t.Fatal("round trip is not exact")
		}
	})
}
