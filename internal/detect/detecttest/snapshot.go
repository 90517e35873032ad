// Package detecttest holds conformance checks that every detector family
// runs against its own detectors (STYLE.md item 5). It is imported only by
// tests.
package detecttest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/state"
)

// Reshard is a change of shard count across a restore.
type Reshard struct{ From, To int }

// SnapshotOptions tune CheckSnapshot.
type SnapshotOptions struct {
	// Cuts are the fractions of the events after which a run is cut,
	// snapshotted and resumed (default 0.25, 0.5, 0.8).
	Cuts []float64
	// Reshards are the shard counts before and after each cut (default
	// 2→2, then 2→3 and 3→1 for the detectors that are not ShardBound).
	Reshards []Reshard
	// ShardBound names detectors whose findings depend on how entities are
	// spread over shards (state learned over a whole shard's traffic):
	// they are checked only with an unchanged shard count.
	ShardBound map[string]bool
	// Stateless names detectors that keep no state (they need not be
	// Snapshotters).
	Stateless map[string]bool
}

// CheckSnapshot checks the Snapshotter contract on real runs: for each
// cut, a Runner is fed the events up to the cut, snapshotted, the snapshot
// encoded and decoded (docs/format/state.md) and restored into a new
// Runner — abandoned as a crash would leave it, not flushed — which is fed
// the rest; the findings of the two halves together must equal those of
// one uninterrupted run, exactly (rule, entity, times, severity, score,
// evidence, samples). Every enabled detector must be a Snapshotter unless
// it is listed as stateless. It returns the number of findings of the
// uninterrupted run (so callers can insist the events made some).
func CheckSnapshot(t *testing.T, en []detect.Enabled, evs []event.Event, o SnapshotOptions) int {
	t.Helper()
	if len(o.Cuts) == 0 {
		o.Cuts = []float64{0.25, 0.5, 0.8}
	}
	if len(o.Reshards) == 0 {
		o.Reshards = []Reshard{{2, 2}, {2, 3}, {3, 1}}
	}
	if Race {
		// One cut and one resharding: the caller's last (a caller that
		// asked for an unchanged shard count keeps it).
		o.Cuts, o.Reshards = o.Cuts[len(o.Cuts)/2:len(o.Cuts)/2+1], o.Reshards[len(o.Reshards)-1:]
	}
	checkImplemented(t, en, o.Stateless)
	for _, rs := range o.Reshards {
		sel := en
		if rs.From != rs.To {
			sel = nil
			for _, e := range en {
				if !o.ShardBound[e.Spec.Name] {
					sel = append(sel, e)
				}
			}
		}
		want := runWhole(t, sel, evs, rs.From)
		if rs == o.Reshards[0] {
			compare(t, "a second uninterrupted run (the detectors are not deterministic)", runWhole(t, sel, evs, rs.From), want)
		}
		for _, cut := range o.Cuts {
			n := int(cut * float64(len(evs)))
			got := runCut(t, sel, evs, n, rs)
			compare(t, fmt.Sprintf("cut after %d of %d events, %d→%d shards", n, len(evs), rs.From, rs.To), got, want)
		}
		if rs.From == rs.To && rs == o.Reshards[0] {
			defer func(n int) { t.Logf("snapshot check: %d findings, %d events, %d detectors", n, len(evs), len(en)) }(len(want))
		}
	}
	return len(runWhole(t, en, evs, o.Reshards[0].From))
}

func checkImplemented(t *testing.T, en []detect.Enabled, stateless map[string]bool) {
	t.Helper()
	for _, e := range en {
		d, err := e.Spec.New(e.Params)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := d.(detect.Snapshotter); !ok && !stateless[e.Spec.Name] {
			t.Errorf("%s is not a detect.Snapshotter: its state would not survive a restart", e.Spec.Name)
		}
	}
}

type collector struct {
	mu  sync.Mutex
	out []string
	t   *testing.T
}

func (c *collector) emit(a event.Alert) {
	b, err := state.EncodeFinding(&a)
	if err != nil {
		c.t.Errorf("finding of %s does not encode: %v", a.Rule, err)
		return
	}
	c.mu.Lock()
	c.out = append(c.out, string(b))
	c.mu.Unlock()
}

func (c *collector) sorted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), c.out...)
	sort.Strings(out)
	return out
}

func submit(t *testing.T, r *detect.Runner, evs []event.Event) {
	t.Helper()
	for len(evs) > 0 {
		n := min(len(evs), 1000)
		if err := r.Submit(evs[:n]); err != nil {
			t.Fatal(err)
		}
		evs = evs[n:]
	}
}

func runWhole(t *testing.T, en []detect.Enabled, evs []event.Event, workers int) []string {
	t.Helper()
	c := &collector{t: t}
	r, err := detect.NewRunner(context.Background(), detect.RunnerConfig{Workers: workers}, en, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, r, evs)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return c.sorted()
}

func runCut(t *testing.T, en []detect.Enabled, evs []event.Event, cut int, rs Reshard) []string {
	t.Helper()
	c := &collector{t: t}
	ctx, crash := context.WithCancel(context.Background())
	defer crash()
	r, err := detect.NewRunner(ctx, detect.RunnerConfig{Workers: rs.From}, en, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, r, evs[:cut])
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	crash()
	b := state.Encode(&state.Snapshot{Detect: snap})
	var back state.Snapshot
	if err := state.Decode(b, &back); err != nil {
		t.Fatalf("snapshot does not decode: %v", err)
	}
	r2, err := detect.NewRunner(context.Background(), detect.RunnerConfig{Workers: rs.To}, en, c.emit)
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Restore(back.Detect); err != nil {
		t.Fatal(err)
	}
	submit(t, r2, evs[cut:])
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	return c.sorted()
}

func compare(t *testing.T, what string, got, want []string) {
	t.Helper()
	gm := map[string]int{}
	for _, g := range got {
		gm[g]++
	}
	for _, w := range want {
		gm[w]--
	}
	var extra, missing []string
	for k, n := range gm {
		for ; n > 0; n-- {
			extra = append(extra, k)
		}
		for ; n < 0; n++ {
			missing = append(missing, k)
		}
	}
	if len(extra) == 0 && len(missing) == 0 {
		return
	}
	sort.Strings(extra)
	sort.Strings(missing)
	const show = 3
	t.Errorf("%s: %d findings differ from one run's %d (%d extra, %d missing)\nextra:   %v\nmissing: %v",
		what, len(extra)+len(missing), len(want), len(extra), len(missing), head(extra, show), head(missing, show))
}

func head(l []string, n int) []string {
	if len(l) > n {
		l = l[:n]
	}
	out := make([]string, len(l))
	for i, s := range l {
		if len(s) > 400 {
			s = s[:400] + "…"
		}
		out[i] = s
	}
	return out
}
