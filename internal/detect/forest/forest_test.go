package forest

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/event"
	"winnow/internal/learn/forest"
	"winnow/internal/learn/vector"
	"winnow/internal/modelfile"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// burst returns n auth events of one source within a minute starting at
// t: failures with many user names when bad, a few successes when good.
func burst(r *rand.Rand, ip string, t time.Time, n int, bad bool) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		ev := event.Event{Time: t.Add(time.Duration(i) * time.Second), Kind: event.KindAuth, SrcIP: netip.MustParseAddr(ip),
			Host: "h", Raw: []byte(fmt.Sprintf("line %d from %s", i, ip)), Ref: event.Ref{File: "auth.log", Line: int64(i + 1)}}
		if bad {
			ev.Action, ev.Outcome, ev.User, ev.InvalidUser = event.ActLoginFailure, event.OutcomeFailure, fmt.Sprintf("u%d", r.IntN(500)), true
		} else {
			ev.Action, ev.Outcome, ev.User = event.ActLoginSuccess, event.OutcomeSuccess, "alice"
		}
		out[i] = ev
	}
	return out
}

func trainModel(t testing.TB, spec vector.Spec) *Compiled {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 1))
	d := &forest.Dataset{Classes: []string{"good", "bad"}}
	for _, n := range vector.Names {
		d.Attrs = append(d.Attrs, forest.Attr{Name: n})
	}
	acc := vector.NewAcc(maphash.MakeSeed())
	for i := range 400 {
		bad := i%4 == 0
		n := 1 + r.IntN(5)
		if bad {
			n = 20 + r.IntN(40)
		}
		acc.Reset()
		for _, ev := range burst(r, "10.0.0.1", t0, n, bad) {
			acc.Add(&ev)
		}
		y := 0
		if bad {
			y = 1
		}
		d.Add(acc.Vector(nil), y)
	}
	cfg := forest.DefaultConfig()
	cfg.Trees = 20
	f, _, err := forest.Train(d, 1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &Compiled{Model: ForestModel{F: f}, Spec: spec, Threshold: 0.5, Algo: "random forest", Source: "test.wnm"}
}

func run(t *testing.T, c *Compiled, evs []event.Event, set map[string]string) []event.Alert {
	t.Helper()
	s := Spec(c)
	p, err := detect.NewParams(&s, set)
	if err != nil {
		t.Fatal(err)
	}
	det, err := s.New(p)
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Alert
	emit := func(a event.Alert) { out = append(out, a) }
	for i := range evs {
		det.Observe(&evs[i], emit)
		det.Advance(evs[i].Time, emit)
	}
	det.Flush(emit)
	return out
}

func TestDetector(t *testing.T) {
	spec := vector.Spec{Key: detect.KeySourceIP, Window: 10 * time.Minute, Kinds: []event.Kind{event.KindAuth}}
	c := trainModel(t, spec)
	r := rand.New(rand.NewPCG(2, 2))
	var evs []event.Event
	// A brute-forcer active in three consecutive windows, then again a
	// day later; a normal user every hour.
	for w := range 3 {
		evs = append(evs, burst(r, "203.0.113.9", t0.Add(time.Duration(w)*10*time.Minute), 30, true)...)
	}
	for h := range 30 {
		evs = append(evs, burst(r, "192.0.2.1", t0.Add(time.Duration(h)*time.Hour+5*time.Minute), 2, false)...)
	}
	evs = append(evs, burst(r, "203.0.113.9", t0.Add(24*time.Hour), 30, true)...)
	sortByTime(evs)
	alerts := run(t, c, evs, nil)
	if len(alerts) != 2 {
		for _, a := range alerts {
			t.Log(a.Entity, a.Start, a.Description)
		}
		t.Fatalf("%d findings, want 2 (one per episode of the brute-forcer)", len(alerts))
	}
	a := alerts[0]
	if a.Rule != "forest.source_ip" || a.Entity.Value != "203.0.113.9" || a.SourceIP.String() != "203.0.113.9" {
		t.Errorf("finding %s on %v", a.Rule, a.Entity)
	}
	if a.Evidence["windows"] != 3 || a.Evidence["events_in_episode"] != 90 || !a.Start.Equal(t0) {
		t.Errorf("episode evidence %v, start %v", a.Evidence, a.Start)
	}
	if tf, _ := a.Evidence["top_features"].(string); !strings.Contains(tf, "=") || len(a.Samples) == 0 {
		t.Errorf("explanation %q, %d samples", tf, len(a.Samples))
	}
	if !strings.Contains(a.Description, "random forest scores ip:203.0.113.9") {
		t.Errorf("description %q", a.Description)
	}
	// threshold=1.01 is refused; threshold=1 silences all but certain ones.
	s := Spec(c)
	if p, _ := detect.NewParams(&s, map[string]string{"threshold": "1.5"}); true {
		if _, err := s.New(p); err == nil {
			t.Error("threshold 1.5 accepted")
		}
	}
}

