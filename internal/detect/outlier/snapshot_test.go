package outlier

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/event"
	authgen "winnow/internal/generate"
	"winnow/internal/generate/weblog"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
	"winnow/internal/parse/authlog"
	"winnow/internal/state/codec"
)

// TestSnapshotRestore: every series detector's state — the entities'
// ensembles with their detectors' own state, open minutes and batches,
// episodes, daily peaks, category mixes — survives a restart in the
// middle of a generated auth day and web day with their planted attacks:
// the findings of a run cut, snapshotted and resumed equal one run's.
func TestSnapshotRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("a day of series on two shards, several times")
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	acfg := authgen.DefaultAuthConfig()
	if _, err := authgen.Auth(&buf, acfg); err != nil {
		t.Fatal(err)
	}
	authPath := filepath.Join(dir, "auth.log")
	os.WriteFile(authPath, buf.Bytes(), 0o600)
	webPath := filepath.Join(dir, "access.log")
	f, _ := os.Create(webPath)
	wc := weblog.DefaultConfig()
	wc.Lines = 30000
	if _, err := weblog.Generate(f, wc); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fm := &parse.Formats{}
	fm.Add(authlog.Format())
	fm.Add(access.Format())
	var evs []event.Event
	evs = append(evs, detecttest.ReadEvents(t, fm, 2026, authPath)...)
	evs = append(evs, detecttest.ReadEvents(t, fm, 2026, webPath)...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	var reg detect.Registry
	Register(&reg)
	var en []detect.Enabled
	for _, s := range reg.Specs() {
		p, err := detect.NewParams(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		en = append(en, detect.Enabled{Spec: s, Params: p})
	}
	if n := detecttest.CheckSnapshot(t, en, evs, detecttest.SnapshotOptions{Cuts: []float64{0.3, 0.7},
		Reshards: []detecttest.Reshard{{From: 2, To: 2}, {From: 2, To: 3}}}); n < 5 {
		t.Errorf("only %d findings: the data does not exercise the series", n)
	}
}

// FuzzEnsembleState: any bytes either decode into an ensemble that
// encodes to bytes which decode and encode again alike, or fail with
// codec.ErrCorrupt (or codec.ErrLayout) leaving the receiver unchanged.
func FuzzEnsembleState(f *testing.F) {
	e := MustEnsemble(DefaultEnsembleConfig())
	t0 := time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC)
	for i := 0; i < 300; i++ {
		e.Update(t0.Add(time.Duration(i)*time.Minute), float64(i%7))
	}
	var enc codec.Enc
	e.MarshalState(&enc)
	f.Add(enc.Bytes())
	f.Add(enc.Bytes()[:len(enc.Bytes())/3])
	var empty codec.Enc
	MustEnsemble(DefaultEnsembleConfig()).MarshalState(&empty)
	f.Add(empty.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Ensemble
		if err := got.UnmarshalState(codec.NewDec(b)); err != nil {
			if !errors.Is(err, codec.ErrCorrupt) && !errors.Is(err, codec.ErrLayout) {
				// A configuration that does not validate is reported as is.
				if got.st != nil {
					t.Fatalf("receiver changed after %v", err)
				}
				return
			}
			if got.st != nil {
				t.Fatal("receiver changed after an error")
			}
			return
		}
		var e1, e2 codec.Enc
		got.MarshalState(&e1)
		var again Ensemble
		if err := again.UnmarshalState(codec.NewDec(e1.Bytes())); err != nil {
			t.Fatalf("re-encoded ensemble does not decode: %v", err)
		}
		again.MarshalState(&e2)
		if string(e1.Bytes()) != string(e2.Bytes()) {
			t.Fatal("round trip is not exact")
		}
	})
}
