package bayes

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/event"
	"winnow/internal/generate"
	"winnow/internal/generate/weblog"
	"winnow/internal/parse"
	"winnow/internal/parse/access"
	"winnow/internal/parse/authlog"
)

func enabledModel(t *testing.T, m *Model) []detect.Enabled {
	s := Spec(m)
	p, err := detect.NewParams(&s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return []detect.Enabled{{Spec: &s, Params: p}}
}

// TestSnapshotRestore: the filters' open episodes survive a restart: the
// auth filter (trained on one generated day, run on another; its episodes
// are shard state) and the HTTP filter (on a generated web day): the
// findings of a run cut, snapshotted and resumed equal one run's.
func TestSnapshotRestore(t *testing.T) {
	dir := t.TempDir()
	authDay := func(seed int64) string {
		var buf bytes.Buffer
		cfg := generate.DefaultAuthConfig()
		cfg.Seed = seed
		truth, err := generate.Auth(&buf, cfg)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "auth.log")
		os.WriteFile(p, buf.Bytes(), 0o600)
		_ = truth
		return p
	}
	// Train on day 1 (its attackers are the bad class).
	var buf bytes.Buffer
	cfg := generate.DefaultAuthConfig()
	truth, err := generate.Auth(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]bool{}
	for _, a := range truth.Attacks {
		for _, ip := range a.SourceIPs {
			bad[ip] = true
		}
	}
	ap := authlog.New(parse.Options{Year: 2026, Location: time.UTC})
	tr := NewTrainer(KindAuth, Split{Seed: 1, Fraction: 0.2})
	tok := NewTokens()
	for i, line := range bytes.Split(buf.Bytes(), []byte("\n")) {
		var ev event.Event
		if ap.Parse(line, &ev) != nil || ev.Kind != event.KindAuth {
			continue
		}
		tok.Reset()
		tok.Auth(&ev)
		tr.Add("day1", int64(i), tok, ev.SrcIP.IsValid() && bad[ev.SrcIP.String()])
	}
	if _, err := tr.Finish(DefaultCosts); err != nil {
		t.Fatal(err)
	}
	fa := &parse.Formats{}
	fa.Add(authlog.Format())
	evs := detecttest.ReadEvents(t, fa, 2026, authDay(2))
	if n := detecttest.CheckSnapshot(t, enabledModel(t, tr.Model), evs,
		detecttest.SnapshotOptions{ShardBound: map[string]bool{"bayes.auth": true}}); n < 3 {
		t.Errorf("auth: only %d findings", n)
	}

	web := filepath.Join(dir, "access.log")
	f, _ := os.Create(web)
	wc := weblog.DefaultConfig()
	wc.Lines = 20000
	if _, err := weblog.Generate(f, wc); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fw := &parse.Formats{}
	fw.Add(access.Format())
	if n := detecttest.CheckSnapshot(t, enabledModel(t, toy(t)), detecttest.ReadEvents(t, fw, 2026, web),
		detecttest.SnapshotOptions{}); n < 3 {
		t.Errorf("http: only %d findings", n)
	}
}