func sortByTime(evs []event.Event) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Time.Before(evs[j-1].Time); j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

func TestTreePath(t *testing.T) {
	spec := vector.Spec{Key: detect.KeySourceIP, Window: 10 * time.Minute, Kinds: []event.Kind{event.KindAuth}}
	c := trainModel(t, spec)
	// Retrain as one tree.
	f := c.Model.(ForestModel).F
	one := &forest.Forest{Attrs: f.Attrs, Classes: f.Classes, Positive: 1, Threshold: 0.5, Trees: f.Trees[:1]}
	c2 := &Compiled{Model: ForestModel{F: one}, Spec: spec, Threshold: 0.5, Algo: "CART tree", Source: "t.wnm"}
	r := rand.New(rand.NewPCG(3, 3))
	alerts := run(t, c2, burst(r, "203.0.113.7", t0, 40, true), nil)
	if len(alerts) != 1 {
		t.Fatalf("%d findings", len(alerts))
	}
	if p, _ := alerts[0].Evidence["tree_path"].(string); !strings.Contains(p, " ") {
		t.Errorf("no tree path: %v", alerts[0].Evidence)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	spec := vector.Spec{Key: detect.KeyUser, Window: time.Hour}
	c := trainModel(t, spec)
	f := c.Model.(ForestModel).F
	good := filepath.Join(dir, "m.wnm")
	if err := f.Save(good, modelfile.Header{Schema: spec.Schema(), Site: "lab"}); err != nil {
		t.Fatal(err)
	}
	got, warn, err := Load(good, "lab", false)
	if err != nil || len(warn) != 0 || got.Spec.Schema() != spec.Schema() || Spec(got).Name != "forest.user" {
		t.Fatalf("load: %v %v", err, warn)
	}
	if _, warn, err := Load(good, "elsewhere", false); err != nil || len(warn) != 1 {
		t.Errorf("foreign site: %v %v", warn, err)
	}
	if _, _, err := Load(good, "elsewhere", true); !errors.Is(err, modelfile.ErrSite) {
		t.Errorf("strict foreign site: %v", err)
	}
	csv := filepath.Join(dir, "csv.wnm")
	if err := f.Save(csv, modelfile.Header{Schema: forest.SchemaOf("csv", f.Attrs)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(csv, "", false); err == nil || !strings.Contains(err.Error(), "CSV") {
		t.Errorf("CSV model: %v", err)
	}
	old := filepath.Join(dir, "old.wnm")
	if err := f.Save(old, modelfile.Header{Schema: "entity-v0/source.ip/1h0m0s/all"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(old, "", false); !errors.Is(err, modelfile.ErrVersion) {
		t.Errorf("old feature version: %v", err)
	}
	other := filepath.Join(dir, "other.wnm")
	if err := modelfile.WriteFile(other, modelfile.Header{Type: "rules", TypeVersion: 1, Schema: spec.Schema()}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(other, "", false); !errors.Is(err, modelfile.ErrType) {
		t.Errorf("other type: %v", err)
	}
}

func BenchmarkDetector(b *testing.B) {
	spec := vector.Spec{Key: detect.KeySourceIP, Window: 10 * time.Minute, Kinds: []event.Kind{event.KindAuth}}
	c := trainModel(b, spec)
	s := Spec(c)
	p, _ := detect.NewParams(&s, nil)
	det, _ := s.New(p)
	r := rand.New(rand.NewPCG(4, 4))
	var evs []event.Event
	for i := range 200 {
		evs = append(evs, burst(r, netip.AddrFrom4([4]byte{10, 0, byte(i), 1}).String(), t0.Add(time.Duration(i)*time.Minute), 20, i%3 == 0)...)
	}
	emit := func(event.Alert) {}
	b.SetBytes(100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := evs[i%len(evs)]
		ev.Time = ev.Time.Add(time.Duration(i/len(evs)) * 24 * time.Hour)
		det.Observe(&ev, emit)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
