package outlier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"winnow/internal/app"
	"winnow/internal/detect"
	"winnow/internal/detect/detecttest"
	"winnow/internal/detect/outlier"
	"winnow/internal/event"
	"winnow/internal/testdata"
)

func countSpec(t *testing.T, name string) detect.Spec {
	t.Helper()
	for _, s := range outlier.FamilySpecs() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no spec %s", name)
	return detect.Spec{}
}

// A host with Poisson(2) failed logins a minute for two days, then a run
// of minutes at 7–9 (none extreme) is one finding; the quiet days none.
func TestOutlierCountSynthetic(t *testing.T) {
	s := countSpec(t, "series.failed_logins_by_host_outlier_count")
	p, _ := detect.NewParams(&s, nil)
	d, err := s.New(p)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	var got []event.Alert
	emit := func(a event.Alert) { got = append(got, a) }
	t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	fail := func(m int, n int) {
		for i := range n {
			ev := event.Event{Time: t0.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Second), Kind: event.KindAuth,
				Action: event.ActLoginFailure, Outcome: event.OutcomeFailure, Method: "password", Host: "web1", Raw: []byte("Failed password")}
			d.Observe(&ev, emit)
		}
		d.Advance(t0.Add(time.Duration(m+1)*time.Minute), emit)
	}
	poisson := func(l float64) int {
		n, p := 0, r.Float64()
		for e := 2.718281828459045; p > 1/pow(e, l); n++ {
			p *= r.Float64()
		}
		return n
	}
	for m := range 2 * 1440 {
		fail(m, poisson(2))
	}
	if len(got) != 0 {
		t.Fatalf("%d findings on Poisson noise: %s", len(got), got[0].Description)
	}
	for m := 2 * 1440; m < 2*1440+10; m++ {
		fail(m, 7+r.IntN(3))
	}
	d.Flush(emit)
	if len(got) != 1 || got[0].Entity.Value != "web1" || got[0].Evidence["outlier_minutes"].(int) < 5 {
		t.Fatalf("findings %+v", got)
	}
}

func pow(b, e float64) float64 {
	r := 1.0
	for i := 0; i < int(e); i++ {
		r *= b
	}
	return r
}

// TestOutlierCountSecrepo: on secrepo's auth.log every outlier-count
// finding on the host falls within a brute-force episode found by
// auth.brute_force.
func TestOutlierCountSecrepo(t *testing.T) {
	if detecttest.Race {
		t.Skip("a whole real log: run without -race (make test runs both)")
	}
	var out, errb bytes.Buffer
	o := app.AnalyzeOptions{Args: []string{testdata.File(t, "auth-logs/secrepo/auth.log")}, Year: 2016, TZ: "UTC",
		Only: []string{"series.failed_logins_by_host_outlier_count", "auth.brute_force"}, MinSeverity: "info", Output: "json",
		Stdout: &out, Stderr: &errb, Quiet: true}
	if code, err := app.Analyze(context.Background(), o); err != nil || code != 0 {
		t.Fatalf("analyze: %d %v %s", code, err, errb.String())
	}
	type span struct{ start, end string }
	var counts, brute []span
	for _, l := range strings.Split(out.String(), "\n") {
		if !strings.Contains(l, `"record":"finding"`) {
			continue
		}
		var d struct {
			Event struct{ Start, End string } `json:"event"`
			Rule  struct{ Name string }       `json:"rule"`
		}
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		sp := span{d.Event.Start, d.Event.End}
		if d.Rule.Name == "auth.brute_force" {
			brute = append(brute, sp)
		} else {
			counts = append(counts, sp)
		}
	}
	t.Logf("%d outlier-count findings, %d brute-force episodes", len(counts), len(brute))
	if len(counts) < 3 {
		t.Fatalf("%d outlier-count findings, want ≥ 3", len(counts))
	}
	for _, c := range counts {
		ok := false
		for _, b := range brute {
			if c.start <= b.end && b.start <= c.end {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("outlier-count finding %s–%s overlaps no brute-force episode", c.start, c.end)
		}
	}
}
